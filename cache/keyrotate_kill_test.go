package cache

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// rotateChildEnv names the home the child process of the kill tests rotates.
const rotateChildEnv = "TELEREAD_TEST_ROTATE_HOME"

// TestRotateChild is the child process of the kill tests: it opens the cache
// named by rotateChildEnv and rotates its master key (to the keystore in
// TELEREAD_TEST_ROTATE_TO, when set). Without the variable it does nothing.
func TestRotateChild(t *testing.T) {
	home := os.Getenv(rotateChildEnv)
	if home == "" {
		return
	}
	c, err := OpenWith(home, Options{Keystore: os.Getenv("TELEREAD_TEST_ROTATE_FROM")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.RotateMasterKey(context.Background(), RotateOptions{Keystore: os.Getenv("TELEREAD_TEST_ROTATE_TO")}); err != nil {
		t.Fatal(err)
	}
}

// rotateKilled runs TestRotateChild on home, stalled at step, and kills it
// with SIGKILL once it says it is there.
func rotateKilled(t *testing.T, home, step string, env ...string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestRotateChild$", "-test.count=1")
	cmd.Env = append(append(os.Environ(), rotateChildEnv+"="+home, EnvTestStall+"="+step), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stalled := make(chan bool, 1)
	var said strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			said.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "stalled at "+step) {
				stalled <- true
				return
			}
		}
		stalled <- false
	}()
	select {
	case ok := <-stalled:
		if !ok {
			cmd.Wait()
			t.Fatalf("rotation did not reach %s:\n%s%s", step, said.String(), out.String())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("rotation did not reach %s in a minute", step)
	}
	cmd.Process.Kill()
	cmd.Wait()
}

// TestRotateKilled: SIGKILL at every step of a rotation leaves a cache that
// opens, whose study keys and record key unwrap to what they were, at the
// generation the step implies (the old one before the commit, the new one
// after); running the rotation again then completes it.
func TestRotateKilled(t *testing.T) {
	tests := []struct {
		step    string
		wantGen int64
	}{
		{StepKeysRotateStored, 1},
		{StepKeysRotateRewrapped, 1},
		{StepKeysRotateCommitted, 2},
	}
	for _, tt := range tests {
		t.Run(tt.step, func(t *testing.T) {
			home := t.TempDir()
			c, err := Open(home)
			if err != nil {
				t.Fatal(err)
			}
			keys := studyKeys(t, c, studyUIDs)
			record := c.RecordKey()
			c.Close()

			rotateKilled(t, home, tt.step)

			c, err = Open(home)
			if err != nil {
				t.Fatalf("open after a rotation killed at %s: %v", tt.step, err)
			}
			defer c.Close()
			if info, _ := c.KeyInfo(); info.Generation != tt.wantGen || info.StudyKeys != len(studyUIDs) {
				t.Fatalf("after a kill at %s: %+v, want generation %d with %d study keys", tt.step, info, tt.wantGen, len(studyUIDs))
			}
			sameKeys(t, c, keys)
			if !bytes.Equal(c.RecordKey(), record) {
				t.Fatal("record key changed")
			}
			if problems, err := c.Verify(); err != nil || len(problems) > 0 {
				t.Fatalf("verify: %v %v", problems, err)
			}
			res, err := c.RotateMasterKey(context.Background(), RotateOptions{})
			if err != nil || res.Generation != tt.wantGen+1 {
				t.Fatalf("rotate again: %+v %v", res, err)
			}
			sameKeys(t, c, keys)
		})
	}
}
