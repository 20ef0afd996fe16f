package app

import (
	"time"

	"fyne.io/fyne/v2"

	tsync "teleread/sync"
)

// StatusEvent is what sync reports about the archive connection. Zero counts are
// shown as nothing to do.
type StatusEvent struct {
	Online       bool
	Archive      string // the archive's display URL ("" when none is configured)
	SyncDone     int    // instances retrieved in the current pull
	SyncTotal    int    // instances the current pull will retrieve (0: idle)
	Outbox       int    // signed reports waiting for delivery
	Message      string // the latest error or note, "" when none
	Link         string // the link estimate and the syntax asked for ("" before a connection)
	StudyChanged string // a study whose worklist state changed ("" when none)
	// Changed lists further studies whose worklist or delivery state changed.
	Changed []string
	// Progress is the download progress of studies since the last event.
	Progress map[string]Progress
	// Turnaround, when not nil, is the reader's turnaround targets as the
	// configuration now says (the worklist's due times follow them).
	Turnaround *tsync.Turnaround
}

// Progress is how much of a study is in the cache.
type Progress struct{ Done, Total int }

// bridge is the one place where domain events cross onto the UI goroutine: every
// callback that touches widgets goes through fyne.Do here.
type bridge struct {
	stop chan struct{}
}

// forward delivers events from ch to apply on the UI goroutine until ch closes or
// the bridge stops. It never blocks the sender for longer than the UI takes.
func (b *bridge) forward(ch <-chan StatusEvent, apply func(StatusEvent)) {
	if ch == nil {
		return
	}
	go func() {
		for {
			select {
			case <-b.stop:
				return
			case ev, ok := <-ch:
				if !ok {
					return
				}
				ui(func() { apply(ev) })
			}
		}
	}()
}

// forwardLatest delivers the newest snapshot of a source that signals wake
// whenever it changed, at most ten times a second: a burst of download progress
// becomes one repaint.
func (b *bridge) forwardLatest(wake <-chan struct{}, take func() StatusEvent, apply func(StatusEvent)) {
	go func() {
		for {
			select {
			case <-b.stop:
				return
			case <-wake:
				ev := take()
				ui(func() { apply(ev) })
			}
			select {
			case <-b.stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
}

// ui runs fn on the UI goroutine; renderers and players call it to show results.
// Tests replace it with a queue they drain on their own goroutine.
var ui = func(fn func()) { fyne.Do(fn) }

func newBridge() *bridge { return &bridge{stop: make(chan struct{})} }

func (b *bridge) close() { close(b.stop) }
