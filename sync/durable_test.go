package sync

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// durableChildEnv names the home the child process of TestHomeFilesSynced
// writes its tables in.
const durableChildEnv = "TELEREAD_TEST_DURABLE_CHILD_HOME"

// TestDurableChild is the child process of TestHomeFilesSynced: it records a
// link estimate and a cut-off, writing a marker to stderr around each, so
// that the trace shows what each call did before it returned.
func TestDurableChild(t *testing.T) {
	home := os.Getenv(durableChildEnv)
	if home == "" {
		return
	}
	links, err := OpenLinkStats(LinkStatsPath(home))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(os.Stderr, "mark:links")
	if err := links.put("https://archive.invalid/dicom-web", LinkEstimate{StoredMbps: 48, RTTMillis: 31, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	cuts, err := OpenCutOffs(CutOffsPath(home), 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(os.Stderr, "mark:cutoffs")
	if err := cuts.Remember(CutOff{Archive: "https://archive.invalid/dicom-web", StudyUID: "1.2.3", SOPInstanceUID: "1.2.3.4", Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(os.Stderr, "mark:end")
}

// TestHomeFilesSynced: links.json and cutoffs.json are replaced the way the
// cache writes its files: a temporary file written and fsynced, renamed over
// the table, then the home directory fsynced, all before the call returns
// (a power cut after a rename that was never synced can leave an empty or
// missing table, or the old one after the new was reported written). A
// SIGKILL cannot show a missing sync, so the child runs under strace and the
// order of its system calls is checked.
func TestHomeFilesSynced(t *testing.T) {
	if _, err := exec.LookPath("strace"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("strace missing (Debian package strace)")
		}
		t.Skip(err)
	}
	home := t.TempDir()
	out := filepath.Join(t.TempDir(), "strace.txt")
	cmd := exec.Command("strace", "-f", "-y", "-qq", "-e", "signal=none", "-s", "256",
		"-e", "trace=write,fsync,fdatasync,rename,renameat,renameat2", "-o", out,
		os.Args[0], "-test.run", "^TestDurableChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), durableChildEnv+"="+home)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	phases := map[string][]string{}
	phase := ""
	mark := regexp.MustCompile(`"mark:(\w+)\\n"`)
	for _, line := range strings.Split(string(b), "\n") {
		if m := mark.FindStringSubmatch(line); m != nil {
			phase = m[1]
			continue
		}
		phases[phase] = append(phases[phase], line)
	}
	for _, tc := range []struct{ phase, file string }{
		{"links", "links.json"},
		{"cutoffs", "cutoffs.json"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			lines := phases[tc.phase]
			// The temporary file: written, then synced; renamed onto
			// the table; then the directory synced.
			tmp := regexp.QuoteMeta(home) + `/[^>"]*` + regexp.QuoteMeta(tc.file) + `[^>"]*\.tmp`
			steps := []*regexp.Regexp{
				regexp.MustCompile(`^\d+\s+write\(\d+<` + tmp + `>`),
				regexp.MustCompile(`^\d+\s+(fsync|fdatasync)\(\d+<` + tmp + `>`),
				regexp.MustCompile(`^\d+\s+rename(at2?)?\(.*"` + tmp + `".*"` + regexp.QuoteMeta(filepath.Join(home, tc.file)) + `"`),
				regexp.MustCompile(`^\d+\s+(fsync|fdatasync)\(\d+<` + regexp.QuoteMeta(home) + `>\)`),
			}
			next := 0
			for _, l := range lines {
				if next < len(steps) && steps[next].MatchString(l) {
					next++
				}
			}
			if next < len(steps) {
				t.Errorf("%s: missing, in order, %v:\n%s", tc.file, steps[next], strings.Join(lines, "\n"))
			}
			if _, err := os.Stat(filepath.Join(home, tc.file)); err != nil {
				t.Error(err)
			}
			left, _ := filepath.Glob(filepath.Join(home, "*.tmp"))
			hidden, _ := filepath.Glob(filepath.Join(home, ".*.tmp"))
			if len(left)+len(hidden) > 0 {
				t.Errorf("temporary files left: %v %v", left, hidden)
			}
		})
	}
}
