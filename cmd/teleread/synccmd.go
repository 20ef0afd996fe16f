package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	gosync "sync"
	"syscall"
	"time"

	tsync "teleread/sync"
)

func runSync(g *globals, args []string) int {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	once := fs.Bool("once", false, "pull everything assigned, flush the outbox, exit (0 only when all of it is ready and delivered)")
	archive := fs.String("archive", "", "DICOMweb root URL (default: config / TELEREAD_ARCHIVE)")
	reader := fs.String("reader", "", "reader's name as the archive records it (default: config / TELEREAD_READER)")
	priors := fs.Int("priors", -1, "prior studies to fetch per assigned study (default: config \"priors\", else 2)")
	priorMods := fs.String("prior-modalities", "", "only priors with these modalities (comma-separated; default all)")
	accessions := fs.String("accessions", "", "worklist as accession numbers (comma-separated) instead of the reader query")
	interval := fs.Duration("interval", time.Minute, "poll interval without --once")
	limit := fs.Float64("cache-limit-gb", 0, "evict least recently read studies beyond this size (0: config, else no limit); never unreported work")
	worklist := fs.String("worklist", "", "where assignments come from: query (default) or ups (UPS-RS workitems)")
	retryCutOff := fs.Bool("retry-cut-off", false, "fetch again the instances whose parts this archive sent too long (cut off), before their retry interval has passed")
	if _, err := interleaved(fs, args); err != nil {
		return 2
	}
	c, err := g.openCache()
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	conf, err := g.signedInConfig(c)
	if err != nil {
		return fail(err)
	}
	if *archive != "" {
		conf.Archive = *archive
	}
	if *reader != "" {
		conf.Reader = *reader
	}
	if *worklist != "" {
		conf.Worklist = *worklist
	}
	if *limit > 0 {
		conf.CacheLimitGB = *limit
	}
	if *priors >= 0 {
		conf.Priors = priors
	}
	if conf.Reader == "" && *accessions == "" && conf.WorklistQuery == "" && conf.Worklist != "ups" {
		return fail(errors.New("no reader: pass --reader NAME, set TELEREAD_READER, or put \"reader\" in " + configPath()))
	}
	link, err := conf.LinkForAccessions(c, splitList(*accessions))
	if err != nil {
		return fail(err)
	}
	link.Priors.Modalities = splitList(*priorMods)
	if *retryCutOff {
		co, err := tsync.OpenCutOffs(tsync.CutOffsPath(c.Home()), link.CutOffRetry)
		if err != nil {
			return fail(err)
		}
		n, err := co.Forget(link.Client.BaseURL())
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "retrying %d cut-off parts\n", n)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	out := &syncPrinter{prog: newProgress(isTerminal(os.Stderr)), archive: link.Display, verbose: *once, client: link.Client}
	svc := &tsync.Service{Cache: c, Interval: *interval, IgnoreBackoff: *once, OnEvent: out.event,
		Connect:   func(context.Context) (*tsync.Link, error) { return link, nil },
		Retention: tsync.PurgeExpired}
	if !*once {
		svc.Run(ctx)
		return out.code()
	}
	res, err := svc.RunOnce(ctx)
	if err != nil {
		return fail(err)
	}
	if !res.Complete() {
		return 1
	}
	return 0
}

// syncPrinter shows the sync service's events: progress on a terminal, a
// summary line per pull, evictions, and the outbox after each pass that did
// something (after every pass with --once).
type syncPrinter struct {
	prog    *progress
	archive string
	verbose bool
	client  *tsync.Client // for the link's estimate

	mu      gosync.Mutex
	failed  bool // the last pull or outbox pass left work undone
	offline bool // the outbox found the archive offline last time
}

func (p *syncPrinter) event(e tsync.Event) {
	p.prog.event(e)
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e.Kind {
	case tsync.PullDone:
		p.prog.done()
		p.failed = e.Err != nil
		switch {
		case errors.Is(e.Err, tsync.ErrSignInRequired):
			fmt.Fprintf(stderr, "teleread: sync: %v\nSign in again: teleread login (or teleread login --device)\n", e.Err)
		case e.Err != nil && errors.Is(e.Err, tsync.ErrOffline):
			fmt.Fprintf(stderr, "teleread: sync: OFFLINE: the archive %s cannot be reached (%v).\nCached studies stay readable; signed reports stay in the outbox.\n", p.archive, e.Err)
		case e.Err != nil:
			fmt.Fprintln(stderr, "teleread: sync:", e.Err)
		case e.Pull != nil:
			res := e.Pull
			fmt.Fprintf(stdout, "worklist: %d assigned, %d priors; %d ready; fetched %d instances (%s)\n",
				res.Assigned, res.Priors, len(res.Ready), res.Fetched, humanBytes(res.Bytes))
			if p.client != nil {
				fmt.Fprintf(stdout, "link: %s (%s)\n", p.client.LinkEstimate(), p.client.LinkChoice())
			}
			for uid, ferr := range res.Failed {
				fmt.Fprintf(stdout, "not ready: %s: %v\n", uid, ferr)
			}
		}
	case tsync.Evicted:
		if e.Purged {
			fmt.Fprintf(stdout, "purged %s (retention: key shredded, files and rows removed)\n", e.StudyUID)
			return
		}
		fmt.Fprintf(stdout, "evicted %s (%s)\n", e.StudyUID, humanBytes(e.Bytes))
	case tsync.Problem:
		fmt.Fprintln(stderr, "teleread:", e.Err)
	case tsync.OutboxDone:
		fr := e.Flush
		quiet := !p.verbose && e.Err == nil && fr.Delivered == 0 && fr.Failed == 0 && fr.Offline == p.offline
		p.offline = fr.Offline
		if quiet {
			return
		}
		switch {
		case e.Err != nil:
			fmt.Fprintln(stderr, "teleread: outbox:", e.Err)
		case fr.Offline:
			fmt.Fprintln(stderr, "teleread: outbox: archive offline, reports kept for later")
		}
		if e.Waiting >= 0 {
			fmt.Fprintf(stdout, "outbox: %d delivered now, %d waiting, %d failed\n", fr.Delivered, e.Waiting, fr.Failed)
		}
	}
}

// code is the exit status of a sync stopped by a signal: 1 when its last
// pull failed.
func (p *syncPrinter) code() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failed {
		return 1
	}
	return 0
}

func short(uid string) string {
	if len(uid) > 24 {
		return "…" + uid[len(uid)-23:]
	}
	return uid
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
