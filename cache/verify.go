package cache

import (
	"crypto/sha256"
	"encoding/hex"
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
// size and SHA-256, and that no temporary file is left over.
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
	tmps, err := os.ReadDir(filepath.Join(c.home, "tmp"))
	if err != nil {
		return nil, fmt.Errorf("cache: verify: %w", err)
	}
	for _, e := range tmps {
		probs = append(probs, Problem{Path: filepath.Join(c.home, "tmp", e.Name()), What: "leftover temporary file"})
	}
	return probs, nil
}

func checkFile(in Instance) string {
	f, err := os.Open(in.Path)
	if err != nil {
		return "file missing"
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "unreadable: " + err.Error()
	}
	if n != in.Size {
		return fmt.Sprintf("size %d, indexed %d", n, in.Size)
	}
	if hex.EncodeToString(h.Sum(nil)) != in.SHA256 {
		return "SHA-256 differs from the index"
	}
	return ""
}
