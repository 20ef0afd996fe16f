package corpus

import (
	"path/filepath"
	"testing"

	"teleread/internal/corpustest"
)

// Require stops the test because something it needs is missing: it fails
// under CI=true, where a missing dependency must not pass silently, and is
// skipped elsewhere.
func Require(tb testing.TB, format string, args ...any) {
	tb.Helper()
	corpustest.Require(tb, format, args...)
}

// Tool returns the path of the command-line tool name, from the Debian package
// pkg, and stops the test through Require when it is not installed.
func Tool(tb testing.TB, name, pkg string) string {
	tb.Helper()
	return corpustest.Tool(tb, name, pkg)
}

// Lookup returns the entry with the given id and fails the test when there is
// none.
func Lookup(tb testing.TB, entries []Entry, id string) *Entry {
	tb.Helper()
	return corpustest.Lookup(tb, entries, id)
}

// Listed returns the corpus folder and its entries in the transfer syntaxes
// uids, failing the test when there are none.
func Listed(tb testing.TB, uids ...string) (string, []Entry) {
	tb.Helper()
	dir := Dir(tb)
	entries := Entries(tb, dir, uids...)
	if len(entries) == 0 {
		tb.Fatalf("no corpus files in %v", uids)
	}
	return dir, entries
}

// EntryFrame0 returns the code stream of frame 0 of the entry's file, failing
// the test when it cannot be located.
func EntryFrame0(tb testing.TB, dir string, e *Entry) []byte {
	tb.Helper()
	src, err := Frame0(filepath.Join(dir, e.File), e.Frames())
	if err != nil {
		tb.Fatal(err)
	}
	return src
}

// FileFrame0 returns the code stream of the single-frame corpus file
// files/<id>.dcm, failing the test when it cannot be located.
func FileFrame0(tb testing.TB, dir, id string) []byte {
	tb.Helper()
	src, err := Frame0(filepath.Join(dir, "files", id+".dcm"), 1)
	if err != nil {
		tb.Fatal(err)
	}
	return src
}
