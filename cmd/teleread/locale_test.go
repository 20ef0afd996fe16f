package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestHeadlessQuietUnderCLocale: headless commands print nothing of the GUI
// toolkit's whatever the locale. Fyne parses the locale while the binary
// starts and used to log "Fyne error: Error parsing user locale C" on every
// command under LANG=C.UTF-8 (the default of many servers and containers).
func TestHeadlessQuietUnderCLocale(t *testing.T) {
	requireCorpus(t)
	ct := filepath.Join(corpusDir, "files", "ct_small_explicit_le.dcm")
	home := t.TempDir()
	envs := [][]string{
		{"LANG=C.UTF-8"}, {"LANG=C.utf8"}, {"LC_ALL=C.UTF-8"}, {"LANG=POSIX.UTF-8"}, {"LANG=C"}, {"LANG=POSIX"}, {},
		{"LANG=en_US.UTF-8", "LC_MESSAGES=C.UTF-8"},
	}
	cmds := [][]string{{"import", ct}, {"studies"}, {"info", ct}, {"verify"}, {"outbox"},
		{"render", ct, "--renderer", "cpu", "-o", filepath.Join(t.TempDir(), "ct.pgm")}}
	var base []string
	for _, kv := range os.Environ() {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES":
		default:
			base = append(base, kv)
		}
	}
	for _, env := range envs {
		for _, args := range cmds {
			cmd := exec.Command(binPath, append([]string{"--home", home}, args...)...)
			cmd.Env = append(append(append([]string{}, base...), env...), "TELEREAD_CONFIG="+filepath.Join(t.TempDir(), "none.json"))
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("%v %v: %v %s", env, args, err, stderr.String())
			}
			if strings.Contains(stderr.String(), "Fyne") || strings.Contains(stderr.String(), "locale") {
				t.Errorf("%v %v printed:\n%s", env, args, stderr.String())
			}
		}
	}
}
