package cache

import (
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	sealfile "teleread/cache/seal"
)

// SealProgress is how far SealFiles has come.
type SealProgress struct {
	Done, Total int   // files looked at, files in the index
	Sealed      int   // files sealed now (the others were sealed before, or are missing)
	Bytes       int64 // plaintext bytes sealed now
}

// SealPending reports whether the cache may still hold plain files (written
// before files were sealed, or interrupted while sealing them).
func (c *Cache) SealPending() bool { return sealFiles && !c.allSealed() }

// SealFiles seals, in place, every stored file that is still plain: each is
// sealed to a temporary file beside it, synced, and renamed over it, so that
// a crash at any moment leaves every file either plain (and read as plain) or
// sealed, and the next run carries on where this one stopped. The index does
// not change (it records the plaintext's size and checksum). When every file
// is sealed it writes a marker, after which a plain file is refused. progress,
// if not nil, is called after each file. A file that is missing is left to
// Verify to report; one that cannot be sealed makes SealFiles return an error
// (after the others) and leaves the marker unwritten.
func (c *Cache) SealFiles(progress func(SealProgress)) error {
	if !c.SealPending() {
		return nil
	}
	list, err := c.storedList()
	if err != nil {
		return fmt.Errorf("cache: seal files: %w", err)
	}
	p := SealProgress{Total: len(list)}
	var failed []error
	for _, in := range list {
		n, err := c.sealFile(in)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			failed = append(failed, err)
		case n >= 0:
			p.Sealed++
			p.Bytes += n
		}
		p.Done++
		if progress != nil {
			progress(p)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("cache: seal files: %d of %d failed, first: %w", len(failed), len(list), failed[0])
	}
	if err := syncFilesystem(c.FilePath("")); err != nil {
		return fmt.Errorf("cache: seal files: %w", err)
	}
	Stall(StepSealDone)
	if err := c.writeSealedMarker(); err != nil {
		return fmt.Errorf("cache: seal files: %w", err)
	}
	return nil
}

// sealFile seals one stored file if it is plain, returning the plaintext
// bytes sealed (-1 when it was sealed already).
func (c *Cache) sealFile(in storedRow) (int64, error) {
	src, err := os.Open(in.abs)
	if err != nil {
		return 0, fmt.Errorf("cache: seal %s: %w", in.abs, err)
	}
	defer src.Close()
	var head [len(sealfile.Magic)]byte
	if n, _ := src.ReadAt(head[:], 0); sealfile.IsSealed(head[:n]) {
		return -1, nil
	}
	key, err := c.StudyKey(in.study)
	if err != nil {
		return 0, fmt.Errorf("cache: seal %s: %w", in.abs, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(in.abs), "."+c.own.token+"-*.part")
	if err != nil {
		return 0, fmt.Errorf("cache: seal %s: %w", in.abs, err)
	}
	st := c.track(&staged{tmp: tmp.Name()})
	w, err := sealfile.NewWriter(tmp, key, instanceBinding(in.study, in.sop))
	var n int64
	if err == nil {
		n, err = io.Copy(w, src)
	}
	if err == nil {
		err = w.Close()
	}
	if err == nil {
		Stall(StepSealWritten)
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), in.abs)
	}
	if err != nil {
		c.drop(st)
		return 0, fmt.Errorf("cache: seal %s: %w", in.abs, err)
	}
	c.untrack(st)
	Stall(StepSealRenamed)
	return n, nil
}

// writeSealedMarker records durably that every file is sealed.
func (c *Cache) writeSealedMarker() error {
	p := filepath.Join(c.home, sealedMarker)
	tmp, err := os.CreateTemp(filepath.Join(c.home, "tmp"), c.own.token+"-"+sealedMarker+"-*")
	if err != nil {
		return err
	}
	_, err = tmp.WriteString("instance files sealed (format 1)\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := syncDir(c.home); err != nil {
		return err
	}
	// Known from now on: every open of a stored file skips the look at its
	// first bytes that a cache still holding plain files needs.
	c.sealedAll.Store(true)
	return nil
}

// markSealedIfEmpty writes the marker for a cache with no instances: a new
// cache is sealed from its first file on.
func (c *Cache) markSealedIfEmpty() error {
	if !c.SealPending() {
		return nil
	}
	var one int
	err := c.db.QueryRow(`SELECT 1 FROM instances LIMIT 1`).Scan(&one)
	if err == nil {
		return nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return c.writeSealedMarker()
}
