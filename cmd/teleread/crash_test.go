package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"teleread/cache"
	"teleread/cache/cachetest"
)

// killAt runs teleread with the TELEREAD_TEST_STALL seam set to step (see
// cache.EnvTestStall), waits until the process says it stopped there and
// kills it with SIGKILL: the crash lands in the chosen window, not wherever a
// timer happened to fire. A process that ends without reaching the step
// fails the test.
func killAt(t *testing.T, home, step string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binPath, append([]string{"--home", home}, args...)...)
	cmd.Env = append(os.Environ(), "TELEREAD_CONFIG="+filepath.Join(t.TempDir(), "none.json"), cache.EnvTestStall+"="+step)
	var so bytes.Buffer
	cmd.Stdout = &so
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var se bytes.Buffer
	stalled := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		hit := false
		for sc.Scan() {
			se.WriteString(sc.Text() + "\n")
			if !hit && strings.HasPrefix(sc.Text(), "teleread: stalled at "+step) {
				hit = true
				stalled <- true
			}
		}
		io.Copy(io.Discard, pipe)
		if !hit {
			stalled <- false
		}
	}()
	select {
	case ok := <-stalled:
		if !ok {
			cmd.Wait()
			t.Fatalf("teleread %v ended without reaching %s:\n%s\n%s", args, step, so.String(), se.String())
		}
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("teleread %v did not reach %s within 2 minutes", args, step)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	return result{stdout: so.String(), stderr: se.String(), code: -1}
}

// cachedInstances counts the instances the cache at home indexes, per study.
func cachedInstances(t *testing.T, home string) map[string]int {
	t.Helper()
	var studies []struct {
		StudyInstanceUID  string
		NumberOfInstances int
	}
	r := teleread(t, home, "studies", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &studies); err != nil && strings.TrimSpace(r.stdout) != "null" {
		t.Fatalf("studies --json: %v %q", err, r.stdout)
	}
	out := map[string]int{}
	for _, s := range studies {
		out[s.StudyInstanceUID] = s.NumberOfInstances
	}
	return out
}

// checkAfterCrash runs `teleread verify` on a cache whose writer was killed:
// every indexed file present and intact; then no temporary file is left (the
// open by verify removes those of the dead writer).
func checkAfterCrash(t *testing.T, home string) {
	t.Helper()
	if v := teleread(t, home, "verify"); v.code != 0 {
		t.Fatalf("verify after SIGKILL failed:\n%s%s", v.stdout, v.stderr)
	}
	tmps, _ := os.ReadDir(filepath.Join(home, "tmp"))
	staged, _ := filepath.Glob(filepath.Join(home, "files", "*", ".*.part"))
	if len(tmps)+len(staged) != 0 {
		t.Fatalf("temporary files survived the next open: %d in tmp/, %d in files/", len(tmps), len(staged))
	}
}

var reImported = regexp.MustCompile(`imported (\d+), already present (\d+),`)

// TestKilledImportLeavesConsistentCache kills an import of 320 files (five
// groups) in each window of its second group's commit: staged but not
// placed, placed but not indexed, indexed. Each time the cache verifies, the
// kill landed in the middle of the import, and a second import imports
// exactly the instances the index lacks and finds the others present.
func TestKilledImportLeavesConsistentCache(t *testing.T) {
	requireCorpus(t)
	src := filepath.Join(corpusDir, "files", "ct_small_explicit_le.dcm")
	dir := t.TempDir()
	const total = 320
	if _, err := cachetest.MakeSeries(src, dir, total); err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{cache.StepImportStaged, cache.StepImportPlaced, cache.StepImportIndexed} {
		t.Run(step, func(t *testing.T) {
			home := t.TempDir()
			killAt(t, home, step+":2", "import", dir)
			checkAfterCrash(t, home)
			stored := 0
			for _, n := range cachedInstances(t, home) {
				stored += n
			}
			if stored == 0 || stored >= total {
				t.Fatalf("%d of %d instances indexed when killed: not in the middle", stored, total)
			}
			r := teleread(t, home, "import", dir)
			if r.code != 0 {
				t.Fatalf("second import: %s %s", r.stdout, r.stderr)
			}
			m := reImported.FindStringSubmatch(r.stdout)
			if m == nil {
				t.Fatalf("no summary in %q", r.stdout)
			}
			imported, present := atoi(m[1]), atoi(m[2])
			if imported != total-stored || present != stored {
				t.Errorf("second import: imported %d, already present %d; want %d and %d", imported, present, total-stored, stored)
			}
			if got := cachedInstances(t, home); len(got) != 1 {
				t.Fatalf("after resume: %v, want one study", got)
			} else {
				for _, n := range got {
					if n != total {
						t.Fatalf("after resume: %d instances, want %d", n, total)
					}
				}
			}
			checkAfterCrash(t, home)
		})
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// TestKilledSignIsAtomic kills `report --sign` inside the signing transaction
// (report written, outbox row not) and right after its commit (before the
// command says so). Signing is all or nothing: after the first kill the
// report is still the draft with its text and nothing waits in the outbox,
// and signing again queues it once; after the second it is signed with
// exactly one outbox row, and signing again adds none.
func TestKilledSignIsAtomic(t *testing.T) {
	requireCorpus(t)
	const study = "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322"
	tests := []struct {
		step      string
		wantState string
		wantRows  int
	}{
		{cache.StepSignReportWritten, "draft", 0},
		{cache.StepSignCommitted, "signed", 1},
	}
	for _, tt := range tests {
		t.Run(tt.step, func(t *testing.T) {
			home := t.TempDir()
			teleread(t, home, "import", filepath.Join(corpusDir, "files", "ct_small_explicit_le.dcm"))
			if r := teleread(t, home, "report", "--study", study, "--findings", "No change.", "--impression", "Stable."); r.code != 0 {
				t.Fatalf("draft: %s", r.stderr)
			}
			killAt(t, home, tt.step, "report", "--study", study, "--sign")
			checkAfterCrash(t, home)
			r := teleread(t, home, "report", "--study", study)
			if !strings.Contains(r.stdout, "state: "+tt.wantState+"\n") || !strings.Contains(r.stdout, "findings: No change.\n") {
				t.Errorf("after the kill: %q, want state %s with the findings kept", r.stdout, tt.wantState)
			}
			if rows := outboxRows(t, home); len(rows) != tt.wantRows {
				t.Errorf("after the kill: %d outbox rows, want %d", len(rows), tt.wantRows)
			}
			again := teleread(t, home, "report", "--study", study, "--sign")
			if tt.wantState == "draft" && again.code != 0 {
				t.Errorf("signing again: exit %d %s", again.code, again.stderr)
			}
			if rows := outboxRows(t, home); len(rows) != 1 || rows[0].State != cache.OutboxPending {
				t.Errorf("after signing again: outbox %+v, want one pending row", rows)
			}
		})
	}
}
