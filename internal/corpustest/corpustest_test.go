package corpustest

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// writeCorpus writes a one-entry corpus whose reference array holds two
// frames of two samples in dtype, from vals (written independently of Samples,
// with encoding/binary).
func writeCorpus(t *testing.T, dtype string, vals []float64) string {
	t.Helper()
	dir := t.TempDir()
	const off = 16
	b := make([]byte, off)
	copy(b, "\x93NUMPY")
	for _, v := range vals {
		switch dtype {
		case "<i2":
			b = binary.LittleEndian.AppendUint16(b, uint16(int16(v)))
		case "|u1":
			b = append(b, uint8(v))
		case "<f4":
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(v)))
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "ref.npy"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	manifest := `{"files": [{"id": "x", "file": "files/x.dcm", "dicom": {"number_of_frames": 2},
		"info": {"StudyInstanceUID": "1.2.3", "PatientName": "Doe^J"},
		"reference": {"status": "ok", "dtype": "` + dtype + `", "shape": [2, 1, 2, 1], "array_file": "ref.npy", "npy_data_offset": 16},
		"expectation": {"stored_values": "approximate", "import": "accept"}}]}`
	if err := os.WriteFile(filepath.Join(dir, "MANIFEST.json"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestSamples(t *testing.T) {
	tests := []struct {
		name  string
		dtype string
		vals  []float64
	}{
		{"signed 16 bit", "<i2", []float64{-1024, 3071, -1, 0}},
		{"unsigned 8 bit", "|u1", []float64{0, 255, 7, 128}},
		{"float 32", "<f4", []float64{-0.5, 1.25, 3, 1e6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeCorpus(t, tt.dtype, tt.vals)
			entries, err := ReadManifest(dir)
			if err != nil {
				t.Fatal(err)
			}
			e := &entries[0]
			for f := range 2 {
				got, err := Samples(dir, e, f)
				if err != nil {
					t.Fatal(err)
				}
				if want := tt.vals[2*f : 2*f+2]; !slices.Equal(got, want) {
					t.Errorf("frame %d: %v, want %v", f, got, want)
				}
			}
			if _, err := Samples(dir, e, 2); err == nil {
				t.Error("frame 2 of 2: no error")
			}
		})
	}
}

func TestEntry(t *testing.T) {
	dir := writeCorpus(t, "|u1", []float64{1, 2, 3, 4})
	entries, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := &entries[0]
	if e.Frames() != 2 || !e.Lossy() || e.Info.StudyInstanceUID != "1.2.3" || e.Expectation.Import != "accept" {
		t.Errorf("typed fields: frames %d, lossy %v, study %q, import %q", e.Frames(), e.Lossy(), e.Info.StudyInstanceUID, e.Expectation.Import)
	}
	var more struct {
		Info map[string]string `json:"info"`
	}
	if err := e.Decode(&more); err != nil || more.Info["PatientName"] != "Doe^J" {
		t.Errorf("Decode: %v, info %v: want the untyped PatientName", err, more.Info)
	}
	if _, err := Samples(dir, &Entry{ID: "none"}, 0); !errors.Is(err, ErrNoReference) {
		t.Errorf("Samples without a reference: %v, want ErrNoReference", err)
	}
}

func TestReadManifestErrors(t *testing.T) {
	tests := []struct {
		name, manifest string
		notExist       bool
	}{
		{"missing", "", true},
		{"not JSON", "{", false},
		{"no files", `{"files": []}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.manifest != "" {
				if err := os.WriteFile(filepath.Join(dir, "MANIFEST.json"), []byte(tt.manifest), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := ReadManifest(dir)
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, os.ErrNotExist) != tt.notExist {
				t.Errorf("%v: errors.Is(os.ErrNotExist) = %v, want %v", err, !tt.notExist, tt.notExist)
			}
		})
	}
}

// TestTheCorpus reads the repository's own corpus: every entry names its
// file, every file named is there, and the typed fields the tests branch on
// are filled (a misspelt JSON tag would leave them empty, and the tests that
// switch on them would pass without checking anything).
func TestTheCorpus(t *testing.T) {
	dir, entries := Load(t)
	for _, e := range entries {
		if e.ID == "" || e.File == "" {
			t.Errorf("entry %+v: no id or file", e.ID)
			continue
		}
		if _, err := os.Stat(e.Path(dir)); err != nil {
			t.Errorf("%s: %v", e.ID, err)
		}
		if imp := e.Expectation.Import; imp != "accept" && imp != "reject" {
			t.Errorf("%s: import expectation %q, want accept or reject", e.ID, imp)
		}
		if e.Reference.Status == "ok" && e.Expectation.Import == "accept" {
			if len(e.Reference.Shape) != 4 || e.Reference.Dtype == "" || e.Reference.ArrayFile == "" || e.DICOM.TransferSyntaxUID == "" && e.DICOM.DetectedEncoding == "" {
				t.Errorf("%s: a reference without shape, dtype, array or transfer syntax: %+v", e.ID, e.Reference)
			}
		}
	}
}
