package sync

import (
	"os"
	"path/filepath"
)

// writeFileDurable replaces the file at path with b the way the cache writes
// its own files: a temporary file of its own beside it (the app and a `sync`
// may write at once), fsync, rename over path, then fsync of the directory,
// so that after a crash or a power cut the file holds the old content or the
// new, whole, and the rename itself is not lost. The temporary file is
// removed on failure.
func writeFileDurable(path string, b []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(b); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
