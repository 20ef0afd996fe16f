package main

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// testPackagePath matches the import path of a test helper package: one whose
// name ends in "test" (sync/orthanctest, cache/cachetest) or a test package
// under an internal folder (internal/corpustest).
var testPackagePath = regexp.MustCompile(`test$|/internal/.*test`)

// testCodeIn returns the packages among those `go list -deps` printed (one
// "import-path standard" pair a line) that are test code: the testing package
// itself (any importer pulls it in), or a non-standard package whose path
// says it is a test helper. Standard library packages are the toolchain's
// business (os imports internal/testlog).
func testCodeIn(listed string) []string {
	var bad []string
	for _, line := range strings.Split(strings.TrimSpace(listed), "\n") {
		path, standard, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch {
		case path == "testing" || strings.HasPrefix(path, "testing/"):
			bad = append(bad, path)
		case standard == "true":
		case testPackagePath.MatchString(path):
			bad = append(bad, path)
		}
	}
	return bad
}

func TestTestCodeIn(t *testing.T) {
	tests := []struct {
		name   string
		listed string
		want   []string
	}{
		{"clean", "os true\ninternal/testlog true\ninternal/synctest true\nteleread/sync/localarchive false\nteleread/app false", nil},
		{"testing", "testing true\nteleread/app false", []string{"testing"}},
		{"testing subpackage", "testing/fstest true", []string{"testing/fstest"}},
		{"helper", "teleread/sync/orthanctest false\nteleread/cache/cachetest false", []string{"teleread/sync/orthanctest", "teleread/cache/cachetest"}},
		{"internal helper", "teleread/internal/corpustest false\nteleread/app/internal/testkit/frames false", []string{"teleread/internal/corpustest", "teleread/app/internal/testkit/frames"}},
		{"vendor helper", "example.com/x/fooTest false", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := testCodeIn(tt.listed)
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("testCodeIn: %q, want %q", got, tt.want)
			}
		})
	}
}

// TestBinaryShipsNoTestCode: no package of the application binary is a test
// helper or imports the testing package (`go list -deps ./cmd/teleread`).
// Test helpers start archives, write files and trust their input; the
// first-run demo has its own production package (sync/localarchive) for that.
func TestBinaryShipsNoTestCode(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps ./cmd/teleread: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "teleread/app false") {
		t.Fatalf("go list -deps ./cmd/teleread does not list teleread/app; its output:\n%s", out)
	}
	if bad := testCodeIn(string(out)); len(bad) > 0 {
		t.Errorf("the teleread binary imports test code: %s", strings.Join(bad, ", "))
	}
}
