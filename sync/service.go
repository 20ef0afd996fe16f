package sync

import (
	"context"
	"errors"
	"fmt"
	gosync "sync"
	"time"

	"teleread/cache"
)

// The sync service is the one owner of the work between the cache and the
// archive: worklist pull (QIDO-RS or UPS-RS), priors, retrieve, eviction,
// retention, outbox delivery and online state. `teleread sync` and the app
// are front-ends that subscribe to its events; neither runs a loop of its own.

// ErrNoArchive is returned by a ConnectFunc when nothing is configured to
// connect to.
var ErrNoArchive = errors.New("no archive configured")

// Link is one connected archive and what the service does with it.
type Link struct {
	Client *Client
	// ID names the archive the worklist comes from (cache.SetWorklistArchive):
	// another archive's rows are dropped before the first pull. "" is
	// Client.BaseURL().
	ID string
	// Reader is the radiologist's name as the archive writes it.
	Reader string
	// Worklist, Accessions, AssignedAttribute and Priors are the Puller's.
	Worklist          *Query
	Accessions        []string
	AssignedAttribute AssignedAttribute
	Priors            PriorPolicy
	// UPS, when set, is the worklist instead of the study query: UPS-RS
	// workitems claimed when pulled and completed when their report is
	// delivered.
	UPS *UPS
	// CacheLimit bounds the cache after each pull, in bytes (least recently
	// read studies evicted, never unreported work); 0 is no limit.
	CacheLimit int64
	// RetentionDays is what the Retention hook keeps; 0 is forever.
	RetentionDays int
	// CutOffRetry is how long an instance whose part this archive sent too
	// long is left alone (CutOffs, kept in the cache's home); 0 is
	// DefaultCutOffRetry.
	CutOffRetry time.Duration
	// Turnaround is the reader's targets, for front-ends that show due times
	// (the service itself does not need them).
	Turnaround Turnaround
	// Display names the archive for people (no credentials); Note is said
	// once connected ("" for none).
	Display, Note string
	// Close releases what connecting started (a local archive); may be nil.
	Close func()
}

func (l *Link) id() string {
	if l.ID != "" {
		return l.ID
	}
	return l.Client.BaseURL()
}

// ConnectFunc returns the link the service works with. It is called at start
// and again after each Reload, so a changed configuration takes effect; it
// runs on the service's goroutine (a slow start holds up nothing else). It
// returns an error wrapping ErrNoArchive when nothing is configured.
type ConnectFunc func(ctx context.Context) (*Link, error)

// RetentionFunc removes what the retention policy no longer keeps and returns
// the studies it removed. The service calls it after eviction in every pass.
type RetentionFunc func(ctx context.Context, c *cache.Cache, link *Link) (removed []string, err error)

// PassResult is what one pass did: pull, eviction, retention, outbox.
type PassResult struct {
	Pull     *PullResult // nil when the pull did not run
	PullErr  error
	Evicted  []cache.Evicted
	Removed  []string // by the Retention hook
	Flush    FlushResult
	FlushErr error
	Outbox   int // reports still waiting after the pass; -1 when unknown
	// Problems are the failures of the steps that are not the pull or the
	// outbox (evict, retention, the worklist archive record).
	Problems []error
}

// Complete reports whether everything assigned (and its priors) is ready and
// nothing waits in the outbox.
func (r PassResult) Complete() bool {
	if r.PullErr != nil || r.Pull == nil || r.FlushErr != nil || r.Flush.Offline || r.Outbox != 0 {
		return false
	}
	p := r.Pull
	return len(p.Failed) == 0 && !p.Offline && len(p.Ready) >= p.Assigned+p.Priors
}

// Service runs the sync of one cache with one archive at a time. Set the
// fields, then call Run (the background loops, until its context ends) or
// RunOnce (one pass, for `sync --once`). The zero values of every field but
// Cache and Connect are usable.
type Service struct {
	Cache   *cache.Cache
	Connect ConnectFunc
	// Interval is the time between pulls; 0 is 30 s.
	Interval time.Duration
	// FlushInterval is the time between outbox passes (also done at once on
	// Kick); 0 is Interval or 2 s, whichever is shorter.
	FlushInterval time.Duration
	// ProbeTimeout bounds the cheap reachability check before each
	// background pull; 0 is 10 s.
	ProbeTimeout time.Duration
	// IgnoreBackoff makes each outbox pass try every waiting report now (a
	// pass the user asked for).
	IgnoreBackoff bool
	// OnEvent receives every event, from the service's goroutines; it must
	// not block. nil discards them.
	OnEvent func(Event)
	// Retention is the retention hook, run after eviction in every pass;
	// nil keeps everything.
	Retention RetentionFunc

	once   gosync.Once
	reload chan struct{}
	kick   chan struct{}

	mu  gosync.Mutex
	cur *Link // the link Run works with now; nil between links
}

