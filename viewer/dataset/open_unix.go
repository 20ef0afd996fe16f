//go:build unix

package dataset

import (
	"os"
	"syscall"
)

// openFile opens path for reading as a plain blocking descriptor: os.Open
// also makes it non-blocking and tries to register it with the network
// poller, which regular files never use, and those system calls are a tenth
// of opening and decoding a small file.
func openFile(path string) (*os.File, error) {
	for {
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return os.NewFile(uintptr(fd), path), nil
	}
}
