package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"teleread/cache"
	"teleread/sync/atna"
)

func runAudit(g *globals, args []string) int {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	since := fs.String("since", "", "only events at or after T: RFC 3339 time, a date (2026-12-04) or a duration before now (24h)")
	verify := fs.Bool("verify", false, "check the hash chain; exit 1 naming the first line that does not follow")
	send := fs.Bool("send", false, "send the events not yet sent to the audit_syslog repository now; exit 1 if some could not be")
	rest, err := interleaved(fs, args)
	if err != nil {
		return 2
	}
	if len(rest) != 0 {
		fmt.Fprintln(stderr, "usage: teleread audit [--json] [--since T] | --verify | --send")
		return 2
	}
	if *send {
		return sendAudit(g)
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

// sendAudit sends what the audit trail holds after the forwarding position to
// the configured repository, retrying for up to 10 seconds.
func sendAudit(g *globals) int {
	conf, err := loadConfig()
	if err != nil {
		return fail(err)
	}
	if conf.AuditSyslog == nil || conf.AuditSyslog.Address == "" {
		return fail(errors.New("audit --send: no audit_syslog in " + configPath()))
	}
	ac, err := conf.AuditSyslog.ATNA()
	if err != nil {
		return fail(err)
	}
	f := atna.Start(g.home, ac)
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.Flush(ctx); err != nil {
		return fail(err)
	}
	n, _ := f.Sent()
	fmt.Fprintf(stdout, "audit: %d events sent to %s\n", n, ac.Address)
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
