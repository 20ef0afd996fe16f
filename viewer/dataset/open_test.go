package dataset

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenErrors checks that opening what is not a readable DICOM file is an
// error that names the path and, for a missing file, matches fs.ErrNotExist
// (callers tell a vanished cache file from a damaged one by it).
func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name     string
		path     string
		notExist bool
	}{
		{"missing", filepath.Join(dir, "missing.dcm"), true},
		{"directory", dir, false},
	} {
		f, err := Open(tc.path)
		if err == nil {
			f.Close()
			t.Errorf("%s: Open succeeded", tc.name)
			continue
		}
		if errors.Is(err, fs.ErrNotExist) != tc.notExist {
			t.Errorf("%s: errors.Is(%v, fs.ErrNotExist) = %v, want %v", tc.name, err, !tc.notExist, tc.notExist)
		}
		if !strings.Contains(err.Error(), tc.path) {
			t.Errorf("%s: error %q does not name %s", tc.name, err, tc.path)
		}
	}
}