// FetchInstance brings one instance of the connected archive into the cache
// at once, beside a running pull (Puller.FetchInstance): a slice the reader
// scrolled onto does not wait behind the rest of its study. Without a
// connected archive it fails with ErrOffline.
func (s *Service) FetchInstance(ctx context.Context, studyUID, seriesUID, sopUID string) error {
	s.mu.Lock()
	link := s.cur
	s.mu.Unlock()
	if link == nil {
		return fmt.Errorf("sync: fetch instance %s: %w", sopUID, ErrOffline)
	}
	p := &Puller{Client: link.Client, Store: s.Cache, OnEvent: s.emit}
	return p.FetchInstance(ctx, studyUID, seriesUID, sopUID)
}

// setLink records the link Run works with (nil when it has none).
func (s *Service) setLink(l *Link) {
	s.mu.Lock()
	s.cur = l
	s.mu.Unlock()
}

func (s *Service) init() {
	s.once.Do(func() {
		s.reload = make(chan struct{}, 1)
		s.kick = make(chan struct{}, 1)
	})
}

func (s *Service) interval() time.Duration {
	if s.Interval > 0 {
		return s.Interval
	}
	return 30 * time.Second
}

func (s *Service) flushInterval() time.Duration {
	if s.FlushInterval > 0 {
		return s.FlushInterval
	}
	return min(s.interval(), 2*time.Second)
}

// Reload makes a running service connect again (its ConnectFunc reads the
// configuration anew): the current pull stops where it is (what is durable
// stays), the old link is closed, and the new one pulls at once.
func (s *Service) Reload() {
	s.init()
	select {
	case s.reload <- struct{}{}:
	default:
	}
}

// Kick asks for an outbox pass now (a report was just signed).
func (s *Service) Kick() {
	s.init()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *Service) emit(e Event) {
	if e.Timestamp.IsZero() {
		e.Timestamp = time.Now()
	}
	if s.OnEvent != nil {
		s.OnEvent(e)
	}
}

// connect calls Connect and records the archive the worklist comes from.
func (s *Service) connect(ctx context.Context) (*Link, error) {
	if s.Connect == nil {
		return nil, fmt.Errorf("sync: service: %w", ErrNoArchive)
	}
	link, err := s.Connect(ctx)
	if err != nil {
		return nil, err
	}
	if link == nil || link.Client == nil {
		return nil, fmt.Errorf("sync: service: %w", ErrNoArchive)
	}
	// Another archive than the worklist's last one: its rows go (the cached
	// studies stay readable) before the first pull of this one.
	dropped, err := s.Cache.SetWorklistArchive(link.id())
	if err != nil {
		if link.Close != nil {
			link.Close()
		}
		return nil, fmt.Errorf("sync: service: %w", err)
	}
	for _, uid := range dropped {
		s.emit(Event{Kind: StudyState, StudyUID: uid, State: "dropped"})
	}
	// The link's estimate carries over from the last sync (link.go); without
	// the file it is measured afresh.
	if ls, err := OpenLinkStats(LinkStatsPath(s.Cache.Home())); err == nil {
		link.Client.UseLinkStats(ls)
	}
	s.emit(Event{Kind: Connected, Link: link})
	return link, nil
}

// Run connects and runs the pull loop and the outbox loop until ctx ends,
// connecting again on Reload. A connection that fails is reported (a
// Connected event with Err) and tried again after Interval or on Reload.
// It returns when ctx ends, once both loops have stopped and the link is
// closed.
func (s *Service) Run(ctx context.Context) error {
	s.init()
	for ctx.Err() == nil {
		link, err := s.connect(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			s.emit(Event{Kind: Connected, Err: err})
			select {
			case <-ctx.Done():
			case <-s.reload:
			case <-time.After(s.interval()):
			}
			continue
		}
		s.setLink(link)
		lctx, cancel := context.WithCancel(ctx)
		var wg gosync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); s.pullLoop(lctx, link) }()
		go func() { defer wg.Done(); s.outboxLoop(lctx, link) }()
		select {
		case <-ctx.Done():
		case <-s.reload:
		}
		cancel()
		wg.Wait()
		s.setLink(nil)
		if link.Close != nil {
			link.Close()
		}
	}
	return nil
}

// RunOnce connects, pulls everything assigned, evicts, applies retention and
// delivers the outbox once, then closes the link.
func (s *Service) RunOnce(ctx context.Context) (PassResult, error) {
	s.init()
	link, err := s.connect(ctx)
	if err != nil {
		return PassResult{Outbox: -1}, err
	}
	if link.Close != nil {
		defer link.Close()
	}
	res := s.pull(ctx, link, false)
	res.Flush, res.FlushErr = s.flush(ctx, link, s.outbox(ctx, link, true))
	res.Outbox = -1
	if n, err := s.Cache.OutboxCount(); err == nil {
		res.Outbox = n
	}
	return res, nil
}

func (s *Service) pullLoop(ctx context.Context, link *Link) {
	for {
		s.pull(ctx, link, true)
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.interval()):
		}
	}
}

