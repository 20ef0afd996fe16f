// Package corpus gives the codec tests what they need from the test corpus
// (testdata/corpus in the repository, or $TELEREAD_CORPUS): its manifest, the
// code streams of an encapsulated file's frames (located with viewer/dataset),
// the samples of an uncompressed one, the reference stored values and frame
// hashes, the command-line tools a test needs (failing under CI=true when one is
// missing), and the corpus seeding and sample-count check of the fuzz tests.
package corpus

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"teleread/viewer/codec"
	"teleread/viewer/dataset"
)

// Entry is the part of one MANIFEST.json entry the codec tests use.
type Entry struct {
	ID     string   `json:"id"`
	File   string   `json:"file"`
	Tags   []string `json:"tags"`
	Broken bool     `json:"broken"`
	DICOM  struct {
		TransferSyntaxUID   string `json:"transfer_syntax_uid"`
		Rows                int    `json:"rows"`
		Columns             int    `json:"columns"`
		NumberOfFrames      *int   `json:"number_of_frames"`
		SamplesPerPixel     int    `json:"samples_per_pixel"`
		Photometric         string `json:"photometric_interpretation"`
		BitsAllocated       int    `json:"bits_allocated"`
		BitsStored          int    `json:"bits_stored"`
		PixelRepresentation int    `json:"pixel_representation"`
	} `json:"dicom"`
	Reference struct {
		Status            string   `json:"status"`
		DecodedColorSpace string   `json:"decoded_color_space"`
		Dtype             string   `json:"dtype"`
		Shape             []int    `json:"shape"`
		FrameSHA256       []string `json:"frame_sha256"`
		ArrayFile         string   `json:"array_file"`
		NpyDataOffset     int      `json:"npy_data_offset"`
	} `json:"reference"`
	Expectation struct {
		StoredValues string `json:"stored_values"`
		Render       string `json:"render"`
	} `json:"expectation"`
}

// Frames is the entry's Number of Frames (1 when absent).
func (e *Entry) Frames() int {
	if e.DICOM.NumberOfFrames == nil || *e.DICOM.NumberOfFrames < 1 {
		return 1
	}
	return *e.DICOM.NumberOfFrames
}

// Dir returns the corpus folder. When it is missing the test is skipped, or
// fails under CI=true, where a missing dependency must not pass silently.
func Dir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("TELEREAD_CORPUS")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			tb.Fatal(err)
		}
		for d := wd; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				dir = filepath.Join(d, "testdata", "corpus")
				break
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST.json")); err != nil {
		Require(tb, "test corpus not found (set TELEREAD_CORPUS): %v", err)
	}
	return dir
}

