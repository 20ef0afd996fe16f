package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"teleread/app/internal/mailbox"
	"teleread/app/internal/reading"
	"teleread/cache"
	tsync "teleread/sync"
)

// A study read while it downloads shows every slice the archive lists: the
// ones not in the cache yet are placeholders (reading.Item.Missing). A
// reader who scrolls onto one sees "Fetching slice N of M…" on a black
// image, and the sync service fetches that instance at once, beside the
// pull (a WADO-RS instance request that jumps the queue). Rapid scrolling
// asks only for the slice the reader stops on and its neighbours: requests
// go through a latest-wins mailbox to one fetching goroutine.

// sliceSource is what the viewer asks of the sync service for a study it
// reads while it downloads. Its methods run off the UI goroutine.
type sliceSource interface {
	// listInstances returns the instances of a series as the archive lists them.
	listInstances(ctx context.Context, study, series string) ([]reading.Listed, error)
	// fetchInstance makes one instance durable in the cache now.
	fetchInstance(ctx context.Context, study, series, sop string) error
}

// noArchive is the slice source while no sync service runs.
type noArchive struct{}

func (noArchive) listInstances(_ context.Context, _, series string) ([]reading.Listed, error) {
	return nil, fmt.Errorf("list series %s: %w", series, tsync.ErrNoArchive)
}

func (noArchive) fetchInstance(_ context.Context, _, _, sop string) error {
	return fmt.Errorf("fetch instance %s: %w", sop, tsync.ErrOffline)
}

// The app's sync loop is the slice source of a running sync service.
var _ sliceSource = (*syncLoop)(nil)

func (l *syncLoop) fetchInstance(ctx context.Context, study, series, sop string) error {
	return l.svc.FetchInstance(ctx, study, series, sop)
}

func (l *syncLoop) listInstances(ctx context.Context, study, series string) ([]reading.Listed, error) {
	l.mu.Lock()
	link := l.link
	l.mu.Unlock()
	if link == nil || link.Client == nil {
		return nil, fmt.Errorf("list series %s: %w", series, tsync.ErrOffline)
	}
	var out []reading.Listed
	err := link.Client.SearchAll(ctx, "/studies/"+study+"/series/"+series+"/instances",
		tsync.Query{IncludeFields: []string{"SOPInstanceUID", "InstanceNumber"}}, 1000, func(o tsync.Object) error {
			sop := o.SOPInstanceUID()
			if !tsync.ValidUID(sop) {
				return fmt.Errorf("list series %s: %w: SOP Instance UID %.80q", series, tsync.ErrBadResponse, sop)
			}
			if len(out) >= reading.MaxItems {
				return nil
			}
			n, _ := o.Int(tsync.TagInstanceNumber)
			out = append(out, reading.Listed{SOP: sop, Instance: n})
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("list series %s: %w", series, err)
	}
	return out, nil
}

// sliceRequest asks for the slice a reader is on, then its neighbours.
type sliceRequest struct {
	src           sliceSource
	study, series string
	sops          []string
}

// sliceResult is one fetch's outcome, with what the cache now holds of it
// (read off the UI goroutine).
type sliceResult struct {
	study, series, sop string
	inst               cache.Instance
	comp               cache.Completeness
	hasComp            bool
	err                error
}

// fetchSettle is how long the fetcher waits for the reader to stop
// scrolling before it asks: a newer request within it replaces the older.
const fetchSettle = 120 * time.Millisecond

// fetchTimeout bounds one instance's fetch.
const fetchTimeout = 60 * time.Second

// sliceFetcher fetches the slices a reader scrolls onto, latest first.
type sliceFetcher struct {
	store  *cache.Cache
	box    *mailbox.Latest[sliceRequest]
	ctx    context.Context
	cancel context.CancelFunc
	done   func(sliceResult) // called on the fetching goroutine
}

func newSliceFetcher(store *cache.Cache, done func(sliceResult)) *sliceFetcher {
	ctx, cancel := context.WithCancel(context.Background())
	f := &sliceFetcher{store: store, box: mailbox.New[sliceRequest](), ctx: ctx, cancel: cancel, done: done}
	go guard("slice fetch", f.run)
	return f
}

// want asks for a request's slices, replacing one not started yet.
func (f *sliceFetcher) want(r sliceRequest) { f.box.Put(r) }

func (f *sliceFetcher) close() { f.cancel() }

func (f *sliceFetcher) run() {
	for {
		select {
		case <-f.ctx.Done():
			return
		case <-f.box.Ready():
		}
		r, ok := f.box.Take()
		if !ok {
			continue
		}
		select {
		case <-f.ctx.Done():
			return
		case <-time.After(fetchSettle):
		}
		if f.box.Pending() {
			continue // the reader scrolled on: the newer request wins
		}
		for i, sop := range r.sops {
			if i > 0 && f.box.Pending() {
				break // the neighbours give way to where the reader is now
			}
			f.done(f.fetch(r, sop))
		}
	}
}

func (f *sliceFetcher) fetch(r sliceRequest, sop string) sliceResult {
	res := sliceResult{study: r.study, series: r.series, sop: sop}
	ctx, cancel := context.WithTimeout(f.ctx, fetchTimeout)
	defer cancel()
	if res.err = r.src.fetchInstance(ctx, r.study, r.series, sop); res.err != nil {
		return res
	}
	if res.inst, res.err = f.store.InstanceByUID(sop); res.err != nil {
		return res
	}
	if c, err := f.store.StudyCompleteness(r.study); err == nil {
		res.comp, res.hasComp = c, true
	}
	return res
}

// sliceProblem says why a slice is not on screen, for the reader.
func sliceProblem(err error) string {
	switch {
	case errors.Is(err, tsync.ErrOffline), errors.Is(err, tsync.ErrNoArchive):
		return "Not in cache; archive offline"
	default:
		return "Not in cache; fetching it failed: " + err.Error()
	}
}
