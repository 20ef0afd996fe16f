package cache

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"teleread/cache/cachetest"
)

// TestStudyCompleteness: a study is complete only when the puller said ready,
// or, when it is not downloading, when the count it recorded is all durable; a
// study that never came from an archive is complete as imported.
func TestStudyCompleteness(t *testing.T) {
	paths, err := cachetest.MakeSeries(filepath.Join(corpusDir, "files", "ct_small_explicit_le.dcm"), t.TempDir(), 5)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		imported    int
		state       string // "" puts no worklist row
		total       int
		reason      string
		wantDone    bool
		wantMissing int
		wantText    string // in Describe
	}{
		{name: "imported by hand", imported: 2, wantDone: true, wantMissing: -1},
		{name: "downloading", imported: 2, state: "downloading", total: 5, wantMissing: 3, wantText: "3 of 5 instances are not in the cache (still downloading)"},
		{name: "one missing", imported: 4, state: "downloading", total: 5, wantMissing: 1, wantText: "1 of 5 instances is not in the cache"},
		{name: "failed", imported: 2, state: "failed", total: 5, reason: "archive refused", wantMissing: 3, wantText: "the download failed: archive refused"},
		{name: "failed with every file here", imported: 5, state: "failed", total: 5, wantMissing: 0, wantText: "not confirmed complete"},
		{name: "assigned, count unknown", imported: 2, state: "assigned", total: 0, wantMissing: -1, wantText: "count is not known"},
		{name: "ready", imported: 5, state: "ready", total: 5, wantDone: true, wantMissing: 0},
		{name: "unassigned after ready", imported: 5, state: "unassigned", total: 5, wantDone: true, wantMissing: 0},
		{name: "unassigned midway", imported: 3, state: "unassigned", total: 5, wantMissing: 2, wantText: "no longer assigned"},
		{name: "assigned again after ready", imported: 5, state: "assigned", total: 5, wantDone: true, wantMissing: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openTemp(t)
			var study string
			for _, p := range paths[:tt.imported] {
				res, err := c.ImportFile(p)
				if err != nil {
					t.Fatal(err)
				}
				study = res.StudyInstanceUID
			}
			if tt.state != "" {
				if err := c.PutWorkItem(study, "A", "assigned", "", 2, nil); err != nil {
					t.Fatal(err)
				}
				if err := c.SetStudyState(study, tt.state, tt.imported, tt.total, tt.reason); err != nil {
					t.Fatal(err)
				}
			}
			got, err := c.StudyCompleteness(study)
			if err != nil {
				t.Fatal(err)
			}
			if got.Have != tt.imported || got.Complete() != tt.wantDone || got.Missing() != tt.wantMissing {
				t.Errorf("got %+v: complete %v missing %d; want have %d, complete %v, missing %d",
					got, got.Complete(), got.Missing(), tt.imported, tt.wantDone, tt.wantMissing)
			}
			if d := got.Describe(); tt.wantDone && d != "" || !strings.Contains(d, tt.wantText) {
				t.Errorf("Describe() = %q; want it to contain %q", d, tt.wantText)
			}
		})
	}
	if _, err := openTemp(t).StudyCompleteness("1.2.3.4"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown study: %v; want ErrNotFound", err)
	}
}
