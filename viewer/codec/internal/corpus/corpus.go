// Package corpus gives the codec tests what they need from the test corpus
// beyond what internal/corpustest (the manifest, the reference arrays) loads
// for every package: the code streams of an encapsulated file's frames (located with viewer/dataset),
// the samples of an uncompressed one, the reference stored values and frame
// hashes, the command-line tools a test needs (failing under CI=true when one is
// missing), and the corpus seeding and sample-count check of the fuzz tests.
package corpus

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"teleread/internal/corpustest"
	"teleread/viewer/codec"
	"teleread/viewer/dataset"
)

// Entry is one manifest entry (the loader is internal/corpustest, shared by
// every package's tests).
type Entry = corpustest.Entry

// Dir returns the corpus folder. When it is missing the test is skipped, or
// fails under CI=true, where a missing dependency must not pass silently.
func Dir(tb testing.TB) string {
	tb.Helper()
	return corpustest.Dir(tb)
}

// Entries returns the manifest entries whose transfer syntax UID is one of uids.
func Entries(tb testing.TB, dir string, uids ...string) []Entry {
	tb.Helper()
	var out []Entry
	for _, e := range corpustest.Manifest(tb, dir) {
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
// so that every reference dtype fits. Only integer arrays are references of
// stored values.
func Reference0(dir string, e *Entry) ([]int64, error) {
	if strings.HasPrefix(e.Reference.Dtype, "<f") {
		return nil, fmt.Errorf("%s: dtype %s", e.ID, e.Reference.Dtype)
	}
	v, err := corpustest.Samples(dir, e, 0)
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
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
