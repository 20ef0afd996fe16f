package cache

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// An owner tags the temporary files of one open Cache, so that the next Open
// can tell a crashed writer's leftovers from the files another process (the
// app and a CLI import, say) is writing into the same cache right now. Each
// open Cache holds an exclusive lock on owners/TOKEN.lock for its lifetime;
// a lock file nobody holds belongs to a writer that died, and its temporary
// files (tmp/TOKEN-* and files/XX/.TOKEN-*.part) are removed.
type owner struct {
	token string
	lock  *os.File
}

// claimOwner makes and locks this Cache's owner file. The file is locked under
// a temporary name and then renamed, so a visible lock file is always held by
// a live owner or by none.
func claimOwner(home string) (*owner, error) {
	// Between CreateTemp and the lock, another process opening the cache
	// may take the new file for a dead claimant's leftover (liveOwners):
	// it locks the file to judge it and removes it. The rename then finds
	// nothing, or the lock here finds the file locked by that judge; either
	// way the claim starts over with a new file.
	var err error
	for attempt := 0; attempt < 8; attempt++ {
		var o *owner
		o, err = claimOwnerOnce(home)
		if err == nil {
			return o, nil
		}
		if !errors.Is(err, os.ErrNotExist) && !errors.Is(err, errClaimJudged) {
			break
		}
	}
	return nil, fmt.Errorf("owner lock: %w", err)
}

// errClaimJudged is a new lock file found locked before its claimant locked
// it: another opener is judging it as a dead claimant's leftover.
var errClaimJudged = errors.New("new lock file locked by another opener")

func claimOwnerOnce(home string) (*owner, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	token := hex.EncodeToString(b[:])
	dir := filepath.Join(home, "owners")
	f, err := os.CreateTemp(dir, ".new-*")
	if err != nil {
		return nil, err
	}
	held, err := lockFile(f)
	if err == nil && !held {
		err = errClaimJudged
	} else if err != nil {
		// A filesystem without locks: the lock file still names this
		// owner, and others judge it by its age (see liveOwners).
		err = nil
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(dir, token+".lock"))
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &owner{token: token, lock: f}, nil
}

// release drops the lock and its file (on a clean close).
func (o *owner) release(home string) {
	os.Remove(filepath.Join(home, "owners", o.token+".lock"))
	o.lock.Close()
}

// liveOwners returns the tokens whose lock is held (this Cache's included) and
// removes the lock files of dead owners, after their temporary files.
func liveOwners(home, self string) (map[string]bool, error) {
	dir := filepath.Join(home, "owners")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	live := map[string]bool{self: true}
	for _, e := range entries {
		token, ok := strings.CutSuffix(e.Name(), ".lock")
		if !ok || token == self {
			if strings.HasPrefix(e.Name(), ".new-") {
				removeIfUnlocked(filepath.Join(dir, e.Name()))
			}
			continue
		}
		p := filepath.Join(dir, e.Name())
		f, err := os.Open(p)
		if err != nil {
			continue // released meanwhile
		}
		held, err := lockFile(f)
		if err != nil {
			// No locks on this filesystem: an owner is taken for dead only
			// when its lock file is older than any session is likely to run.
			fi, serr := f.Stat()
			held = serr == nil && time.Since(fi.ModTime()) > lockless
		}
		if !held {
			f.Close()
			live[token] = true
			continue
		}
		// Dead: its staged files go first, then its lock file (still
		// holding the lock, so no one else judges it meanwhile).
		stale, _ := filepath.Glob(filepath.Join(home, "files", "*", "."+token+"-*.part"))
		for _, s := range stale {
			os.Remove(s)
		}
		os.Remove(p)
		f.Close()
	}
	return live, nil
}

func removeIfUnlocked(p string) {
	f, err := os.Open(p)
	if err != nil {
		return
	}
	defer f.Close()
	if held, err := lockFile(f); err == nil && held {
		os.Remove(p)
	}
}

// lockFile is tryLock; tests replace it to act out a filesystem without
// locks.
var lockFile = tryLock

// lockless is the age after which, on a filesystem without locks, an owner
// counts as dead.
const lockless = 7 * 24 * time.Hour

// tempOwner returns the owner token in a temporary file's name ("" if none).
func tempOwner(name string) string {
	name = strings.TrimPrefix(name, ".")
	token, _, ok := strings.Cut(name, "-")
	if !ok {
		return ""
	}
	return token
}
