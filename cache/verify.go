package cache

import (
	"fmt"
	"io"
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

// Verify checks that every indexed instance's file is present with its recorded
// size and checksum, and that no temporary file is left over.
func (c *Cache) Verify() ([]Problem, error) {
	insts, err := c.AllInstances()
	if err != nil {
		return nil, err
	}
	var probs []Problem
	for _, in := range insts {
		if p := checkFile(in); p != "" {
			probs = append(probs, Problem{SOPInstanceUID: in.SOPInstanceUID, Path: in.Path, What: p})
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

func checkFile(in Instance) string {
	f, err := os.Open(in.Path)
	if err != nil {
		return "file missing"
	}
	defer f.Close()
	h, format := newChecksum(in.Checksum)
	n, err := io.Copy(h, f)
	if err != nil {
		return "unreadable: " + err.Error()
	}
	if n != in.Size {
		return fmt.Sprintf("size %d, indexed %d", n, in.Size)
	}
	if format(h.Sum(nil)) != in.Checksum {
		return "checksum differs from the index"
	}
	return ""
}
