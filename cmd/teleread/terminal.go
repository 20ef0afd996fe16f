package main

import (
	"io"
	"os"
	"unicode/utf8"
)

// stdout and stderr are what the commands print to: os.Stdout and os.Stderr
// with control characters escaped. Names come from files, zip members and
// archives; one holding ESC sequences cleared or recoloured the reader's
// terminal. Names are also printed with %q; this catches the rest (error
// texts, patient names, descriptions). Newlines, tabs and the carriage
// returns of progress lines pass.
var (
	stdout io.Writer = terminalSafe{os.Stdout}
	stderr io.Writer = terminalSafe{os.Stderr}
)

// terminalSafe escapes C0 and C1 control characters (but \n, \t and \r) and
// DEL as \xNN, and invalid UTF-8 bytes likewise.
type terminalSafe struct{ w io.Writer }

func (t terminalSafe) Write(p []byte) (int, error) {
	clean := true
	for i := 0; i < len(p); {
		r, n := utf8.DecodeRune(p[i:])
		if unsafeRune(r, n) {
			clean = false
			break
		}
		i += n
	}
	if clean {
		return t.w.Write(p)
	}
	const hex = "0123456789abcdef"
	out := make([]byte, 0, len(p)+16)
	for i := 0; i < len(p); {
		r, n := utf8.DecodeRune(p[i:])
		if unsafeRune(r, n) {
			for _, b := range p[i : i+n] {
				out = append(out, '\\', 'x', hex[b>>4], hex[b&15])
			}
		} else {
			out = append(out, p[i:i+n]...)
		}
		i += n
	}
	if _, err := t.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// unsafeRune reports whether a decoded rune (n bytes) must not reach a
// terminal raw.
func unsafeRune(r rune, n int) bool {
	switch {
	case r == utf8.RuneError && n <= 1:
		return true
	case r == '\n' || r == '\t' || r == '\r':
		return false
	case r < 0x20 || r == 0x7F || (r >= 0x80 && r <= 0x9F):
		return true
	}
	return false
}
