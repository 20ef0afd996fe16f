package report

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"teleread/viewer/dataset"
)

const corpusDir = "../../testdata/corpus/files"

// corpusFile returns the path of a corpus file, failing under CI=true and
// skipping elsewhere when the corpus is absent.
func corpusFile(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(corpusDir, name)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus file %s: %v", name, err)
		}
		t.Skipf("corpus file %s: %v", name, err)
	}
	return p
}

// requireTool returns the path of an external program, failing under
// CI=true and skipping elsewhere when it is not installed.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required: %v", name, err)
		}
		t.Skipf("%s not installed: %v", name, err)
	}
	return p
}

// writeSR stores sr in the test's temp dir and checks it with dicom3tools
// dciodvfy (no "Error" line) and dcmtk dsrdump (exit status 0). It returns
// the path and dsrdump's full listing (long values, all codes).
func writeSR(t *testing.T, name string, sr []byte) (string, string) {
	t.Helper()
	dciodvfy := requireTool(t, "dciodvfy")
	dsrdump := requireTool(t, "dsrdump")
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, sr, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(dciodvfy, path).CombinedOutput()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("dciodvfy: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "Error") {
			t.Errorf("dciodvfy %s: %s", name, line)
		}
	}
	cmd := exec.Command(dsrdump, "+Pl", "+Pc", "+Pt", path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("dsrdump %s: %v\n%s%s", name, err, stdout.String(), stderr.String())
	}
	if strings.Contains(stderr.String(), "E: ") || strings.Contains(stderr.String(), "F: ") {
		t.Errorf("dsrdump %s reports errors:\n%s", name, stderr.String())
	}
	return path, stdout.String()
}

// textItem is one TEXT content item: its concept code value and text.
type textItem struct{ code, text string }

var dsrdumpText = regexp.MustCompile(`^\s*<(?:contains|has obs context) TEXT:\(([^,]*),[^,]*,"[^"]*"\)="(.*)">$`)

// dsrdumpTexts returns the TEXT items of a dsrdump listing in document
// order, undoing the two escapes dsrdump uses (\r and \n).
func dsrdumpTexts(listing string) []textItem {
	var out []textItem
	for _, line := range strings.Split(listing, "\n") {
		m := dsrdumpText.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		text := strings.NewReplacer(`\r`, "\r", `\n`, "\n").Replace(m[2])
		out = append(out, textItem{m[1], text})
	}
	return out
}

// parsedTexts returns the TEXT items of an SR read with viewer/dataset, in
// document order (depth first).
func parsedTexts(t *testing.T, f *dataset.File) []textItem {
	t.Helper()
	var out []textItem
	var walk func(items []*dataset.DataSet)
	walk = func(items []*dataset.DataSet) {
		for _, it := range items {
			switch it.String(dataset.T(0x0040, 0xA040)) {
			case "TEXT":
				code := ""
				if c := it.Items(dataset.T(0x0040, 0xA043)); len(c) == 1 {
					code = c[0].String(dataset.T(0x0008, 0x0100))
				}
				// Raw value with the writer's padding removed: UT keeps
				// leading spaces, so only the trailing pad goes.
				e := it.Get(dataset.T(0x0040, 0xA160))
				out = append(out, textItem{code, strings.TrimRight(string(e.Value), " ")})
			case "CONTAINER":
				walk(it.Items(dataset.T(0x0040, 0xA730)))
			}
		}
	}
	walk(f.Items(dataset.T(0x0040, 0xA730)))
	return out
}

// parseSR reads an SR file with viewer/dataset.
func parseSR(t *testing.T, path string) *dataset.File {
	t.Helper()
	f, err := dataset.Open(path)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// dcmdumpValues returns the top-level attributes of a file as dcmtk's
// dcmdump prints them, keyed "gggg,eeee" (an independent reader for the
// copied attributes).
func dcmdumpValues(t *testing.T, path string) map[string]string {
	t.Helper()
	out, err := exec.Command(requireTool(t, "dcmdump"), "+L", path).Output()
	if err != nil {
		t.Fatalf("dcmdump %s: %v", path, err)
	}
	values := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if len(line) < 12 || line[0] != '(' || line[10] != ')' {
			continue // nested items are indented
		}
		v := line[12:]
		if i := strings.LastIndex(v, "#"); i > 0 {
			v = v[:i]
		}
		values[line[1:10]] = strings.TrimSpace(v)
	}
	return values
}
