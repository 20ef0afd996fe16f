package dataset

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// corpusDir is the shared corpus of real DICOM files with independent references.
const corpusDir = "../../testdata/corpus"

type manifestEntry struct {
	ID          string                     `json:"id"`
	File        string                     `json:"file"`
	Info        map[string]json.RawMessage `json:"info"`
	Expectation struct {
		Import string `json:"import"`
	} `json:"expectation"`
}

func loadManifest(t testing.TB) []manifestEntry {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpusDir, "MANIFEST.json"))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus missing: %v", err)
		}
		t.Skipf("corpus missing: %v", err)
	}
	var m struct {
		Files []manifestEntry `json:"files"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m.Files
}

func openChecked(path string) (*File, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	if err := f.Validate(); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// TestCorpusImportExpectation checks accept/reject against each manifest entry.
func TestCorpusImportExpectation(t *testing.T) {
	for _, e := range loadManifest(t) {
		t.Run(e.ID, func(t *testing.T) {
			f, err := openChecked(filepath.Join(corpusDir, e.File))
			if f != nil {
				defer f.Close()
			}
			switch e.Expectation.Import {
			case "accept":
				if err != nil {
					t.Fatalf("want accepted, got %v", err)
				}
			case "reject":
				if err == nil {
					t.Fatalf("want rejected, got accepted")
				}
				var pe *Error
				if !errors.As(err, &pe) || pe.Name == "" {
					t.Errorf("error %v does not name the file", err)
				}
			}
		})
	}
}

// TestCorpusInfo compares Info with the manifest's independently produced info block.
func TestCorpusInfo(t *testing.T) {
	for _, e := range loadManifest(t) {
		if e.Expectation.Import != "accept" {
			continue
		}
		t.Run(e.ID, func(t *testing.T) {
			f, err := openChecked(filepath.Join(corpusDir, e.File))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, _ := json.Marshal(f.Info())
			var gotMap map[string]any
			json.Unmarshal(got, &gotMap)
			for key, raw := range e.Info {
				var want any
				json.Unmarshal(raw, &want)
				if !jsonEqual(gotMap[key], want) {
					t.Errorf("%s = %v, want %v", key, gotMap[key], want)
				}
			}
		})
	}
}

func jsonEqual(a, b any) bool {
	fa, okA := a.(float64)
	fb, okB := b.(float64)
	if okA && okB {
		return math.Abs(fa-fb) <= 1e-9*math.Max(1, math.Abs(fb))
	}
	la, okA := a.([]any)
	lb, okB := b.([]any)
	if okA && okB {
		if len(la) != len(lb) {
			return false
		}
		for i := range la {
			if !jsonEqual(la[i], lb[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}
