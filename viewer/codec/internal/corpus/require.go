package corpus

import (
	"os"
	"os/exec"
	"testing"
)

// Require stops the test because something it needs is missing: it fails
// under CI=true, where a missing dependency must not pass silently, and is
// skipped elsewhere.
func Require(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf(format, args...)
	}
	tb.Skipf(format, args...)
}

// Tool returns the path of the command-line tool name, from the Debian package
// pkg, and stops the test through Require when it is not installed.
func Tool(tb testing.TB, name, pkg string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Require(tb, "%s (Debian package %s) not installed: %v", name, pkg, err)
	}
	return p
}

// Lookup returns the entry with the given id and fails the test when there is
// none.
func Lookup(tb testing.TB, entries []Entry, id string) *Entry {
	tb.Helper()
	for i := range entries {
		if entries[i].ID == id {
			return &entries[i]
		}
	}
	tb.Fatalf("%s not in the corpus", id)
	return nil
}
