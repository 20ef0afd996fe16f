// Package corpustest loads the test corpus for every package's tests:
// testdata/corpus in the repository (or $TELEREAD_CORPUS), its MANIFEST.json
// and the reference arrays (NumPy .npy files) decoded independently of
// Teleread. A missing corpus or tool fails a test under CI=true, where a
// missing dependency must not pass silently, and skips it elsewhere.
//
// It imports nothing of Teleread, so that the tests of any package (the DICOM
// parser's included) can use it.
package corpustest

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// EnvDir names the environment variable that points at a corpus elsewhere.
const EnvDir = "TELEREAD_CORPUS"

// Entry is one MANIFEST.json entry: the parts the tests read, typed, and the
// whole entry as it was written (Raw) for a test that reads more.
type Entry struct {
	ID         string   `json:"id"`
	File       string   `json:"file"` // relative to the corpus folder: files/<id>.dcm
	Tags       []string `json:"tags"`
	Broken     bool     `json:"broken"`
	FileSize   int64    `json:"file_size"`
	FileSHA256 string   `json:"file_sha256"`
	DICOM      struct {
		TransferSyntaxUID   string `json:"transfer_syntax_uid"`
		TransferSyntaxName  string `json:"transfer_syntax_name"`
		DetectedEncoding    string `json:"detected_encoding"`
		Modality            string `json:"modality"`
		Rows                int    `json:"rows"`
		Columns             int    `json:"columns"`
		NumberOfFrames      *int   `json:"number_of_frames"`
		SamplesPerPixel     int    `json:"samples_per_pixel"`
		Photometric         string `json:"photometric_interpretation"`
		BitsAllocated       int    `json:"bits_allocated"`
		BitsStored          int    `json:"bits_stored"`
		PixelRepresentation int    `json:"pixel_representation"`
	} `json:"dicom"`
	// Info holds the identifying values of the file's header as pydicom read
	// them (Raw has the whole block).
	Info struct {
		TransferSyntaxUID string `json:"TransferSyntaxUID"`
		SOPClassUID       string `json:"SOPClassUID"`
		SOPInstanceUID    string `json:"SOPInstanceUID"`
		StudyInstanceUID  string `json:"StudyInstanceUID"`
		SeriesInstanceUID string `json:"SeriesInstanceUID"`
		Modality          string `json:"Modality"`
	} `json:"info"`
	Reference struct {
		Status            string   `json:"status"` // "ok" when there is a reference decode
		DecodedColorSpace string   `json:"decoded_color_space"`
		Dtype             string   `json:"dtype"` // NumPy's: "<u2", "|u1", "<f4", ...
		Shape             []int    `json:"shape"` // frames, rows, columns, samples
		FrameSHA256       []string `json:"frame_sha256"`
		ArrayFile         string   `json:"array_file"`
		ArrayFrames       int      `json:"array_frames"`
		NpyDataOffset     int      `json:"npy_data_offset"`
		Display           struct {
			File           string `json:"file"`
			SubsampledFile string `json:"subsampled_file"`
			SubsampleStep  int    `json:"subsample_step"`
			Shape          []int  `json:"shape"`
			Pipeline       struct {
				Method string `json:"method"`
			} `json:"pipeline"`
		} `json:"display"`
	} `json:"reference"`
	Expectation struct {
		StoredValues string `json:"stored_values"` // "exact" or "approximate"
		Display      string `json:"display"`
		Render       string `json:"render"`
		Import       string `json:"import"` // "accept" or "reject"
	} `json:"expectation"`

	// Raw is the entry's JSON as written in the manifest.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON keeps the entry's own bytes in Raw beside the typed fields.
func (e *Entry) UnmarshalJSON(b []byte) error {
	type plain Entry
	if err := json.Unmarshal(b, (*plain)(e)); err != nil {
		return err
	}
	e.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// Decode reads the entry's JSON into v: for a test that needs a part of the
// entry that Entry does not type.
func (e *Entry) Decode(v any) error {
	if err := json.Unmarshal(e.Raw, v); err != nil {
		return fmt.Errorf("corpustest: entry %s: %w", e.ID, err)
	}
	return nil
}

// Frames is the entry's Number of Frames (1 when absent).
func (e *Entry) Frames() int {
	if e.DICOM.NumberOfFrames == nil || *e.DICOM.NumberOfFrames < 1 {
		return 1
	}
	return *e.DICOM.NumberOfFrames
}

// Lossy reports whether the entry's stored values are compared with a
// tolerance (the README's "approximate") rather than exactly.
func (e *Entry) Lossy() bool { return strings.EqualFold(e.Expectation.StoredValues, "approximate") }

// Path is the entry's file in the corpus folder dir.
func (e *Entry) Path(dir string) string { return filepath.Join(dir, e.File) }

// Require stops the test because something it needs is missing: it fails
// under CI=true and is skipped elsewhere.
func Require(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf(format, args...)
	}
	tb.Skipf(format, args...)
}

// Tool returns the path of the command-line tool name, from the Debian package
// pkg, and stops the test through Require when it is not installed.
func Tool(tb testing.TB, name, pkg string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Require(tb, "%s (Debian package %s) not installed: %v", name, pkg, err)
	}
	return p
}

