package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	gosync "sync"
	"time"

	"teleread/cache"
	tsync "teleread/sync"
)

// archiveLink is a connected archive: the DICOMweb client and what the puller
// asks it for.
type archiveLink struct {
	client  *tsync.Client
	id      string       // which archive the worklist comes from (see cache.SetWorklistArchive)
	reader  string       // NameOfPhysiciansReadingStudy of the reader
	query   *tsync.Query // nil: the reader query
	priors  int
	display string // shown in the status bar
	note    string // shown once connected ("" for none)
	close   func() // releases what connect started (the demo archive); may be nil
	// ups, when set, is the worklist instead of the reader query: UPS-RS
	// workitems, claimed when pulled and completed when the report is delivered.
	ups *tsync.UPS
	// cacheLimit bounds the cache after each pull (least recently read studies
	// evicted, never unreported work); 0 is no limit.
	cacheLimit int64
}

// connectFunc connects to the archive. It runs on the sync goroutine, so a slow
// start (the demo archive) never holds up the window. It returns errNoArchive
// when there is nothing to connect to.
type connectFunc func(ctx context.Context) (*archiveLink, error)

// errNoArchive: no archive is configured and no demo archive can be started.
var errNoArchive = errors.New("app: no archive configured")

// syncLoop is the app's background sync: one goroutine pulls the worklist and
// priors into the cache every interval, another delivers the outbox every few
// seconds and at once when kicked (after a signature). Both stop when the loop
// is closed. Events are gathered here and handed to the UI as StatusEvent
// snapshots through the bridge; nothing here touches a widget.
type syncLoop struct {
	cache    *cache.Cache
	interval time.Duration // between pulls
	flushes  time.Duration // between outbox passes
	connect  connectFunc

	ctx     context.Context
	cancel  context.CancelFunc
	wg      gosync.WaitGroup
	kickOut chan struct{}
	wake    chan struct{} // a new snapshot is ready

	mu       gosync.Mutex
	link     *archiveLink
	state    StatusEvent
	changed  map[string]bool
	progress map[string]Progress
	pulling  map[string]Progress // studies of the running pull, for the totals
	pulls    int                 // pulls finished

	// observe, when set (tests), sees each puller event first, on the
	// puller's goroutine.
	observe func(tsync.Event)
}

func newSyncLoop(c *cache.Cache, interval time.Duration, connect connectFunc) *syncLoop {
	if interval <= 0 {
		interval = 30 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &syncLoop{cache: c, interval: interval, flushes: min(interval, 2*time.Second), connect: connect,
		ctx: ctx, cancel: cancel, kickOut: make(chan struct{}, 1), wake: make(chan struct{}, 1),
		changed: map[string]bool{}, progress: map[string]Progress{}, pulling: map[string]Progress{}}
}

// start connects and runs the loops on goroutines of their own.
func (l *syncLoop) start() {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		l.update(func(s *StatusEvent) { s.Message = "connecting to the archive…" })
		link, err := l.connect(l.ctx)
		if err != nil {
			l.update(func(s *StatusEvent) {
				s.Online = false
				if errors.Is(err, errNoArchive) {
					s.Archive = ""
					s.Message = "no archive configured: Settings → Archive URL"
				} else {
					s.Message = err.Error()
				}
			})
			return
		}
		// Another archive than the worklist's last one: its rows go (the
		// cached studies stay readable) before the first pull of this one.
		if link.id != "" {
			dropped, err := l.cache.SetWorklistArchive(link.id)
			if err != nil {
				l.update(func(s *StatusEvent) { s.Message = err.Error() })
			} else if len(dropped) > 0 {
				l.update(func(s *StatusEvent) {
					for _, uid := range dropped {
						l.changed[uid] = true
					}
				})
			}
		}
		l.mu.Lock()
		l.link = link
		l.mu.Unlock()
		l.update(func(s *StatusEvent) {
			s.Archive = link.display
			s.Message = link.note
		})
		l.wg.Add(2)
		go func() { defer l.wg.Done(); l.pullLoop(link) }()
		go func() { defer l.wg.Done(); l.outboxLoop(link) }()
	}()
}

// close stops both loops, waits for them (a pull in the middle of a study stops
// at once; what is durable stays and the next start resumes from it), then
// releases the archive link.
func (l *syncLoop) close() {
	l.cancel()
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
	}
	l.mu.Lock()
	link := l.link
	l.link = nil
	l.mu.Unlock()
	if link != nil && link.close != nil {
		link.close()
	}
}

// kick asks for an outbox pass now (a report was just signed).
func (l *syncLoop) kick() {
	select {
	case l.kickOut <- struct{}{}:
	default:
	}
}

func (l *syncLoop) pullLoop(link *archiveLink) {
	for {
		if err := guard("sync", func() { l.pullOnce(link) }); err != nil {
			l.update(func(s *StatusEvent) { s.Message = err.Error() })
		}
		select {
		case <-l.ctx.Done():
			return
		case <-time.After(l.interval):
		}
	}
}

