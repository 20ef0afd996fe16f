package main

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"teleread/cache"
)

func runAudit(g *globals, args []string) int {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	since := fs.String("since", "", "only events at or after T: RFC 3339 time, a date (2026-12-04) or a duration before now (24h)")
	verify := fs.Bool("verify", false, "check the hash chain; exit 1 naming the first line that does not follow")
	rest, err := interleaved(fs, args)
	if err != nil {
		return 2
	}
	if len(rest) != 0 {
		fmt.Fprintln(stderr, "usage: teleread audit [--json] [--since T] | --verify")
		return 2
	}
	if *verify {
		n, err := cache.VerifyAudit(g.home)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "audit.log: %d lines, chain intact\n", n)
		return 0
	}
	var from time.Time
	if *since != "" {
		if from, err = parseSince(*since, time.Now()); err != nil {
			fmt.Fprintln(stderr, "teleread: audit:", err)
			return 2
		}
	}
	evs, err := cache.ReadAudit(g.home, from)
	if err != nil {
		return fail(err)
	}
	if *asJSON {
		if evs == nil {
			evs = []cache.AuditEvent{}
		}
		return printJSON(evs)
	}
	for _, e := range evs {
		fmt.Fprintf(stdout, "%s  %-10s %-20s %-40s %s\n", e.Time.Local().Format(time.RFC3339), e.User, e.Action, e.Study, e.Detail)
	}
	return 0
}

// parseSince reads --since: an RFC 3339 time, a date (local midnight) or a
// duration counted back from now.
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, time.Local); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(strings.TrimPrefix(s, "-")); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("--since %q: want an RFC 3339 time, a date YYYY-MM-DD or a duration like 24h", s)
}
