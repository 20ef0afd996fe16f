package app

import (
	gosync "sync"

	"teleread/app/internal/mailbox"
	"teleread/app/internal/worklist"
)

// worklistLoader reads the worklist from the cache on a goroutine of its own,
// never on the UI goroutine: a slow query (a big cache, a busy disk, another
// process writing) must not freeze the window. Asks and answers cross through
// two mailboxes, newest wins both ways: a burst of asks while a query runs
// gives one more query, and rows read while the UI was busy are shown only
// if no newer rows came after them.
type worklistLoader struct {
	mu   gosync.Mutex
	load func() ([]worklist.Row, error) // the query; tests wrap it

	asks    *mailbox.Latest[uint64]       // the number of the newest ask not yet queried
	answers *mailbox.Latest[worklistRows] // the newest rows read, not yet shown
	show    func(worklistRows)            // on the UI goroutine
	stop    chan struct{}
	done    chan struct{}

	// Owned by the UI goroutine.
	asked  uint64 // asks made
	shown  uint64 // the newest ask whose answer is shown
	after  []afterRows
	closed bool
}

// worklistRows answers ask: the rows read after it was made, or why not.
type worklistRows struct {
	ask  uint64
	rows []worklist.Row
	err  error
}

// afterRows is a function waiting for the answer to ask (or a later one).
type afterRows struct {
	ask uint64
	fn  func()
}

func newWorklistLoader(load func() ([]worklist.Row, error), show func(worklistRows)) *worklistLoader {
	l := &worklistLoader{load: load, show: show, asks: mailbox.New[uint64](), answers: mailbox.New[worklistRows](),
		stop: make(chan struct{}), done: make(chan struct{})}
	go l.run()
	return l
}

func (l *worklistLoader) run() {
	defer close(l.done)
	for {
		select {
		case <-l.stop:
			return
		case <-l.asks.Ready():
		}
		ask, ok := l.asks.Take()
		if !ok {
			continue
		}
		l.mu.Lock()
		load := l.load
		l.mu.Unlock()
		var rows []worklist.Row
		var err error
		if perr := guard("worklist", func() { rows, err = load() }); perr != nil {
			err = perr
		}
		l.answers.Put(worklistRows{ask: ask, rows: rows, err: err})
		ui(l.deliver)
	}
}

// reload asks for the worklist to be read again (UI goroutine). Each fn runs
// on the UI goroutine once rows read after this ask are shown (or failed).
func (l *worklistLoader) reload(fn ...func()) {
	if l.closed {
		return
	}
	l.asked++
	for _, f := range fn {
		if f != nil {
			l.after = append(l.after, afterRows{l.asked, f})
		}
	}
	l.asks.Put(l.asked)
}

// deliver shows the newest answer (UI goroutine). An earlier deliver may
// have shown it already: then there is nothing to do.
func (l *worklistLoader) deliver() {
	a, ok := l.answers.Take()
	if !ok || l.closed || a.ask < l.shown {
		return
	}
	l.shown = a.ask
	l.show(a)
	var later []afterRows
	var run []func()
	for _, w := range l.after {
		if w.ask <= a.ask {
			run = append(run, w.fn)
		} else {
			later = append(later, w)
		}
	}
	l.after = later
	for _, fn := range run {
		fn()
	}
}

// settled reports whether the answer to every ask is shown (UI goroutine).
func (l *worklistLoader) settled() bool { return l.shown == l.asked }

// setLoad replaces the query (tests: to hold it, or see where it runs).
func (l *worklistLoader) setLoad(load func() ([]worklist.Row, error)) {
	l.mu.Lock()
	l.load = load
	l.mu.Unlock()
}

// close stops the loader; a query under way finishes on its own and is not
// shown.
func (l *worklistLoader) close() {
	if l.closed {
		return
	}
	l.closed = true
	close(l.stop)
}
