package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"teleread/internal/corpustest"
)

// TestVendorQuirksCLI: files with the quirks other viewers tolerate (made from
// corpus files, see testdata/quirks/README.md) work in info, import and render
// like the files they were made from, and info reports the stray item as a
// warning. The base files' expected info comes from the corpus manifest,
// written by other tools.
func TestVendorQuirksCLI(t *testing.T) {
	requireCorpus(t)
	manifest := map[string]map[string]any{}
	for _, e := range corpustest.Manifest(t, corpusDir) {
		manifest[e.ID] = corpusInfo(t, &e)
	}
	tests := []struct {
		file, base string
		warning    string // "" when none is expected
	}{
		{"icon_encapsulated_in_sequence.dcm", "sc_jpeg_baseline_mono8", ""},
		{"stray_item_top_level.dcm", "mr_small_explicit_le", "at offset 706, element (FFFE,E000): stray item of 18 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p := filepath.Join("..", "..", "testdata", "quirks", tt.file)
			base := filepath.Join(corpusDir, "files", tt.base+".dcm")

			r := teleread(t, t.TempDir(), "info", "--json", p)
			var info map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &info); r.code != 0 || err != nil {
				t.Fatalf("info --json: exit %d %v\n%s", r.code, err, r.stderr)
			}
			want := manifest[tt.base]
			if len(want) == 0 {
				t.Fatalf("no manifest info for %s", tt.base)
			}
			for k, v := range want {
				// The icon's Rows, Columns and pixel description stay in its item.
				if fmt.Sprint(info[k]) != fmt.Sprint(v) {
					t.Errorf("%s = %v, want %v", k, info[k], v)
				}
			}
			warnings, _ := info["Warnings"].([]any)
			if tt.warning == "" && len(warnings) != 0 || tt.warning != "" && (len(warnings) != 1 || !strings.Contains(fmt.Sprint(warnings[0]), tt.warning)) {
				t.Errorf("Warnings %v, want %q", info["Warnings"], tt.warning)
			}
			r = teleread(t, t.TempDir(), "info", p)
			if r.code != 0 {
				t.Fatalf("info: exit %d %s", r.code, r.stderr)
			}
			if got := strings.Contains(r.stdout, "Warning"); got != (tt.warning != "") || !strings.Contains(r.stdout, tt.warning) {
				t.Errorf("info says %q, want the warning %q", r.stdout, tt.warning)
			}

			home := t.TempDir()
			if r := teleread(t, home, "import", p); r.code != 0 {
				t.Fatalf("import: exit %d %s %s", r.code, r.stdout, r.stderr)
			}
			baseHome := t.TempDir()
			teleread(t, baseHome, "import", base)
			if got, want := onlyStudy(t, home), onlyStudy(t, baseHome); got != want {
				t.Errorf("cached as\n%s\nthe base file as\n%s", got, want)
			}

			// The image is the base file's, rendered alike.
			dir := t.TempDir()
			for _, src := range []string{p, base} {
				if r := teleread(t, dir, "render", src, "--renderer", "cpu", "-o", filepath.Join(dir, filepath.Base(src)+".pgm")); r.code != 0 {
					t.Fatalf("render %s: exit %d %s", src, r.code, r.stderr)
				}
			}
			got, _ := os.ReadFile(filepath.Join(dir, filepath.Base(p)+".pgm"))
			ref, _ := os.ReadFile(filepath.Join(dir, filepath.Base(base)+".pgm"))
			if len(got) == 0 || !bytes.Equal(got, ref) {
				t.Errorf("render differs from the base file's (%d and %d bytes)", len(got), len(ref))
			}
		})
	}
}

// onlyStudy is what `studies --json` says of a cache's studies, less the times
// that differ between two imports.
func onlyStudy(t *testing.T, home string) string {
	t.Helper()
	var studies []map[string]any
	r := teleread(t, home, "studies", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &studies); err != nil || len(studies) != 1 {
		t.Fatalf("studies --json: %v %s", err, r.stdout)
	}
	b, _ := json.Marshal(studies[0])
	return string(b)
}