// Find returns the corpus folder: $TELEREAD_CORPUS, else testdata/corpus in
// the module root above the working directory (a test runs in its package's
// folder). It does not check that the folder holds a corpus.
func Find() string {
	if dir := os.Getenv(EnvDir); dir != "" {
		return dir
	}
	wd, err := os.Getwd()
	if err != nil {
		return filepath.Join("testdata", "corpus")
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "testdata", "corpus")
		}
		if filepath.Dir(d) == d {
			return filepath.Join("testdata", "corpus")
		}
	}
}

// Dir returns the corpus folder, stopping the test through Require when it
// holds no MANIFEST.json.
func Dir(tb testing.TB) string {
	tb.Helper()
	dir := Find()
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST.json")); err != nil {
		Require(tb, "test corpus not found (set %s): %v", EnvDir, err)
	}
	return dir
}

// ReadManifest reads the entries of the corpus in dir.
func ReadManifest(dir string) ([]Entry, error) {
	b, err := os.ReadFile(filepath.Join(dir, "MANIFEST.json"))
	if err != nil {
		return nil, fmt.Errorf("corpustest: manifest: %w", err)
	}
	var m struct {
		Files []Entry `json:"files"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("corpustest: %s: %w", filepath.Join(dir, "MANIFEST.json"), err)
	}
	if len(m.Files) == 0 {
		return nil, fmt.Errorf("corpustest: %s lists no files", filepath.Join(dir, "MANIFEST.json"))
	}
	return m.Files, nil
}

// Manifest returns the entries of the corpus in dir, failing the test when
// the manifest cannot be read.
func Manifest(tb testing.TB, dir string) []Entry {
	tb.Helper()
	entries, err := ReadManifest(dir)
	if err != nil {
		tb.Fatal(err)
	}
	return entries
}

// Load returns the corpus folder and its entries (Dir, then Manifest).
func Load(tb testing.TB) (string, []Entry) {
	tb.Helper()
	dir := Dir(tb)
	return dir, Manifest(tb, dir)
}

// Lookup returns the entry with the given id and fails the test when there is
// none.
func Lookup(tb testing.TB, entries []Entry, id string) *Entry {
	tb.Helper()
	for i := range entries {
		if entries[i].ID == id {
			return &entries[i]
		}
	}
	tb.Fatalf("%s not in the corpus", id)
	return nil
}

// ErrNoReference reports an entry without a reference array.
var ErrNoReference = errors.New("corpustest: no reference array")

// dtypeSize is the size of one sample of each NumPy dtype the references use.
var dtypeSize = map[string]int{"|u1": 1, "|i1": 1, "<u2": 2, "<i2": 2, "<u4": 4, "<i4": 4, "<f4": 4, "<f8": 8}

// Samples returns frame f of the entry's reference array (stored values, or
// what the reference decoder made of them), every dtype as float64, which
// holds each of them exactly.
func Samples(dir string, e *Entry, f int) ([]float64, error) {
	r := &e.Reference
	if r.ArrayFile == "" || len(r.Shape) != 4 {
		return nil, fmt.Errorf("%w: %s", ErrNoReference, e.ID)
	}
	b, err := os.ReadFile(filepath.Join(dir, r.ArrayFile))
	if err != nil {
		return nil, err
	}
	n := r.Shape[1] * r.Shape[2] * r.Shape[3]
	size := dtypeSize[r.Dtype]
	start := r.NpyDataOffset + f*n*size
	if size == 0 || f < 0 || start < 0 || start+n*size > len(b) {
		return nil, fmt.Errorf("%s: array too short or dtype %s", e.ID, r.Dtype)
	}
	b = b[start:]
	out := make([]float64, n)
	for i := range out {
		switch r.Dtype {
		case "|u1":
			out[i] = float64(b[i])
		case "|i1":
			out[i] = float64(int8(b[i]))
		case "<u2":
			out[i] = float64(binary.LittleEndian.Uint16(b[2*i:]))
		case "<i2":
			out[i] = float64(int16(binary.LittleEndian.Uint16(b[2*i:])))
		case "<u4":
			out[i] = float64(binary.LittleEndian.Uint32(b[4*i:]))
		case "<i4":
			out[i] = float64(int32(binary.LittleEndian.Uint32(b[4*i:])))
		case "<f4":
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])))
		case "<f8":
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		}
	}
	return out, nil
}
