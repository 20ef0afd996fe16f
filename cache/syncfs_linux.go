package cache

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// syncFilesystem flushes every dirty page and the journal of the filesystem
// holding dir (syncfs(2)): one call instead of an fsync per file and directory.
func syncFilesystem(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("cache: sync: %w", err)
	}
	defer d.Close()
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		return fmt.Errorf("cache: syncfs: %w", err)
	}
	return nil
}
