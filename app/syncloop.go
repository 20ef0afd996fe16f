package app

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	gosync "sync"
	"time"

	"teleread/app/internal/mailbox"
	"teleread/cache"
	tsync "teleread/sync"
)

// syncLoop is the app's front-end on the sync service (tsync.Service, the
// same one `teleread sync` runs): it starts and stops the service with the
// window and gathers the service's events into StatusEvent snapshots that
// the bridge hands to the UI. Nothing here touches a widget or the database.
type syncLoop struct {
	svc *tsync.Service

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when the service has stopped

	// box carries the snapshots to the bridge. It merges rather than
	// replaces (mailbox.Merging, not Latest): a snapshot names the studies
	// that changed and the progress of those that grew since the last one
	// taken, and a newer snapshot about one study must not hide another's.
	box  *mailbox.Merging[StatusEvent]
	wake <-chan struct{} // box.Ready(): a new snapshot waits

	mu      gosync.Mutex
	link    *tsync.Link         // the archive connected to, nil before
	state   StatusEvent         // what lasts: online, archive, pull totals, outbox
	pulling map[string]Progress // studies of the running pull, for the totals
	pulls   int                 // pulls finished

	// observe, when set (tests), sees each service event first, on the
	// service's goroutine.
	observe func(tsync.Event)
}

func newSyncLoop(c *cache.Cache, interval time.Duration, connect tsync.ConnectFunc) *syncLoop {
	ctx, cancel := context.WithCancel(context.Background())
	l := &syncLoop{ctx: ctx, cancel: cancel, done: make(chan struct{}), box: mailbox.NewMerging(mergeStatus),
		pulling: map[string]Progress{}}
	l.wake = l.box.Ready()
	l.svc = &tsync.Service{Cache: c, Connect: connect, Interval: interval, OnEvent: l.event, Retention: tsync.PurgeExpired}
	return l
}

// start runs the service on a goroutine of its own.
func (l *syncLoop) start() {
	l.update(func(s *StatusEvent) { s.Message = "connecting to the archive…" })
	go func() {
		defer close(l.done)
		if err := guard("sync", func() { l.svc.Run(l.ctx) }); err != nil {
			l.update(func(s *StatusEvent) { s.Message = err.Error() })
		}
	}()
}

// close stops the service and waits for it (a pull in the middle of a study
// stops at once; what is durable stays and the next start resumes from it;
// the link is released, the demo archive stopped).
func (l *syncLoop) close() {
	l.cancel()
	select {
	case <-l.done:
	case <-time.After(15 * time.Second):
	}
}

// kick asks for an outbox pass now (a report was just signed).
func (l *syncLoop) kick() { l.svc.Kick() }

// reload makes the service read the configuration again and reconnect.
func (l *syncLoop) reload() { l.svc.Reload() }