// pull runs one pull and what follows it (eviction, retention) and reports
// it as a PullDone event. probe first checks cheaply that the archive
// answers, so an unreachable one is reported in seconds, not after the
// puller's retries.
func (s *Service) pull(ctx context.Context, link *Link, probe bool) (res PassResult) {
	defer func() {
		// A panic on this goroutine is the pass's failure, not the process's.
		if r := recover(); r != nil {
			res.PullErr = fmt.Errorf("sync: service: pull: panic: %v", r)
			s.emit(Event{Kind: PullDone, Err: res.PullErr})
		}
	}()
	if probe {
		pctx, cancel := context.WithTimeout(ctx, s.probeTimeout())
		err := link.Client.Probe(pctx)
		cancel()
		if ctx.Err() != nil {
			return res
		}
		if err != nil {
			s.emit(Event{Kind: Connectivity, Online: false, Err: err})
			res.PullErr = err
			// Retention does not wait for the network: reading offline
			// for days keeps patient data no longer.
			s.retain(ctx, link, &res)
			s.emit(Event{Kind: PullDone, Err: err})
			return res
		}
		s.emit(Event{Kind: Connectivity, Online: true})
	}
	p := &Puller{Client: link.Client, Store: s.Cache, Reader: link.Reader, Worklist: link.Worklist,
		Accessions: link.Accessions, AssignedAttribute: link.AssignedAttribute, Priors: link.Priors,
		Workitems: link.UPS, OnEvent: s.emit}
	// A part cut off is not fetched again on every pass. Without the table
	// (an unreadable home) the pull still runs, as before, and says why.
	if co, err := OpenCutOffs(CutOffsPath(s.Cache.Home()), link.CutOffRetry); err == nil {
		p.CutOffs = co
	} else {
		res.Problems = append(res.Problems, err)
		s.emit(Event{Kind: Problem, Err: err})
	}
	res.Pull, res.PullErr = p.Pull(ctx)
	if ctx.Err() != nil {
		return res
	}
	if link.CacheLimit > 0 {
		ev, err := s.Cache.Evict(link.CacheLimit)
		if err != nil {
			res.Problems = append(res.Problems, fmt.Errorf("evict: %w", err))
			s.emit(Event{Kind: Problem, Err: res.Problems[len(res.Problems)-1]})
		}
		res.Evicted = ev
		for _, e := range ev {
			s.emit(Event{Kind: Evicted, StudyUID: e.StudyInstanceUID, Bytes: e.Bytes})
		}
	}
	s.retain(ctx, link, &res)
	s.emit(Event{Kind: PullDone, Pull: res.Pull, Err: res.PullErr})
	return res
}

// retain runs the retention hook, if any, and reports what it removed.
func (s *Service) retain(ctx context.Context, link *Link, res *PassResult) {
	if s.Retention == nil {
		return
	}
	removed, err := s.Retention(ctx, s.Cache, link)
	if err != nil {
		res.Problems = append(res.Problems, fmt.Errorf("retention: %w", err))
		s.emit(Event{Kind: Problem, Err: res.Problems[len(res.Problems)-1]})
	}
	res.Removed = removed
	for _, uid := range removed {
		s.emit(Event{Kind: Evicted, StudyUID: uid, Purged: true})
	}
}

func (s *Service) probeTimeout() time.Duration {
	if s.ProbeTimeout > 0 {
		return s.ProbeTimeout
	}
	return 10 * time.Second
}

// outbox is the report sender of a link; with UPS-RS a delivered report
// completes its workitem.
func (s *Service) outbox(ctx context.Context, link *Link, ignoreBackoff bool) *Outbox {
	ob := &Outbox{Cache: s.Cache, Client: link.Client, IgnoreBackoff: ignoreBackoff || s.IgnoreBackoff,
		OnChange: func(it cache.OutboxItem) {
			s.emit(Event{Kind: ReportState, StudyUID: it.StudyInstanceUID, State: it.State, Report: &it})
		}}
	if link.UPS != nil {
		ob.OnDelivered = link.UPS.CompleteOnDelivery(ctx)
	}
	return ob
}

// flush delivers the outbox once and reports it as an OutboxDone event.
func (s *Service) flush(ctx context.Context, link *Link, ob *Outbox) (res FlushResult, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sync: service: report delivery: panic: %v", r)
		}
		if ctx.Err() != nil {
			return
		}
		n, cerr := s.Cache.OutboxCount()
		if cerr != nil {
			n = -1
		}
		s.emit(Event{Kind: OutboxDone, Flush: &res, Err: err, Waiting: n})
	}()
	return ob.Flush(ctx)
}

func (s *Service) outboxLoop(ctx context.Context, link *Link) {
	ob := s.outbox(ctx, link, false)
	t := time.NewTicker(s.flushInterval())
	defer t.Stop()
	for {
		s.flush(ctx, link, ob)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
	}
}
