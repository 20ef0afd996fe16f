package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"teleread/viewer/dataset/hostiletest"
)

// maxHostileRSSKiB is what info, import, render and sync may take for any
// crafted input, whatever it declares.
const maxHostileRSSKiB = 300 << 10

// hostileDir holds the small crafted files (see its README).
const hostileDir = "../../testdata/hostile"

// writeHostile writes a generated crafted file into dir.
func writeHostile(t *testing.T, dir, name string, write func(io.Writer) error) string {
	t.Helper()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := write(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestHostileFilesCLI runs info, import and render on every crafted file, as
// a user would: each is refused with its reason (never a panic, exit status
// 1), and the process's peak RSS (getrusage of the child) stays under 300 MB.
// Before: Rows x Columns that wrapped panicked in render; a 131 KB deflate
// bomb took 1.9 GB in info and 2.2 GB in import, a 1 MB one ran out of
// memory; 64 MB of empty elements took 932 MB on import; a JPEG 2000 SIZ of
// 16384 components asked OpenJPEG for 6 GB.
func TestHostileFilesCLI(t *testing.T) {
	big := t.TempDir()
	tests := []struct {
		path       string
		want       string // in the error of every command
		renderOnly bool   // the file is well formed, its code stream is not: only decoding finds it
	}{
		{filepath.Join(hostileDir, "rows_overflow_is.dcm"), "out of range", false},
		{filepath.Join(hostileDir, "rows_cols_wrap.dcm"), "out of range", false},
		{filepath.Join(hostileDir, "frames_huge.dcm"), "out of range", false},
		{writeHostile(t, big, "bomb128.dcm", func(w io.Writer) error { return hostiletest.DeflateBomb(w, 128<<20) }), "memory budget", false},
		{writeHostile(t, big, "bomb1g.dcm", func(w io.Writer) error { return hostiletest.DeflateBomb(w, 1<<30) }), "memory budget", false},
		{writeHostile(t, big, "zeros.dcm", func(w io.Writer) error { return hostiletest.DeflatedZeros(w, 128<<20) }), "memory budget", false},
		{writeHostile(t, big, "elements.dcm", func(w io.Writer) error { return hostiletest.ZeroLengthElements(w, 64<<20) }), "memory budget", false},
		{filepath.Join(hostileDir, "j2k_components.dcm"), "does not match", true},
		{filepath.Join(hostileDir, "j2k_tiles.dcm"), "tiles", true},
		{filepath.Join(hostileDir, "jpegls_size.dcm"), "does not match", true},
	}
	for _, tt := range tests {
		cmds := [][]string{{"info"}, {"import"}, {"render", "-o", filepath.Join(t.TempDir(), "x.png")}}
		if tt.renderOnly {
			cmds = cmds[2:]
		}
		for _, cmd := range cmds {
			t.Run(filepath.Base(tt.path)+"/"+cmd[0], func(t *testing.T) {
				r := teleread(t, t.TempDir(), append(cmd, tt.path)...)
				out := r.stdout + r.stderr
				if r.code != 1 || !strings.Contains(out, tt.want) || strings.Contains(out, "panic") {
					t.Errorf("exit %d, output %q; want exit 1 and %q", r.code, out, tt.want)
				}
				if r.maxRSSKiB > maxHostileRSSKiB {
					t.Errorf("peak RSS %d MiB, want under %d", r.maxRSSKiB>>10, maxHostileRSSKiB>>10)
				}
				t.Logf("peak RSS %d MiB", r.maxRSSKiB>>10)
			})
		}
	}
}
