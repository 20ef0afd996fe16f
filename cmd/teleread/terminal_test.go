package main

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTerminalSafe(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain name.dcm\n", "plain name.dcm\n"},
		{"Müller^Jürgen 山田\t1\r", "Müller^Jürgen 山田\t1\r"},
		{"a\x1b[2Jb", `a\x1b[2Jb`},
		{"bell\x07 del\x7f", `bell\x07 del\x7f`},
		{"c1 \u009b31m", `c1 \xc2\x9b31m`},
		{"bad utf8 \xff", `bad utf8 \xff`},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		n, err := terminalSafe{&b}.Write([]byte(tt.in))
		if err != nil || n != len(tt.in) || b.String() != tt.want {
			t.Errorf("%q: wrote %q (%d, %v), want %q", tt.in, b.String(), n, err, tt.want)
		}
	}
}

// TestTerminalEscapesCLI: zip member and file names were printed raw, so a
// name holding ESC sequences cleared or recoloured the reader's terminal.
// Names are quoted now, and nothing a command prints holds a raw control
// byte.
func TestTerminalEscapesCLI(t *testing.T) {
	dir := t.TempDir()
	evil := "\x1b[2J\x1b[31mred"
	if err := os.WriteFile(filepath.Join(dir, evil+".dcm"), []byte("not dicom at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	zp := filepath.Join(dir, "names.zip")
	f, err := os.Create(zp)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	w, _ := zw.Create("member" + evil + "\x07.dcm")
	w.Write([]byte("not dicom either"))
	zw.Close()
	f.Close()
	r := teleread(t, t.TempDir(), "import", dir)
	out := r.stdout + r.stderr
	for _, c := range out {
		if c < 0x20 && c != '\n' && c != '\t' && c != '\r' || c == 0x7f {
			t.Fatalf("raw control byte %#x in %q", c, out)
		}
	}
	for _, want := range []string{`\x1b[2J\x1b[31mred.dcm"`, `member\x1b[2J\x1b[31mred\a.dcm"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output %q does not name %s quoted", out, want)
		}
	}
}
