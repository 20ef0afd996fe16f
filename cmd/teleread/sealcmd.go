package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"teleread/cache"
)

// sealCache seals the plain files of a cache written before files were
// encrypted at rest (cache.SealFiles), showing progress: a live line on a
// terminal, a line before and after elsewhere. Every command that opens the
// cache does it first; an interrupted run carries on the next time.
func sealCache(c *cache.Cache) error {
	if !c.SealPending() {
		return nil
	}
	line := newLiveLine(isTerminal(os.Stderr))
	start := time.Now()
	said := false
	err := c.SealFiles(func(p cache.SealProgress) {
		if !said && p.Sealed > 0 {
			// Said once there is something to seal: a run that finds
			// every file sealed already (resumed at its end) stays quiet.
			line.clear()
			fmt.Fprintf(stderr, "encrypting the cached files (once, for encryption at rest): %d files\n", p.Total)
			said = true
		}
		line.draw("encrypt: " + progressLine("files", p.Done, p.Total, p.Bytes, time.Since(start)))
		if p.Done == p.Total && said {
			line.clear()
			fmt.Fprintf(stderr, "encrypted %d files (%s) in %s\n", p.Sealed, humanBytes(p.Bytes), time.Since(start).Round(time.Millisecond))
		}
	})
	line.clear()
	return err
}

// runMigrate seals the cache's plain files (what any command does when it
// opens the cache) and says where the cache stands.
func runMigrate(g *globals, args []string) int {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: teleread migrate")
		return 2
	}
	c, err := g.openCache()
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	if g.sealErr != nil {
		return 1
	}
	fmt.Fprintln(stdout, "every cached file is encrypted")
	return 0
}
