package sync

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCutOffsRetryInterval: a cut-off holds for the retry interval and no
// longer, survives reopening the table (another process, the next sync), is
// per archive, and a damaged table file starts afresh instead of stopping
// sync.
func TestCutOffsRetryInterval(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cutoffs.json")
	t0 := time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC)
	open := func(now time.Time) *CutOffs {
		t.Helper()
		co, err := OpenCutOffs(path, 6*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		co.now = func() time.Time { return now }
		return co
	}
	co := open(t0)
	if err := co.Remember(CutOff{Archive: "https://a/dicom-web", StudyUID: "1.2", SeriesUID: "1.2.3", Reason: "cut off"}); err != nil {
		t.Fatal(err)
	}
	if err := co.Remember(CutOff{Archive: "https://a/dicom-web", StudyUID: "1.2", SeriesUID: "1.2.3", SOPInstanceUID: "1.2.3.4", Reason: "cut off"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		now     time.Time
		archive string
		want    int
	}{
		{"at once, reopened", t0, "https://a/dicom-web", 1}, // the instance replaced the series entry
		{"5 h later", t0.Add(5 * time.Hour), "https://a/dicom-web", 1},
		{"another archive", t0, "https://b/dicom-web", 0},
		{"after the interval", t0.Add(6 * time.Hour), "https://a/dicom-web", 0},
	}
	for _, tt := range tests {
		got := open(tt.now).Study(tt.archive, "1.2")
		if len(got) != tt.want {
			t.Errorf("%s: %d cut-offs %v, want %d", tt.name, len(got), got, tt.want)
		}
	}
	if n, err := open(t0).Forget("https://a/dicom-web"); n != 1 || err != nil || len(open(t0).Study("https://a/dicom-web", "1.2")) != 0 {
		t.Errorf("Forget: %d, %v; the entry should be gone", n, err)
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if co, err := OpenCutOffs(path, 0); err != nil || len(co.Study("https://a/dicom-web", "1.2")) != 0 {
		t.Errorf("damaged table: %v", err)
	}
	var nilTable *CutOffs
	if nilTable.Remember(CutOff{}) != nil || nilTable.Study("a", "b") != nil {
		t.Error("a nil table remembers nothing and fails nothing")
	}
	if err := open(t0).cutOffError(CutOff{StudyUID: "1.2", SOPInstanceUID: "1.2.3.4", At: t0}); !errors.Is(err, ErrCutOff) {
		t.Errorf("the reason %v does not wrap ErrCutOff", err)
	}
}
