package cache

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"teleread/viewer/dataset"
)

// hostileDir holds the small crafted files (see its README).
const hostileDir = "../testdata/hostile"

// TestImportRejectsOverflowingDims: files whose Rows x Columns wrapped around
// were imported, then crashed whoever rendered them. Import refuses them,
// saying which value is out of range, and imports the good file beside them.
func TestImportRejectsOverflowingDims(t *testing.T) {
	c := openTemp(t)
	bad := []string{"rows_overflow_is.dcm", "rows_cols_wrap.dcm", "rows_negative.dcm", "frames_huge.dcm", "frames_encapsulated.dcm"}
	var paths []string
	for _, n := range bad {
		paths = append(paths, filepath.Join(hostileDir, n))
	}
	good := filepath.Join("..", "testdata", "corpus", "files", "mr_small_explicit_le.dcm")
	paths = append(paths, good)
	sum := c.ImportPaths(paths, nil)
	if sum.Imported != 1 {
		t.Errorf("imported %d, want the one good file", sum.Imported)
	}
	if len(sum.Rejected) != len(bad) {
		t.Fatalf("rejected %v, want the %d crafted files", sum.Rejected, len(bad))
	}
	for _, r := range sum.Rejected {
		if !errors.Is(r.Err, dataset.ErrOutOfRange) || !strings.Contains(r.Reason, "out of range") {
			t.Errorf("%s: rejected for %q (%v), want a header value out of range", r.Name, r.Reason, r.Err)
		}
	}
}

// TestGuardedTurnsPanicIntoRejection: the last line of defence of the import
// workers, the committer and the zip reader.
func TestGuardedTurnsPanicIntoRejection(t *testing.T) {
	err := guarded("x.dcm", func() { panic("index out of range [3] with length 2") })
	var re *RejectError
	if !errors.As(err, &re) || re.Name != "x.dcm" || !strings.Contains(err.Error(), "index out of range") {
		t.Errorf("got %v, want a RejectError naming x.dcm and the panic", err)
	}
	if err := guarded("y.dcm", func() {}); err != nil {
		t.Errorf("no panic: %v", err)
	}
}
