// Package newest holds Runner, which runs each request on a goroutine of its
// own and hands on only the answer to the newest: a study opened while
// another is still being read replaces it, and the earlier answer, however
// late, is dropped. Its owner (the UI goroutine) asks and takes answers; the
// work runs beside it, so a slow request never delays a later one.
package newest

import "sync/atomic"

// Runner runs requests of type Q into answers of type A. Ask, Cancel,
// Pending and Idle belong to the owner goroutine; Current may be called from
// any. Make one with New.
type Runner[Q, A any] struct {
	work func(ask uint64, q Q) A // on a goroutine of its own
	post func(func())            // runs a function on the owner goroutine
	show func(A)                 // on the owner goroutine: the newest answer

	newest atomic.Uint64 // the newest request, for the work to look at
	closed atomic.Bool

	// Owned by the owner goroutine.
	asked    uint64 // requests made, and cancels
	settled  uint64 // the newest request answered or cancelled
	started  int    // work started
	answered int    // answers that reached the owner, shown or dropped
}

// New returns a Runner that runs work for each request on a goroutine of its
// own, hands its answer to the owner goroutine through post, and there
// gives show the answer to the newest request only. work learns its
// request's number, to ask Current before it does what only the newest
// request should (anything written for a request dropped later is its own
// concern).
func New[Q, A any](work func(ask uint64, q Q) A, post func(func()), show func(A)) *Runner[Q, A] {
	return &Runner[Q, A]{work: work, post: post, show: show}
}

// Ask starts a request (owner goroutine); any earlier one still at work is
// dropped when it answers.
func (r *Runner[Q, A]) Ask(q Q) {
	if r.closed.Load() {
		return
	}
	r.asked++
	ask := r.asked
	r.newest.Store(ask)
	r.started++
	go func() {
		a := r.work(ask, q)
		r.post(func() { r.deliver(ask, a) })
	}()
}

// deliver shows an answer if it answers the newest request (owner goroutine).
func (r *Runner[Q, A]) deliver(ask uint64, a A) {
	r.answered++
	if r.closed.Load() || ask != r.asked {
		return // a newer request, or a cancel, came after it
	}
	r.settled = ask
	r.show(a)
}

// Current reports whether ask is still the newest request (any goroutine).
func (r *Runner[Q, A]) Current(ask uint64) bool {
	return r.newest.Load() == ask && !r.closed.Load()
}

// Cancel drops every request still at work (owner goroutine).
func (r *Runner[Q, A]) Cancel() {
	r.asked++
	r.settled = r.asked
	r.newest.Store(r.asked)
}

// Pending reports whether the newest request still waits for its answer
// (owner goroutine).
func (r *Runner[Q, A]) Pending() bool { return r.settled != r.asked }

// Idle reports whether every request started has answered, shown or
// dropped (owner goroutine).
func (r *Runner[Q, A]) Idle() bool { return r.answered == r.started }

// Close drops every answer still to come; work under way finishes on its
// own and is not shown.
func (r *Runner[Q, A]) Close() { r.closed.Store(true) }
