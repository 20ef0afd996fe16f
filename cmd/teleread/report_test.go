package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"teleread/cache"
	"teleread/cache/cachetest"
)

// TestReportSignIncomplete: `report --sign` refuses a study the cache does not
// hold whole, says what is missing and exits 1, unless --incomplete-ok is
// given; a ready study and one imported by hand sign as before.
func TestReportSignIncomplete(t *testing.T) {
	requireCorpus(t)
	paths, err := cachetest.MakeSeries(filepath.Join(corpusDir, "files", "ct_small_explicit_le.dcm"), t.TempDir(), 5)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		imported int
		state    string // worklist state as the puller leaves it; "" for none
		flags    []string
		wantCode int
		wantErr  string
	}{
		{name: "downloading", imported: 2, state: "downloading", wantCode: 1,
			wantErr: "is incomplete: 3 of 5 instances are not in the cache (still downloading); not signed (--incomplete-ok signs anyway)"},
		{name: "failed", imported: 4, state: "failed", wantCode: 1, wantErr: "1 of 5 instances is not in the cache (the download failed: archive gone)"},
		{name: "downloading, --incomplete-ok", imported: 2, state: "downloading", flags: []string{"--incomplete-ok"}},
		{name: "ready", imported: 5, state: "ready"},
		{name: "imported by hand", imported: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			c, err := cache.Open(home)
			if err != nil {
				t.Fatal(err)
			}
			var study string
			for _, p := range paths[:tt.imported] {
				res, err := c.ImportFile(p)
				if err != nil {
					t.Fatal(err)
				}
				study = res.StudyInstanceUID
			}
			if tt.state != "" {
				reason := ""
				if tt.state == "failed" {
					reason = "archive gone"
				}
				if err := c.PutWorkItem(study, "Reader", "assigned", "", 2, nil); err != nil {
					t.Fatal(err)
				}
				if err := c.SetStudyState(study, tt.state, tt.imported, 5, reason); err != nil {
					t.Fatal(err)
				}
			}
			c.Close()

			args := append([]string{"report", "--study", study, "--findings", "No acute finding.", "--sign"}, tt.flags...)
			r := teleread(t, home, args...)
			if r.code != tt.wantCode || !strings.Contains(r.stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want exit %d with %q", r.code, r.stderr, tt.wantCode, tt.wantErr)
			}
			var items []struct{ State string }
			json.Unmarshal([]byte(teleread(t, home, "outbox", "--json").stdout), &items)
			state := teleread(t, home, "report", "--study", study).stdout
			if signed := len(items) == 1 && strings.Contains(state, "state: signed"); signed != (tt.wantCode == 0) {
				t.Errorf("signed %v (outbox %d items; %q); want %v", signed, len(items), firstLine(state), tt.wantCode == 0)
			}
			if tt.wantCode == 0 && strings.Contains(strings.Join(tt.flags, " "), "--incomplete-ok") &&
				!strings.Contains(r.stdout, "signed on an incomplete study: 3 of 5 instances") {
				t.Errorf("signing with --incomplete-ok does not say what was missing: %q", r.stdout)
			}
		})
	}
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }
