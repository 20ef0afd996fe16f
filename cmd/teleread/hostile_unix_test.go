//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestHostileTargetsCLI: `import` of a folder holding a FIFO hung;
// `open teleread://open?url=/dev/zero` wrote 5.7 GB to tmp/. Each is now
// refused with its reason, quickly and in little memory.
func TestHostileTargetsCLI(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"import", dir}, []string{"fifo", "zero", "not a regular file"}},
		{[]string{"import", "/dev/zero"}, []string{"not a regular file"}},
		{[]string{"open", "--no-app", "teleread://open?url=/dev/zero"}, []string{"only an http(s) URL"}},
		{[]string{"open", "--no-app", "/dev/zero"}, []string{"not a regular file"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := teleread(t, t.TempDir(), tt.args...)
			out := r.stdout + r.stderr
			if r.code == 0 {
				t.Errorf("exit 0, output %q", out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output %q does not say %q", out, w)
				}
			}
			if r.maxRSSKiB > maxHostileRSSKiB {
				t.Errorf("peak RSS %d MiB", r.maxRSSKiB>>10)
			}
		})
	}
}
