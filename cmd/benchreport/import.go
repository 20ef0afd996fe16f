package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"teleread/cache"
	"teleread/cache/cachetest"
	"teleread/viewer/dataset"
)

// importFloor is issue 2's floor for the full import, in instances per second.
const importFloor = 1000

// benchImport generates a CT series from the corpus' small CT, imports it into
// fresh caches (the whole durable path: parse, temp file, fsync, rename, index
// row) and parses its metadata only, beside one dcmdump run over the same
// files.
func benchImport(b *bench) error {
	src, err := b.corpusFile("ct_small_explicit_le")
	if err != nil {
		return err
	}
	paths, err := cachetest.MakeSeries(src, filepath.Join(b.tmp, "import-series"), b.instances)
	if err != nil {
		return err
	}
	n := float64(len(paths))
	fmt.Fprintf(b.out, "%d-instance CT series made from %s (%d bytes each), files in the page cache\n",
		len(paths), filepath.Base(src), fileSize(src))

	// Full durable import, each run into a fresh cache (opening it, which
	// creates the database, is not timed).
	var c *cache.Cache
	run := 0
	closeCache := func() {
		if c != nil {
			home := c.Home()
			c.Close()
			os.RemoveAll(home)
			c = nil
		}
	}
	defer closeCache()
	imp, impErr := b.eachRun(func() error {
		closeCache()
		run++
		var err error
		c, err = cache.Open(filepath.Join(b.tmp, fmt.Sprintf("import-cache-%d", run)))
		return err
	}, func() error {
		sum := c.ImportPaths(paths, nil)
		if sum.Imported != len(paths) {
			return fmt.Errorf("imported %d of %d (%d rejected, %d conflicts)", sum.Imported, len(paths), len(sum.Rejected), len(sum.Conflicts))
		}
		return nil
	})
	closeCache()

	// Metadata only: what indexing reads, without the store.
	parse, parseErr := b.perOp(func() error {
		for _, p := range paths {
			f, err := dataset.Open(p)
			if err != nil {
				return err
			}
			f.Close()
		}
		return nil
	})

	// dcmdump: one process over all files, output to /dev/null.
	dump, dumpErr := b.timeCommand(command{"dcmdump", paths})
	var startup time.Duration
	startupErr := dumpErr
	if dumpErr == nil {
		startup, startupErr = b.startup("dcmdump")
	}

	t := newPeerTable("dcmdump", "floor 1,000/s", n, "inst", dump, dumpErr, startup, startupErr)
	t.row("full durable import (cache.ImportPaths)", imp, impErr, "", func(ours, _ float64) string { return verdict(ours >= importFloor) })
	t.row("metadata parse only (dataset.Open)", parse, parseErr, "", nil)
	t.print(b.out)
	if dumpErr == nil {
		fmt.Fprintf(b.out, "  dcmdump: one process over all %d files (%s for all, %s per file); start-up on a trivial file %s.\n",
			len(paths), ms(dump), ms(dump/time.Duration(len(paths))), msOr(startup, startupErr))
		fmt.Fprintln(b.out, "  dcmdump parses and prints every element (to /dev/null) and writes nothing durable;")
		fmt.Fprintln(b.out, "  Teleread's import also copies and checksums each file, makes it durable (one filesystem sync per group of 64), renames it into place and indexes it in SQLite.")
	}
	return nil
}

// msOr formats d, or the error when there is one.
func msOr(d time.Duration, err error) string {
	if err != nil {
		return na(err)
	}
	return ms(d)
}

// trivialFile is a small valid DICOM file, the input that measures a peer's
// start-up time: a 3 KB SR document (no pixel data) for tools that only parse,
// a 64x64 uncompressed MR (10 KB, nothing to decode) for tools that need an
// image.
func (b *bench) trivialFile(image bool) (string, error) {
	ids := []string{"sr_basic_text", "mr_small_explicit_le"}
	if image {
		ids = ids[1:]
	}
	var firstErr error
	for _, id := range ids {
		p, err := b.corpusFile(id)
		if err == nil {
			return p, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return "", errors.Join(errors.New("no trivial input for start-up timing"), firstErr)
}

// startup returns the median time of a peer tool on the trivial file: its
// process start-up, loading its libraries and dictionaries included.
func (b *bench) startup(tool string) (time.Duration, error) {
	switch tool {
	case "dcmdump":
		p, err := b.trivialFile(false)
		if err != nil {
			return 0, err
		}
		return b.timeCommand(command{"dcmdump", []string{p}})
	case "gdcmconv":
		p, err := b.trivialFile(true)
		if err != nil {
			return 0, err
		}
		return b.timeCommand(command{"gdcmconv", []string{"--raw", p, filepath.Join(b.tmp, "startup-out.dcm")}})
	}
	return 0, fmt.Errorf("no start-up input for %s", tool)
}
