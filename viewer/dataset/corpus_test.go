package dataset

import (
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"testing"

	"teleread/internal/corpustest"
)

// corpusDir is the shared corpus of real DICOM files with independent references.
var corpusDir = corpustest.Find()

// manifestEntry is a corpus entry (internal/corpustest loads the corpus for
// every package's tests) with its info block as written, key by key.
type manifestEntry struct {
	corpustest.Entry
	Info map[string]json.RawMessage
}

func loadManifest(t testing.TB) []manifestEntry {
	t.Helper()
	var out []manifestEntry
	for _, e := range corpustest.Manifest(t, corpustest.Dir(t)) {
		var raw struct {
			Info map[string]json.RawMessage `json:"info"`
		}
		if err := e.Decode(&raw); err != nil {
			t.Fatal(err)
		}
		out = append(out, manifestEntry{Entry: e, Info: raw.Info})
	}
	return out
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