func (l *syncLoop) pullOnce(link *archiveLink) {
	// A cheap probe first: an unreachable archive is reported in a second, not
	// after the puller's retries.
	pctx, cancel := context.WithTimeout(l.ctx, 10*time.Second)
	err := link.client.Probe(pctx)
	cancel()
	if l.ctx.Err() != nil {
		return
	}
	if err != nil {
		l.update(func(s *StatusEvent) {
			s.Online = false
			s.Message = "archive offline: " + err.Error()
		})
		return
	}
	l.update(func(s *StatusEvent) { s.Online = true })
	p := &tsync.Puller{Client: link.client, Store: l.cache, Reader: link.reader, Worklist: link.query,
		Priors: tsync.PriorPolicy{Max: link.priors}, OnEvent: l.event}
	if link.ups != nil {
		p.Workitems = link.ups
	}
	res, err := p.Pull(l.ctx)
	if link.cacheLimit > 0 && l.ctx.Err() == nil {
		if ev, eerr := l.cache.Evict(link.cacheLimit); eerr != nil {
			l.update(func(s *StatusEvent) { s.Message = "evict: " + eerr.Error() })
		} else {
			l.update(func(s *StatusEvent) {
				for _, e := range ev {
					l.changed[e.StudyInstanceUID] = true
				}
			})
		}
	}
	l.mu.Lock()
	l.pulling = map[string]Progress{}
	l.pulls++
	l.mu.Unlock()
	if l.ctx.Err() != nil {
		return
	}
	l.update(func(s *StatusEvent) {
		s.SyncDone, s.SyncTotal = 0, 0
		switch {
		case err != nil:
			s.Message = "sync: " + err.Error()
		case len(res.Failed) > 0:
			for uid, ferr := range res.Failed {
				s.Message = fmt.Sprintf("%s not ready (study %s): %v", plural(len(res.Failed), "study", "studies"), shortUID(uid), ferr)
			}
		case res.Fetched > 0:
			s.Message = fmt.Sprintf("worklist: %d assigned, %d priors; fetched %d instances", res.Assigned, res.Priors, res.Fetched)
		}
	})
}

func (l *syncLoop) outboxLoop(link *archiveLink) {
	ob := &tsync.Outbox{Cache: l.cache, Client: link.client, OnChange: func(it cache.OutboxItem) {
		l.update(func(s *StatusEvent) {
			l.changed[it.StudyInstanceUID] = true
			if it.State == cache.OutboxFailed {
				s.Message = "report delivery failed: " + it.LastError
			}
		})
	}}
	if link.ups != nil {
		ob.OnDelivered = link.ups.CompleteOnDelivery(l.ctx)
	}
	t := time.NewTicker(l.flushes)
	defer t.Stop()
	for {
		var res tsync.FlushResult
		var err error
		if gerr := guard("report delivery", func() { res, err = ob.Flush(l.ctx) }); gerr != nil {
			err = gerr
		}
		if l.ctx.Err() != nil {
			return
		}
		n, cerr := l.cache.OutboxCount()
		l.update(func(s *StatusEvent) {
			if cerr == nil {
				s.Outbox = n
			}
			switch {
			case err != nil:
				s.Message = "outbox: " + err.Error()
			case res.Offline:
				s.Online = false
				s.Message = "archive offline: signed reports wait in the outbox"
			case res.Delivered > 0:
				s.Online = true
				s.Message = plural(res.Delivered, "report", "reports") + " delivered"
			}
		})
		select {
		case <-l.ctx.Done():
			return
		case <-t.C:
		case <-l.kickOut:
		}
	}
}

// event receives the puller's events on its goroutines; it never blocks.
func (l *syncLoop) event(e tsync.Event) {
	if l.observe != nil {
		l.observe(e)
	}
	l.update(func(s *StatusEvent) {
		switch e.Kind {
		case tsync.Connectivity:
			s.Online = e.Online
			if !e.Online && e.Err != nil {
				s.Message = "archive offline: " + e.Err.Error()
			}
		case tsync.StudyState:
			l.changed[e.StudyUID] = true
			fallthrough
		case tsync.StudyProgress:
			p := Progress{Done: e.Done, Total: e.Total}
			l.progress[e.StudyUID] = p
			l.pulling[e.StudyUID] = p
			s.SyncDone, s.SyncTotal = 0, 0
			for _, q := range l.pulling {
				s.SyncDone += q.Done
				s.SyncTotal += q.Total
			}
			if s.SyncDone >= s.SyncTotal {
				s.SyncDone, s.SyncTotal = 0, 0
			}
		}
	})
}

// update changes the state under the lock and wakes the bridge.
func (l *syncLoop) update(fn func(*StatusEvent)) {
	l.mu.Lock()
	fn(&l.state)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// take returns the newest state with the studies changed since the last take.
func (l *syncLoop) take() StatusEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	ev := l.state
	for uid := range l.changed {
		ev.Changed = append(ev.Changed, uid)
	}
	if len(l.progress) > 0 {
		ev.Progress = l.progress
		l.progress = map[string]Progress{}
	}
	l.changed = map[string]bool{}
	l.state.Message = "" // a note is shown once
	return ev
}

func shortUID(uid string) string {
	if len(uid) > 20 {
		return "…" + uid[len(uid)-19:]
	}
	return uid
}

// parseWorklistQuery reads the settings' worklist query, "Key=Value" pairs
// separated by '&' or new lines ("" is the reader query).
func parseWorklistQuery(s string) (*tsync.Query, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	q := &tsync.Query{}
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '&' || r == '\n' }) {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("app: worklist query %q: want Key=Value pairs joined by &", s)
		}
		q.Match = append(q.Match, tsync.Param{Key: strings.TrimSpace(k), Value: strings.TrimSpace(v)})
	}
	return q, nil
}

// clientFor builds the DICOMweb client the settings describe.
func clientFor(s Settings) (*tsync.Client, error) {
	cfg := tsync.Config{BaseURL: s.ArchiveURL}
	switch s.AuthKind {
	case "basic":
		cfg.Auth = tsync.BasicAuth{User: s.AuthUser, Password: s.AuthSecret}
	case "bearer":
		cfg.Auth = tsync.BearerToken{Token: s.AuthSecret}
	}
	c, err := tsync.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("app: archive: %w", err)
	}
	return c, nil
}
