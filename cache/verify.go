package cache

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Problem is one thing Verify found wrong.
type Problem struct {
	SOPInstanceUID string // empty for problems not tied to an instance
	Path           string
	What           string
}

func (p Problem) String() string {
	if p.SOPInstanceUID == "" {
		return fmt.Sprintf("%s: %s", p.Path, p.What)
	}
	return fmt.Sprintf("%s (%s): %s", p.SOPInstanceUID, p.Path, p.What)
}

// Verify checks that every indexed instance's file is present and holds the
// bytes received: a sealed file must open with its study's key and binding
// (not changed, cut short or swapped), and its plaintext must have the
// recorded size and checksum, so a cache that verifies returns, after
// decryption, exactly the bytes that arrived. It also reports temporary files
// left over.
func (c *Cache) Verify() ([]Problem, error) {
	insts, err := c.storedList()
	if err != nil {
		return nil, fmt.Errorf("cache: verify: %w", err)
	}
	var probs []Problem
	for _, in := range insts {
		if p := c.checkFile(in); p != "" {
			probs = append(probs, Problem{SOPInstanceUID: in.sop, Path: in.abs, What: p})
		}
	}
	// Temporary files of live owners (this Cache, another process importing
	// now) are work in progress, not leftovers.
	live, err := liveOwners(c.home, c.own.token)
	if err != nil {
		return nil, fmt.Errorf("cache: verify: %w", err)
	}
	tmps, err := os.ReadDir(filepath.Join(c.home, "tmp"))
	if err != nil {
		return nil, fmt.Errorf("cache: verify: %w", err)
	}
	staged, _ := filepath.Glob(filepath.Join(c.home, "files", "*", ".*.part"))
	for _, e := range tmps {
		staged = append(staged, filepath.Join(c.home, "tmp", e.Name()))
	}
	for _, p := range staged {
		if !live[tempOwner(filepath.Base(p))] {
			probs = append(probs, Problem{Path: p, What: "leftover temporary file"})
		}
	}
	return probs, nil
}

func (c *Cache) checkFile(in storedRow) string {
	f, err := c.openStoredAt(in.abs, in.study, in.sop)
	if errors.Is(err, fs.ErrNotExist) {
		return "file missing"
	}
	if errors.Is(err, ErrFileTampered) {
		return "sealed file fails authentication (changed, cut short, or another instance's file)"
	}
	if errors.Is(err, ErrFileNotSealed) {
		return "plain file where a sealed one belongs"
	}
	if err != nil {
		return "unreadable: " + err.Error()
	}
	defer f.Close()
	h, format := newChecksum(in.checksum)
	n, err := io.Copy(h, io.NewSectionReader(f, 0, f.Size()))
	if err != nil {
		if errors.Is(err, ErrFileTampered) {
			return "sealed file fails authentication (changed, cut short, or another instance's file)"
		}
		return "unreadable: " + err.Error()
	}
	if n != in.size {
		return fmt.Sprintf("size %d, indexed %d", n, in.size)
	}
	if format(h.Sum(nil)) != in.checksum {
		return "bytes (decrypted) differ from those received: checksum differs from the index"
	}
	return ""
}
