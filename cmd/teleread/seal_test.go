package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"teleread/cache"
	"teleread/cache/seal"
	"teleread/viewer/dataset"
)

// sealCorpus is what the encryption-at-rest tests import: files with a
// patient name, ID and accession number, small and multi-chunk.
var sealCorpus = []string{"ct_small_explicit_le.dcm", "mr_small_explicit_le.dcm", "ct2_jpeg_lossless_sv1.dcm",
	"us_cine_jpeg_ybr422_30f.dcm", "mr_prostate_tcia_rescale.dcm", "pet_tcia_icon.dcm", "mr_overlay_two_windows.dcm"}

// identifying returns the patient names, IDs and accession numbers of files
// (values of at least four characters: shorter ones occur by chance in any
// few megabytes of noise).
func identifying(t *testing.T, files []string) []string {
	t.Helper()
	seen := map[string]bool{}
	var out []string
	for _, p := range files {
		f, err := dataset.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, tag := range []dataset.Tag{dataset.PatientName, dataset.PatientID, dataset.AccessionNumber} {
			if v := strings.TrimSpace(f.String(tag)); len(v) >= 4 && !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
		f.Close()
	}
	if len(out) < 3 {
		t.Fatalf("only %d identifying values in the test files", len(out))
	}
	return out
}

// grepFinds runs `grep -a -r -F` for values under dirs and returns what it
// printed (nothing when no value occurs).
func grepFinds(t *testing.T, values []string, dirs ...string) string {
	t.Helper()
	args := []string{"-a", "-r", "-l", "-F"}
	for _, v := range values {
		args = append(args, "-e", v)
	}
	out, err := exec.Command("grep", append(args, dirs...)...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
		return ""
	}
	if err != nil {
		t.Fatalf("grep: %v\n%s", err, out)
	}
	return string(out)
}

func corpusPaths(names []string) []string {
	var out []string
	for _, n := range names {
		out = append(out, filepath.Join(corpusDir, "files", n))
	}
	return out
}

// TestImportSealedCLI: after `teleread import`, grep finds no patient name,
// ID or accession number under files/ or tmp/ (it finds them in the
// originals), while verify, info and render of the cached files work, and
// render gives the original's pixels.
func TestImportSealedCLI(t *testing.T) {
	requireCorpus(t)
	src := corpusPaths(sealCorpus)
	phi := identifying(t, src)
	if grepFinds(t, phi, src...) == "" {
		t.Fatal("grep finds nothing in the plain originals: the check would prove nothing")
	}
	home := t.TempDir()
	if r := teleread(t, home, append([]string{"import"}, src...)...); r.code != 0 {
		t.Fatalf("import: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if found := grepFinds(t, phi, filepath.Join(home, "files"), filepath.Join(home, "tmp")); found != "" {
		t.Errorf("identifying values readable in the cache:\n%s", found)
	}
	if v := teleread(t, home, "verify"); v.code != 0 {
		t.Errorf("verify: %s%s", v.stdout, v.stderr)
	}
	c, err := cache.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, p := range src {
		info := teleread(t, home, "info", "--json", p)
		var in struct{ SOPInstanceUID string }
		decodeJSON(t, info.stdout, &in)
		st, err := c.OpenStored(in.SOPInstanceUID)
		if err != nil {
			t.Fatal(err)
		}
		cached := st.Name()
		st.Close()
		if r := teleread(t, home, "info", "--json", cached); r.code != 0 || r.stdout != info.stdout {
			t.Errorf("%s: info of the cached file differs from the original's:\n%s%s", filepath.Base(p), r.stdout, r.stderr)
		}
		dir := t.TempDir()
		want, got := filepath.Join(dir, "orig.png"), filepath.Join(dir, "cached.png")
		r1 := teleread(t, home, "render", "--renderer", "cpu", p, "-o", want)
		r2 := teleread(t, home, "render", "--renderer", "cpu", cached, "-o", got)
		if r1.code != 0 || r2.code != 0 {
			t.Fatalf("%s: render: %s %s", filepath.Base(p), r1.stderr, r2.stderr)
		}
		a, _ := os.ReadFile(want)
		b, _ := os.ReadFile(got)
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s: render of the cached file differs from the original's", filepath.Base(p))
		}
	}
}

// unseal turns the cache at home into one written before encryption at rest:
// every file plain, no marker.
func unseal(t *testing.T, home string) int {
	t.Helper()
	c, err := cache.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	insts, err := c.AllInstances()
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range insts {
		st, err := c.OpenStored(in.SOPInstanceUID)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, st.Size())
		if _, err := st.ReadAt(b, 0); err != nil {
			t.Fatal(err)
		}
		st.Close()
		if err := os.WriteFile(in.Path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	if err := os.Remove(filepath.Join(home, "files.sealed")); err != nil {
		t.Fatal(err)
	}
	return len(insts)
}

// sealedCount counts the sealed and the plain instance files under home's
// files/.
func sealedCount(t *testing.T, home string) (sealed, plain int) {
	t.Helper()
	filepath.WalkDir(filepath.Join(home, "files"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return err // temporary files: the next open removes a dead writer's
		}
		b, _ := os.ReadFile(p)
		if seal.IsSealed(b) {
			sealed++
		} else {
			plain++
		}
		return nil
	})
	return sealed, plain
}

// TestMigrateKilledCLI: a cache of plain files is encrypted in place by
// `teleread migrate`; killed (SIGKILL) after the second file, the cache holds
// sealed and plain files that all verify, and the next command finishes the
// job, with progress, to a cache that verifies and that grep finds nothing in.
func TestMigrateKilledCLI(t *testing.T) {
	requireCorpus(t)
	src := corpusPaths(sealCorpus)
	home := t.TempDir()
	if r := teleread(t, home, append([]string{"import"}, src...)...); r.code != 0 {
		t.Fatalf("import: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	n := unseal(t, home)
	phi := identifying(t, src)
	if grepFinds(t, phi, filepath.Join(home, "files")) == "" {
		t.Fatal("the unsealed cache is not plain")
	}
	for _, step := range []string{cache.StepSealWritten + ":2", cache.StepSealRenamed + ":3"} {
		killAt(t, home, step, "migrate")
		sealed, plain := sealedCount(t, home)
		if sealed == 0 || plain == 0 || sealed+plain != n {
			t.Fatalf("killed at %s: %d sealed, %d plain of %d", step, sealed, plain, n)
		}
		// The library does not seal on open: this checks the cache as the
		// kill left it.
		c, err := cache.Open(home)
		if err != nil {
			t.Fatal(err)
		}
		probs, err := c.Verify()
		c.Close()
		if err != nil || len(probs) != 0 {
			t.Fatalf("killed at %s: verify %v %v", step, probs, err)
		}
	}
	r := teleread(t, home, "verify")
	if r.code != 0 || !strings.Contains(r.stderr, "encrypt") {
		t.Fatalf("verify (resuming the encryption): %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if sealed, plain := sealedCount(t, home); sealed != n || plain != 0 {
		t.Errorf("after resuming: %d sealed, %d plain", sealed, plain)
	}
	if found := grepFinds(t, phi, filepath.Join(home, "files"), filepath.Join(home, "tmp")); found != "" {
		t.Errorf("identifying values readable after migration:\n%s", found)
	}
	if r := teleread(t, home, "migrate"); r.code != 0 || r.stderr != "" {
		t.Errorf("migrate on a sealed cache: %d %q", r.code, r.stderr)
	}
}

func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("%v: %q", err, s)
	}
}