// event receives the service's events on its goroutines; it never blocks.
func (l *syncLoop) event(e tsync.Event) {
	if l.observe != nil {
		l.observe(e)
	}
	l.update(func(s *StatusEvent) {
		switch e.Kind {
		case tsync.Connected:
			if e.Err != nil {
				s.Online = false
				if errors.Is(e.Err, tsync.ErrNoArchive) {
					s.Archive = ""
					s.Message = "no archive configured: Settings → Archive URL"
				} else {
					s.Message = e.Err.Error()
				}
				return
			}
			l.link = e.Link
			s.Archive, s.Message = e.Link.Display, e.Link.Note
			s.Link = e.Link.Client.LinkSummary()
			t := e.Link.Turnaround
			s.Turnaround = &t
		case tsync.Connectivity:
			s.Online = e.Online
			if !e.Online && e.Err != nil {
				s.Message = "archive offline: " + e.Err.Error()
				if errors.Is(e.Err, tsync.ErrSignInRequired) {
					s.Message = signInMessage(e.Err)
				}
			}
		case tsync.StudyState:
			s.Changed = append(s.Changed, e.StudyUID)
			if e.State == "dropped" {
				return
			}
			fallthrough
		case tsync.StudyProgress:
			p := Progress{Done: e.Done, Total: e.Total}
			s.Progress = map[string]Progress{e.StudyUID: p}
			l.pulling[e.StudyUID] = p
			s.SyncDone, s.SyncTotal = 0, 0
			for _, q := range l.pulling {
				s.SyncDone += q.Done
				s.SyncTotal += q.Total
			}
			if s.SyncDone >= s.SyncTotal {
				s.SyncDone, s.SyncTotal = 0, 0
			}
		case tsync.Evicted:
			s.Changed = append(s.Changed, e.StudyUID)
		case tsync.Problem:
			s.Message = e.Err.Error()
		case tsync.PullDone:
			l.pulling = map[string]Progress{}
			l.pulls++
			if l.link != nil {
				// What this pull measured, read here rather than on
				// the UI goroutine.
				s.Link = l.link.Client.LinkSummary()
			}
			s.SyncDone, s.SyncTotal = 0, 0
			res := e.Pull
			switch {
			case errors.Is(e.Err, tsync.ErrSignInRequired):
				s.Message = signInMessage(e.Err)
			case e.Err != nil && errors.Is(e.Err, tsync.ErrOffline) && res == nil:
				s.Message = "archive offline: " + e.Err.Error()
			case e.Err != nil:
				s.Message = "sync: " + e.Err.Error()
			case res == nil:
			case len(res.Failed) > 0:
				for uid, ferr := range res.Failed {
					s.Message = fmt.Sprintf("%s not ready (study %s): %v", plural(len(res.Failed), "study", "studies"), shortUID(uid), ferr)
				}
			case res.Fetched > 0:
				s.Message = fmt.Sprintf("worklist: %d assigned, %d priors; fetched %d instances", res.Assigned, res.Priors, res.Fetched)
			}
		case tsync.ReportState:
			s.Changed = append(s.Changed, e.StudyUID)
			if e.Report != nil && e.Report.State == cache.OutboxFailed {
				s.Message = "report delivery failed: " + e.Report.LastError
			}
		case tsync.OutboxDone:
			if e.Waiting >= 0 {
				s.Outbox = e.Waiting
			}
			switch {
			case e.Err != nil:
				s.Message = "outbox: " + e.Err.Error()
			case e.Flush.Offline:
				s.Online = false
				s.Message = "archive offline: signed reports wait in the outbox"
			case e.Flush.Delivered > 0:
				s.Online = true
				s.Message = plural(e.Flush.Delivered, "report", "reports") + " delivered"
			}
		}
	})
}

// update changes the lasting state under the lock and leaves a snapshot for
// the bridge. fn sees the lasting state with this event's parts cleared (a
// note, a change of targets, the studies changed, their progress) and may
// set them; they go with this snapshot only.
func (l *syncLoop) update(fn func(*StatusEvent)) {
	l.mu.Lock()
	fn(&l.state)
	ev := l.state
	l.state.Message, l.state.Turnaround, l.state.Changed, l.state.Progress = "", nil, nil, nil
	l.mu.Unlock()
	l.box.Put(ev)
}

// mergeStatus folds a newer snapshot into one the bridge has not taken yet:
// the newer's lasting state, the studies changed and their progress of both,
// the newer note and targets where it has them.
func mergeStatus(pending, next StatusEvent) StatusEvent {
	out := next
	out.Changed = pending.Changed
	for _, uid := range next.Changed {
		if !slices.Contains(out.Changed, uid) {
			out.Changed = append(out.Changed, uid)
		}
	}
	out.Progress = pending.Progress
	if out.Progress == nil {
		out.Progress = next.Progress
	} else {
		maps.Copy(out.Progress, next.Progress)
	}
	if out.Message == "" {
		out.Message = pending.Message
	}
	if out.Turnaround == nil {
		out.Turnaround = pending.Turnaround
	}
	return out
}

// take returns the newest snapshot with everything merged into it since the
// last take; with none waiting, the lasting state alone.
func (l *syncLoop) take() StatusEvent {
	if ev, ok := l.box.Take(); ok {
		return ev
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state
}

func shortUID(uid string) string {
	if len(uid) > 20 {
		return "…" + uid[len(uid)-19:]
	}
	return uid
}
