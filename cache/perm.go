package cache

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// The home holds patient data: on every Open it is made private to its
// owner, whatever the umask was or whoever made the folder (--home pointing
// at an existing 0755 folder let another local user read names and birth
// dates from index.db). MkdirAll and SQLite only set modes on what they
// create, so the modes are set explicitly.
const (
	homeMode = 0o700
	fileMode = 0o600
)

// privateFiles are the files directly in the home that hold patient data or
// its traces.
var privateFiles = []string{"index.db", "index.db-wal", "index.db-shm", auditFile, auditHead}

// restrictHome makes the home and its folders private and creates index.db
// 0600 before SQLite opens it, so that SQLite (which gives -wal and -shm the
// database's mode) never makes a readable file.
func restrictHome(home string) error {
	for _, d := range []string{home, filepath.Join(home, "files"), filepath.Join(home, "tmp"), filepath.Join(home, "owners")} {
		if err := os.Chmod(d, homeMode); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(filepath.Join(home, "index.db"), os.O_RDONLY|os.O_CREATE, fileMode)
	if err != nil {
		return err
	}
	f.Close()
	return restrictFiles(home)
}

// restrictFiles sets the private files that exist to 0600.
func restrictFiles(home string) error {
	for _, name := range privateFiles {
		if err := os.Chmod(filepath.Join(home, name), fileMode); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}
