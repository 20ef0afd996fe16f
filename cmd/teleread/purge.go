package main

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"teleread/cache"
)

func runPurge(g *globals, args []string) int {
	fs := flag.NewFlagSet("purge", flag.ContinueOnError)
	study := fs.String("study", "", "purge this study (Study Instance UID)")
	delivered := fs.Bool("delivered", false, "purge every study with a report delivered to the archive")
	all := fs.Bool("all", false, "purge every cached study")
	expired := fs.Bool("expired", false, "purge what retention would: studies not accessed for retention_days, off the worklist")
	dryRun := fs.Bool("dry-run", false, "say what would be purged and what refused; change nothing")
	rest, err := interleaved(fs, args)
	n := 0
	for _, set := range []bool{*study != "", *delivered, *all, *expired} {
		if set {
			n++
		}
	}
	if err != nil || len(rest) != 0 || n != 1 {
		fmt.Fprintln(stderr, "usage: teleread purge --study UID | --delivered | --all | --expired [--dry-run]\n"+
			"A study with a report draft, or a report or consultation note not delivered, is never purged.")
		return 2
	}
	days := 0
	if *expired {
		conf, err := loadConfig()
		if err != nil {
			return fail(err)
		}
		if days = conf.RetentionDays; days <= 0 {
			fmt.Fprintln(stdout, "purge: retention is off (retention_days is 0)")
			return 0
		}
	}
	c, err := g.openCache()
	if err != nil {
		return fail(err)
	}
	defer c.Close()

	var uids []string
	switch {
	case *study != "":
		uids = []string{*study}
	case *delivered:
		uids, err = c.StudiesDelivered()
	case *all:
		uids, err = c.StudyUIDs()
	case *expired:
		uids, err = c.Expired(time.Duration(days)*24*time.Hour, time.Now())
	}
	if err != nil {
		return fail(err)
	}
	why := "on demand (purge --study)"
	switch {
	case *delivered:
		why = "on demand (purge --delivered)"
	case *all:
		why = "on demand (purge --all)"
	case *expired:
		why = fmt.Sprintf("retention: not accessed for %d days (purge --expired)", days)
	}
	code, purged, refused := 0, 0, 0
	for _, uid := range uids {
		if *dryRun {
			err = c.PurgeCheck(uid)
			if err == nil {
				fmt.Fprintf(stdout, "would purge %s\n", uid)
				purged++
				continue
			}
		} else {
			var p cache.Purged
			p, err = c.Purge(uid, why)
			if err == nil {
				fmt.Fprintf(stdout, "purged %s: key shredded, %d files (%s) and its rows removed\n", uid, p.Files, humanBytes(p.Bytes))
				purged++
				continue
			}
		}
		var re *cache.PurgeRefusedError
		switch {
		case errors.As(err, &re):
			fmt.Fprintf(stderr, "teleread: purge: refused: %v\n", re)
			refused++
		case errors.Is(err, cache.ErrNotFound):
			fmt.Fprintf(stderr, "teleread: purge: study %s is not in the cache\n", uid)
		default:
			fmt.Fprintln(stderr, "teleread: purge:", err)
		}
		code = 1
	}
	verb := "purged"
	if *dryRun {
		verb = "would be purged"
	}
	fmt.Fprintf(stdout, "purge: %d %s %s, %d refused\n", purged, plural(purged, "study", "studies"), verb, refused)
	return code
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
