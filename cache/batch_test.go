package cache

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"teleread/cache/cachetest"
)

// TestBatch: staged instances are invisible until Commit; a batch abandoned
// (as by a crash) leaves nothing indexed and its temporary files are cleaned by
// the next Open; duplicates and conflicts inside one batch are told apart.
func TestBatch(t *testing.T) {
	dir := t.TempDir()
	paths, err := cachetest.MakeSeries(filepath.Join(corpusDir, "files", "ct_small_explicit_le.dcm"), t.TempDir(), 5)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	b := c.NewBatch(SourceArchive)
	for _, p := range paths[:3] {
		data, _ := os.ReadFile(p)
		if _, err := b.Add(bytes.NewReader(data), p); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := c.AllInstances(); len(n) != 0 {
		t.Fatalf("%d instances indexed before Commit", len(n))
	}
	c.Close() // abandoned, as by a crash
	c, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if tmps, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(tmps) != 0 {
		t.Fatalf("%d staged files survived Open", len(tmps))
	}

	b = c.NewBatch(SourceArchive)
	first, _ := os.ReadFile(paths[0])
	changed := bytes.Clone(first)
	changed[len(changed)-1] ^= 1
	for _, data := range [][]byte{first, first, changed} {
		if _, err := b.Add(bytes.NewReader(data), "x"); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range paths[1:] {
		data, _ := os.ReadFile(p)
		b.Add(bytes.NewReader(data), p)
	}
	if _, err := b.Add(bytes.NewReader([]byte("not dicom")), "bad"); !errors.Is(err, ErrRejected) {
		t.Fatalf("garbage: %v", err)
	}
	stored, err := b.Commit()
	if !errors.Is(err, ErrConflict) {
		t.Errorf("commit error %v, want the conflict", err)
	}
	if len(stored) != 6 { // 5 distinct + the duplicate of the first
		t.Errorf("stored %d, want 6", len(stored))
	}
	if n, _ := c.AllInstances(); len(n) != 5 {
		t.Errorf("%d instances indexed, want 5", len(n))
	}
	if probs, _ := c.Verify(); len(probs) != 0 {
		t.Errorf("verify: %v", probs)
	}
}

// TestStagedFilesOfOtherWriters: the temporary files of a writer that died
// (its owner lock not held) are removed by the next Open, while those of a
// Cache still open on the same home (another process importing now) are
// kept, committed later, and not reported by Verify.
func TestStagedFilesOfOtherWriters(t *testing.T) {
	dir := t.TempDir()
	paths, err := cachetest.MakeSeries(filepath.Join(corpusDir, "files", "ct_small_explicit_le.dcm"), t.TempDir(), 2)
	if err != nil {
		t.Fatal(err)
	}
	live, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	b := live.NewBatch(SourceArchive)
	data, _ := os.ReadFile(paths[0])
	if _, err := b.AddBytes(data, paths[0]); err != nil {
		t.Fatal(err)
	}

	// A writer that died: its lock file is there but nobody holds it.
	const dead = "00000000deadbeef"
	leftovers := []string{
		filepath.Join(dir, "files", "ab", "."+dead+"-1.part"),
		filepath.Join(dir, "tmp", dead+"-2.part"),
		filepath.Join(dir, "tmp", "in-3.part"), // no owner at all
	}
	for _, p := range append(leftovers, filepath.Join(dir, "owners", dead+".lock")) {
		if err := os.WriteFile(p, []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	other, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for _, p := range leftovers {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s survived Open (%v)", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "owners", dead+".lock")); !os.IsNotExist(err) {
		t.Errorf("dead owner's lock file survived Open")
	}
	if probs, err := other.Verify(); err != nil || len(probs) != 0 {
		t.Errorf("verify beside a live writer: %v %v", probs, err)
	}
	if stored, err := b.Commit(); err != nil || len(stored) != 1 {
		t.Fatalf("the live writer's commit after another Open: %v %v", stored, err)
	}
	if probs, err := other.Verify(); err != nil || len(probs) != 0 {
		t.Errorf("verify: %v %v", probs, err)
	}
}

// TestOwnersWithoutLocks: on a filesystem that refuses locks, Open still
// works, and another owner's staged files are kept unless its lock file is
// older than lockless.
func TestOwnersWithoutLocks(t *testing.T) {
	lockFile = func(*os.File) (bool, error) { return false, errors.New("locks not supported") }
	defer func() { lockFile = tryLock }()
	tests := []struct {
		name string
		age  time.Duration
		kept bool
	}{
		{"recent owner", time.Hour, true},
		{"week-old owner", lockless + time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			c.Close()
			const other = "00000000feedf00d"
			lock := filepath.Join(dir, "owners", other+".lock")
			staged := filepath.Join(dir, "files", "ab", "."+other+"-1.part")
			for _, p := range []string{lock, staged} {
				if err := os.WriteFile(p, nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			old := time.Now().Add(-tt.age)
			if err := os.Chtimes(lock, old, old); err != nil {
				t.Fatal(err)
			}
			c, err = Open(dir)
			if err != nil {
				t.Fatalf("open without locks: %v", err)
			}
			defer c.Close()
			if _, err := os.Stat(staged); (err == nil) != tt.kept {
				t.Errorf("staged file kept = %v, want %v", err == nil, tt.kept)
			}
			if _, err := c.ImportFile(filepath.Join(corpusDir, "files", "ct_small_explicit_le.dcm")); err != nil {
				t.Errorf("import without locks: %v", err)
			}
		})
	}
}
