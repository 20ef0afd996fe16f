package cache

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sealfile "teleread/cache/seal"
)

// plainCache makes a cache as one written before files were sealed, and
// returns its home and each instance's bytes as imported.
func plainCache(t *testing.T) (string, map[string][]byte) {
	t.Helper()
	home := t.TempDir()
	sealFiles = false
	defer func() { sealFiles = true }()
	c, err := Open(home)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want := map[string][]byte{}
	for _, id := range []string{"ct_small_explicit_le", "mr_small_explicit_le", "mr_overlay_two_windows", "us_cine_jpeg_ybr422_30f",
		"sc_jpeg_baseline_rgb", "cr_mono1_chest_nometa", "image_deflate_sc"} {
		data, err := os.ReadFile(filepath.Join(corpusDir, "files", id+".dcm"))
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.Import(bytes.NewReader(data), id)
		if err != nil {
			t.Fatal(err)
		}
		disk, _ := os.ReadFile(res.Path)
		if !bytes.Equal(disk, data) {
			t.Fatalf("%s: the plain cache's file is not the plain bytes", id)
		}
		want[res.SOPInstanceUID] = data
	}
	return home, want
}

// checkSealed wants every file of the cache at home sealed on disk and
// handed back as imported, the marker written, and Verify content.
func checkSealed(t *testing.T, c *Cache, want map[string][]byte) {
	t.Helper()
	for sop, data := range want {
		abs, _, err := c.locate(sop)
		if err != nil {
			t.Fatal(err)
		}
		disk, _ := os.ReadFile(abs)
		if !sealfile.IsSealed(disk) {
			t.Errorf("%s: still plain", sop)
		}
		if got := storedBytes(t, c, sop); !bytes.Equal(got, data) {
			t.Errorf("%s: bytes differ from those imported", sop)
		}
	}
	if !c.allSealed() {
		t.Error("marker not written")
	}
	if probs, err := c.Verify(); err != nil || len(probs) != 0 {
		t.Errorf("verify: %v %v", probs, err)
	}
}

func TestSealFiles(t *testing.T) {
	home, want := plainCache(t)
	c, err := Open(home)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !c.SealPending() {
		t.Fatal("a cache of plain files is not pending sealing")
	}
	// Plain files read as plain until they are sealed.
	if probs, err := c.Verify(); err != nil || len(probs) != 0 {
		t.Errorf("verify before: %v %v", probs, err)
	}
	var last SealProgress
	calls := 0
	if err := c.SealFiles(func(p SealProgress) { last = p; calls++ }); err != nil {
		t.Fatal(err)
	}
	if calls != len(want) || last.Done != len(want) || last.Total != len(want) || last.Sealed != len(want) || last.Bytes == 0 {
		t.Errorf("progress: %d calls, last %+v", calls, last)
	}
	checkSealed(t, c, want)
	if c.SealPending() {
		t.Error("still pending after sealing")
	}
	// Once all are sealed, a plain file put back is refused.
	for sop, data := range want {
		abs, _, _ := c.locate(sop)
		os.WriteFile(abs, data, 0o600)
		if _, err := c.OpenInstance(sop); !strings.Contains(err.Error(), abs) || !errorsIsNotSealed(err) {
			t.Errorf("plain file after sealing: %v", err)
		}
		break
	}
}

func errorsIsNotSealed(err error) bool {
	return err != nil && strings.Contains(err.Error(), ErrFileNotSealed.Error())
}

// TestSealFilesKilled kills SealFiles at each step of sealing a file and at
// the end, and wants a cache where every file is plain (as imported) or
// sealed, that verifies, and that a second run finishes.
func TestSealFilesKilled(t *testing.T) {
	for _, tt := range []struct {
		stall  string
		sealed int // files sealed when killed; -1: all
	}{
		{StepSealWritten + ":1", 0},
		{StepSealWritten + ":4", 3},
		{StepSealRenamed + ":1", 1},
		{StepSealRenamed + ":5", 5},
		{StepSealDone, -1},
	} {
		stall := tt.stall
		t.Run(stall, func(t *testing.T) {
			home, want := plainCache(t)
			cmd := exec.Command(os.Args[0], "-test.run=^TestSealFilesHelper$")
			cmd.Env = append(os.Environ(), EnvTestStall+"="+stall, "TELEREAD_SEAL_HELPER_HOME="+home)
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			stalled := make(chan bool, 1)
			go func() {
				sc := bufio.NewScanner(stderr)
				for sc.Scan() {
					if strings.Contains(sc.Text(), "stalled at "+stall) {
						stalled <- true
						return
					}
				}
				stalled <- false
			}()
			select {
			case ok := <-stalled:
				if !ok {
					t.Fatal("helper ended without stalling")
				}
			case <-time.After(60 * time.Second):
				t.Fatal("helper did not stall")
			}
			cmd.Process.Kill()
			cmd.Wait()

			sealed := 0
			c, err := Open(home)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for sop, data := range want {
				abs, _, _ := c.locate(sop)
				disk, _ := os.ReadFile(abs)
				switch {
				case sealfile.IsSealed(disk):
					sealed++
				case !bytes.Equal(disk, data):
					t.Errorf("%s: neither sealed nor the plain bytes imported", sop)
				}
			}
			if wantSealed := tt.sealed; wantSealed < 0 && sealed != len(want) || wantSealed >= 0 && sealed != wantSealed {
				t.Errorf("%d of %d sealed when killed at %s", sealed, len(want), stall)
			}
			if probs, err := c.Verify(); err != nil || len(probs) != 0 {
				t.Errorf("verify after the kill: %v %v", probs, err)
			}
			if err := c.SealFiles(nil); err != nil {
				t.Fatal(err)
			}
			checkSealed(t, c, want)
		})
	}
}

// TestSealFilesHelper is the process TestSealFilesKilled kills.
func TestSealFilesHelper(t *testing.T) {
	home := os.Getenv("TELEREAD_SEAL_HELPER_HOME")
	if home == "" {
		return
	}
	c, err := Open(home)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SealFiles(nil); err != nil {
		t.Fatal(err)
	}
	c.Close()
}
