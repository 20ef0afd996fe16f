package cache

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestClaimOwnerJudgedMeanwhile acts out two openers of one cache at once:
// between creating its new lock file and locking it, this one finds it locked
// by the other, which is judging it as a dead claimant's leftover (and will
// remove it). The claim must start over with a new file, not fail the open.
func TestClaimOwnerJudgedMeanwhile(t *testing.T) {
	home := t.TempDir()
	if err := os.Mkdir(filepath.Join(home, "owners"), 0o700); err != nil {
		t.Fatal(err)
	}
	judged := 0
	lockFile = func(f *os.File) (bool, error) {
		if strings.HasPrefix(filepath.Base(f.Name()), ".new-") && judged < 2 {
			judged++
			return false, nil // the other opener holds it
		}
		return tryLock(f)
	}
	defer func() { lockFile = tryLock }()
	o, err := claimOwner(home)
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	defer o.release(home)
	if judged != 2 {
		t.Fatalf("the lock was tried %d times while judged, want 2", judged)
	}
	if _, err := os.Stat(filepath.Join(home, "owners", o.token+".lock")); err != nil {
		t.Fatalf("the claimed lock file: %v", err)
	}
}
