package cache

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// keyChildEnv names the home the child process of TestKeyWritesSynced works
// in.
const keyChildEnv = "TELEREAD_TEST_KEY_CHILD_HOME"

// TestKeyChild is the child process of TestKeyWritesSynced: it makes a study
// key and shreds another, writing a marker to stderr around each, so that
// the trace shows what each call did before it returned.
func TestKeyChild(t *testing.T) {
	home := os.Getenv(keyChildEnv)
	if home == "" {
		return
	}
	c, err := Open(home)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintln(os.Stderr, "mark:studykey")
	if _, err := c.StudyKey("1.2.826.0.1.3680043.8.498.77"); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(os.Stderr, "mark:shred")
	if err := c.ShredStudyKey(studyUIDs[0]); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(os.Stderr, "mark:end")
}

// TestKeyWritesSynced: a new study key is in the write-ahead log and the log
// synced before StudyKey returns (a file written with the key after a power
// cut that took back the key would be unreadable: the index otherwise runs
// with synchronous=NORMAL, which does not sync at commit), and a shred's
// delete is synced and checkpointed into index.db (synced) before
// ShredStudyKey returns. A SIGKILL cannot show a missing sync, so the child
// runs under strace and the order of its system calls is checked.
func TestKeyWritesSynced(t *testing.T) {
	if _, err := exec.LookPath("strace"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("strace missing (Debian package strace)")
		}
		t.Skip(err)
	}
	home := t.TempDir()
	c, err := Open(home)
	if err != nil {
		t.Fatal(err)
	}
	studyKeys(t, c, studyUIDs[:1])
	c.Close()

	out := filepath.Join(t.TempDir(), "strace.txt")
	cmd := exec.Command("strace", "-f", "-y", "-qq", "-e", "signal=none", "-s", "64",
		"-e", "trace=write,pwrite64,fsync,fdatasync", "-o", out,
		os.Args[0], "-test.run", "^TestKeyChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), keyChildEnv+"="+home)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	phases := map[string][]string{}
	phase := ""
	for _, line := range strings.Split(string(b), "\n") {
		if m := regexp.MustCompile(`"mark:(\w+)\\n"`).FindStringSubmatch(line); m != nil {
			phase = m[1]
			continue
		}
		phases[phase] = append(phases[phase], line)
	}
	// syncedAfterWrite reports whether the phase wrote to the file and then
	// synced it after its last write (SQLite syncs a new log's header before
	// the frames even with synchronous=NORMAL: that sync does not count).
	syncedAfterWrite := func(phase, file string) bool {
		write := regexp.MustCompile(`pwrite64\(\d+<[^>]*/` + regexp.QuoteMeta(file) + `>`)
		sync := regexp.MustCompile(`(fsync|fdatasync)\(\d+<[^>]*/` + regexp.QuoteMeta(file) + `>`)
		last, synced := -1, false
		for i, l := range phases[phase] {
			if write.MatchString(l) {
				last, synced = i, false
			} else if last >= 0 && sync.MatchString(l) {
				synced = true
			}
		}
		return synced
	}
	checks := []struct{ phase, file string }{
		{"studykey", "index.db-wal"}, // the new key's commit
		{"shred", "index.db"},        // the checkpoint that overwrote the key's page
	}
	for _, ck := range checks {
		if !syncedAfterWrite(ck.phase, ck.file) {
			t.Errorf("%s: %s not written and synced before it returned:\n%s", ck.phase, ck.file, strings.Join(phases[ck.phase], "\n"))
		}
	}
}
