package main

import (
	"fmt"

	"teleread/cache"
	"teleread/viewer/dataset"
)

// openInput opens the DICOM file at path for info and render. A file stored
// in the cache is sealed on disk: it is read through the cache, which
// decrypts it (c is that cache, open until done). Any other file is the user's own and is read
// as it is. done closes what was opened.
func openInput(g *globals, path string) (f *dataset.File, c *cache.Cache, done func(), err error) {
	if !cache.IsStoredPath(g.home, path) {
		f, err := dataset.Open(path)
		if err != nil {
			return nil, nil, nil, err
		}
		return f, nil, func() { f.Close() }, nil
	}
	c, err = g.openCache()
	if err != nil {
		return nil, nil, nil, err
	}
	st, _, err := c.OpenStoredPath(path)
	if err != nil {
		c.Close()
		return nil, nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	f, err = dataset.OpenReaderAt(st, st.Size(), path, st)
	if err != nil {
		c.Close()
		return nil, nil, nil, err
	}
	return f, c, func() { f.Close(); c.Close() }, nil
}
