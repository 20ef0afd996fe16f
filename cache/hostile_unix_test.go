//go:build unix

package cache

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestImportOnlyRegularFiles: a FIFO in a folder hung the import, a symlink
// to /dev/zero wrote 6.6 GB to tmp/, and a DICOMDIR reached through a
// symlinked folder imported a file from outside the medium. Only regular
// files inside the folder or medium given are read now; the others are
// reported, and the good file beside them is imported.
func TestImportOnlyRegularFiles(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("..", "testdata", "corpus", "files", "mr_small_explicit_le.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.dcm"), good, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "good.dcm"), good, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"zero": "/dev/zero", "out.dcm": filepath.Join(outside, "secret.dcm"), "in.dcm": "good.dcm"} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	c := openTemp(t)
	done := make(chan Summary)
	go func() { done <- c.ImportPaths([]string{dir, "/dev/zero", filepath.Join(dir, "fifo")}, nil) }()
	var sum Summary
	select {
	case sum = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("import hangs")
	}
	if sum.Imported != 1 || sum.AlreadyPresent != 1 {
		t.Errorf("imported %d, already present %d; want good.dcm once and in.dcm (a link to it) found present", sum.Imported, sum.AlreadyPresent)
	}
	rejected := map[string]bool{}
	for _, r := range sum.Rejected {
		if !errors.Is(r.Err, ErrNotRegular) {
			t.Errorf("%s rejected for %v, want ErrNotRegular", r.Name, r.Err)
		}
		rejected[filepath.Base(r.Name)] = true
	}
	for _, n := range []string{"fifo", "zero", "out.dcm"} {
		if !rejected[n] {
			t.Errorf("%s not reported (rejected: %v)", n, sum.Rejected)
		}
	}
	if n := tmpFiles(t, c); n != 1 {
		t.Errorf("%d files in the cache, want the one good file", n)
	}
}
