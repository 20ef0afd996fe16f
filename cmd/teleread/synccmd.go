package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"teleread/cache"
	tsync "teleread/sync"
)

func runSync(g *globals, args []string) int {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	once := fs.Bool("once", false, "pull everything assigned, flush the outbox, exit (0 only when all of it is ready and delivered)")
	archive := fs.String("archive", "", "DICOMweb root URL (default: config / TELEREAD_ARCHIVE)")
	reader := fs.String("reader", "", "reader's name as the archive records it (default: config / TELEREAD_READER)")
	priors := fs.Int("priors", 2, "prior studies to fetch per assigned study")
	priorMods := fs.String("prior-modalities", "", "only priors with these modalities (comma-separated; default all)")
	accessions := fs.String("accessions", "", "worklist as accession numbers (comma-separated) instead of the reader query")
	interval := fs.Duration("interval", time.Minute, "poll interval without --once")
	limit := fs.Float64("cache-limit-gb", 0, "evict least recently read studies beyond this size (0: config, else no limit); never unreported work")
	worklist := fs.String("worklist", "", "where assignments come from: query (default) or ups (UPS-RS workitems)")
	if _, err := interleaved(fs, args); err != nil {
		return 2
	}
	conf, err := loadConfig()
	if err != nil {
		return fail(err)
	}
	if *archive != "" {
		conf.Archive = *archive
	}
	if *reader != "" {
		conf.Reader = *reader
	}
	if conf.Reader == "" && *accessions == "" {
		return fail(errors.New("no reader: pass --reader NAME, set TELEREAD_READER, or put \"reader\" in " + configPath()))
	}
	client, err := conf.Client()
	if err != nil {
		return fail(err)
	}
	c, err := g.openCache()
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	// Rows of another archive's worklist go before this one's first pull.
	if _, err := c.SetWorklistArchive(client.BaseURL()); err != nil {
		return fail(err)
	}

	prog := newProgress(isTerminal(os.Stderr))
	p := &tsync.Puller{Client: client, Store: c, Reader: conf.Reader,
		Priors: tsync.PriorPolicy{Max: *priors, Modalities: splitList(*priorMods)}, OnEvent: prog.event}
	if *accessions != "" {
		p.Accessions = splitList(*accessions)
	}
	out := &tsync.Outbox{Cache: c, Client: client, IgnoreBackoff: *once}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *worklist != "" {
		conf.Worklist = *worklist
	}
	switch conf.Worklist {
	case "", "query":
	case "ups":
		ups, err := conf.UPSProvider(client, c)
		if err != nil {
			return fail(err)
		}
		p.Workitems = ups
		out.OnDelivered = ups.CompleteOnDelivery(ctx)
	default:
		return fail(fmt.Errorf("worklist %q: want query or ups", conf.Worklist))
	}

	if *limit > 0 {
		conf.CacheLimitGB = *limit
	}
	for {
		code := syncOnce(ctx, p, out, c, prog)
		if conf.CacheLimitGB > 0 {
			ev, err := c.Evict(int64(conf.CacheLimitGB * (1 << 30)))
			if err != nil {
				fmt.Fprintln(stderr, "teleread: evict:", err)
			}
			for _, e := range ev {
				fmt.Fprintf(stdout, "evicted %s (%s)\n", e.StudyInstanceUID, humanBytes(e.Bytes))
			}
		}
		if *once || ctx.Err() != nil {
			return code
		}
		select {
		case <-ctx.Done():
			return code
		case <-time.After(*interval):
		}
	}
}

// syncOnce pulls the worklist, flushes the outbox and prints a summary; it
// returns 0 only when every assigned study and prior is ready and nothing waits
// in the outbox.
func syncOnce(ctx context.Context, p *tsync.Puller, out *tsync.Outbox, c *cache.Cache, prog *progress) int {
	res, err := p.Pull(ctx)
	prog.done()
	code := 0
	switch {
	case err != nil && errors.Is(err, tsync.ErrOffline):
		fmt.Fprintf(stderr, "teleread: sync: OFFLINE: the archive %s cannot be reached (%v).\nCached studies stay readable; signed reports stay in the outbox.\n", p.Client.BaseURL(), err)
		code = 1
	case err != nil:
		fmt.Fprintln(stderr, "teleread: sync:", err)
		code = 1
	default:
		fmt.Fprintf(stdout, "worklist: %d assigned, %d priors; %d ready; fetched %d instances (%s)\n",
			res.Assigned, res.Priors, len(res.Ready), res.Fetched, humanBytes(res.Bytes))
		for uid, ferr := range res.Failed {
			fmt.Fprintf(stdout, "not ready: %s: %v\n", uid, ferr)
		}
		if len(res.Failed) > 0 || res.Offline || len(res.Ready) < res.Assigned+res.Priors {
			code = 1
		}
	}
	fr, ferr := out.Flush(ctx)
	switch {
	case ferr != nil:
		fmt.Fprintln(stderr, "teleread: outbox:", ferr)
		code = 1
	case fr.Offline:
		fmt.Fprintln(stderr, "teleread: outbox: archive offline, reports kept for later")
		code = 1
	}
	if n, err := c.OutboxCount(); err == nil {
		fmt.Fprintf(stdout, "outbox: %d delivered now, %d waiting, %d failed\n", fr.Delivered, n, fr.Failed)
		if n > 0 {
			code = 1
		}
	}
	return code
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
