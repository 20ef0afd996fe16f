//go:build !unix

package dataset

import "os"

func openFile(path string) (*os.File, error) { return os.Open(path) }
