//go:build !linux

package cache

import "os/exec"

// syncFilesystem flushes the filesystems with sync(8) where syncfs(2) is not
// available.
func syncFilesystem(dir string) error {
	return exec.Command("sync").Run()
}
