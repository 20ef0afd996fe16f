package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"teleread/cache"
)

// globals are the options every subcommand shares.
type globals struct {
	home    string
	sealErr error // what encrypting a plain cache's files on open failed on
}

// parseGlobals reads the global flags that come before the subcommand.
func parseGlobals(args []string) (*globals, []string, error) {
	g := &globals{}
	fs := flag.NewFlagSet("teleread", flag.ContinueOnError)
	fs.StringVar(&g.home, "home", "", "cache directory (default $TELEREAD_HOME, else the per-user data directory)")
	fs.Usage = usage
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if g.home == "" {
		g.home = cache.DefaultHome()
	}
	return g, fs.Args(), nil
}

func (g *globals) openCache() (*cache.Cache, error) {
	c, err := cache.OpenWith(g.home, cache.Options{Passphrase: passphraseFunc()})
	if err != nil {
		return nil, err
	}
	// A file that cannot be encrypted (unreadable, say) does not stop the
	// command: plain files stay readable until all are encrypted, and
	// verify names what is wrong.
	if g.sealErr = sealCache(c); g.sealErr != nil {
		fmt.Fprintln(stderr, "teleread: encrypting the cached files:", g.sealErr)
	}
	return c, nil
}

func usage() {
	var names []string
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("usage: teleread [--home DIR] [command] [arguments]\n\ncommands:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-8s %s\n", n, commands[n].summary)
	}
	b.WriteString("\nRun 'teleread COMMAND -h' for a command's options.\n")
	fmt.Fprint(os.Stderr, b.String())
}

// interleaved lets flags follow positional arguments ("import DIR --json"), which
// the standard flag package stops at.
func interleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