// Entries returns the manifest entries whose transfer syntax UID is one of uids.
func Entries(tb testing.TB, dir string, uids ...string) []Entry {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "MANIFEST.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var m struct {
		Files []Entry `json:"files"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatalf("MANIFEST.json: %v", err)
	}
	var out []Entry
	for _, e := range m.Files {
		for _, u := range uids {
			if e.DICOM.TransferSyntaxUID == u {
				out = append(out, e)
			}
		}
	}
	return out
}

// Frame0 returns the code stream of frame 0 of the encapsulated file at path,
// located with viewer/dataset: the fragments before the second Basic Offset
// Table entry; without a table, one fragment per frame when the counts match,
// else the fragments up to the first one that ends a code stream (FFD9: the EOI
// of JPEG and JPEG-LS and the EOC of JPEG 2000), or all of them for one frame.
func Frame0(path string, frames int) ([]byte, error) {
	f, err := dataset.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	px := f.Pixel
	if px == nil || !px.Encapsulated {
		return nil, fmt.Errorf("%s: no encapsulated Pixel Data", path)
	}
	if len(px.Fragments) == 0 {
		return nil, fmt.Errorf("%s: no fragments", path)
	}
	read := func(fr dataset.Fragment) ([]byte, error) { return f.ReadPixelRange(fr.Offset, fr.Length) }
	if frames > 1 && len(px.Fragments) == frames {
		return read(px.Fragments[0])
	}
	var out []byte
	for i, fr := range px.Fragments {
		if len(px.OffsetTable) > 1 && i < len(px.FragmentItemOffsets) && px.FragmentItemOffsets[i] >= int64(px.OffsetTable[1]) {
			break
		}
		b, err := read(fr)
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
		if len(px.OffsetTable) <= 1 && frames > 1 && bytes.HasSuffix(bytes.TrimRight(out, "\x00"), []byte{0xFF, 0xD9}) {
			break
		}
	}
	return out, nil
}

// Reference0 returns frame 0 of the entry's reference stored values, as int64
// so that every reference dtype fits.
func Reference0(dir string, e *Entry) ([]int64, error) {
	r := &e.Reference
	if r.ArrayFile == "" || len(r.Shape) != 4 {
		return nil, fmt.Errorf("%s: no reference array", e.ID)
	}
	b, err := os.ReadFile(filepath.Join(dir, r.ArrayFile))
	if err != nil {
		return nil, err
	}
	n := r.Shape[1] * r.Shape[2] * r.Shape[3]
	if r.NpyDataOffset > len(b) {
		return nil, fmt.Errorf("%s: short array file", e.ID)
	}
	b = b[r.NpyDataOffset:]
	size := map[string]int{"|u1": 1, "|i1": 1, "<u2": 2, "<i2": 2, "<u4": 4, "<i4": 4}[r.Dtype]
	if size == 0 {
		return nil, fmt.Errorf("%s: dtype %s", e.ID, r.Dtype)
	}
	if len(b) < n*size {
		return nil, fmt.Errorf("%s: array has %d bytes, want %d", e.ID, len(b), n*size)
	}
	out := make([]int64, n)
	for i := range out {
		switch r.Dtype {
		case "|u1":
			out[i] = int64(b[i])
		case "|i1":
			out[i] = int64(int8(b[i]))
		case "<u2":
			out[i] = int64(binary.LittleEndian.Uint16(b[2*i:]))
		case "<i2":
			out[i] = int64(int16(binary.LittleEndian.Uint16(b[2*i:])))
		case "<u4":
			out[i] = int64(binary.LittleEndian.Uint32(b[4*i:]))
		case "<i4":
			out[i] = int64(int32(binary.LittleEndian.Uint32(b[4*i:])))
		}
	}
	return out, nil
}

// Stored returns the decoded samples the way the references hold them: masked
// to Bits Stored and, for Pixel Representation 1, sign-extended from its top bit.
func Stored(img *codec.Image, bitsStored int, signed bool) []int64 {
	var raw []uint64
	switch {
	case img.U8 != nil:
		raw = make([]uint64, len(img.U8))
		for i, v := range img.U8 {
			raw[i] = uint64(v)
		}
	case img.U16 != nil:
		raw = make([]uint64, len(img.U16))
		for i, v := range img.U16 {
			raw[i] = uint64(v)
		}
	default:
		raw = make([]uint64, len(img.U32))
		for i, v := range img.U32 {
			raw[i] = uint64(v)
		}
	}
	mask := uint64(1)<<bitsStored - 1
	out := make([]int64, len(raw))
	for i, v := range raw {
		v &= mask
		if signed && v>>(bitsStored-1)&1 == 1 {
			out[i] = int64(v) - int64(mask) - 1
		} else {
			out[i] = int64(v)
		}
	}
	return out
}

// Diff summarises how far got is from want.
type Diff struct {
	N, Differ   int     // samples, samples that differ
	MaxAbs      int64   // largest |got-want|
	MeanAbs     float64 // mean |got-want|
	Bias        float64 // mean got-want: a systematic error shows here even when every sample is within tolerance
	Within2     float64 // fraction of samples with |got-want| <= 2
	FirstDiffAt int     // index of the first differing sample, -1 when none
}

// MaxBias bounds the mean signed difference from a lossy reference, in
// sample units. Decoders may round an IDCT or wavelet differently, but those
// differences fall on both sides; an error that moves every sample the same
// way (an off-by-one level shift, a biased rounding) stays within the
// per-sample tolerance and shows only here.
const MaxBias = 0.05

// Compare returns the difference between two equally long sample slices.
func Compare(got, want []int64) Diff {
	d := Diff{N: len(want), FirstDiffAt: -1}
	var sum, signed float64
	var in2 int
	for i := range want {
		a := got[i] - want[i]
		signed += float64(a)
		if a < 0 {
			a = -a
		}
		if a != 0 {
			if d.FirstDiffAt < 0 {
				d.FirstDiffAt = i
			}
			d.Differ++
		}
		if a <= 2 {
			in2++
		}
		if a > d.MaxAbs {
			d.MaxAbs = a
		}
		sum += float64(a)
	}
	if d.N > 0 {
		d.MeanAbs = sum / float64(d.N)
		d.Bias = signed / float64(d.N)
		d.Within2 = float64(in2) / float64(d.N)
	}
	return d
}

// Lossy reports whether the entry's stored values are compared with a
// tolerance (the README's "approximate") rather than exactly.
func (e *Entry) Lossy() bool { return strings.EqualFold(e.Expectation.StoredValues, "approximate") }

// WriteGot writes a failing decode, one sample a line, to the system's temp
// folder for a look (the corpus itself is never written to).
func WriteGot(tb testing.TB, name string, got []int64) {
	tb.Helper()
	p := filepath.Join(os.TempDir(), "teleread-codec-"+name+".got.txt")
	var sb strings.Builder
	for _, v := range got {
		fmt.Fprintln(&sb, v)
	}
	_ = os.WriteFile(p, []byte(sb.String()), 0o644)
	tb.Logf("decoded values written to %s", p)
}

// CheckStored compares a decoded frame 0 with the entry's reference: size,
// then the stored values, exactly for "exact" entries and within the README's
// tolerance (mean |diff| <= 1, 99% within 2, and no bias: the mean signed
// difference under MaxBias) for "approximate" ones. Any difference is logged,
// since decoders of the reference's family match exactly.
func CheckStored(tb testing.TB, dir string, e *Entry, img *codec.Image) {
	tb.Helper()
	d := &e.DICOM
	if img.Width != d.Columns || img.Height != d.Rows || img.Components != d.SamplesPerPixel {
		tb.Fatalf("got %dx%dx%d, want %dx%dx%d", img.Width, img.Height, img.Components, d.Columns, d.Rows, d.SamplesPerPixel)
	}
	want, err := Reference0(dir, e)
	if err != nil {
		tb.Fatal(err)
	}
	got := Stored(img, d.BitsStored, d.PixelRepresentation == 1)
	if len(got) != len(want) {
		tb.Fatalf("%d samples, want %d", len(got), len(want))
	}
	diff := Compare(got, want)
	if diff.Differ == 0 {
		return
	}
	tb.Logf("differs from the reference: %+v", diff)
	if !e.Lossy() || diff.MeanAbs > 1 || diff.Within2 < 0.99 || math.Abs(diff.Bias) >= MaxBias {
		WriteGot(tb, e.ID, got)
		tb.Errorf("outside tolerance: %+v", diff)
	}
}
