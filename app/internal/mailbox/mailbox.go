// Package mailbox holds Latest, a one-slot mailbox between goroutines in
// which a newer value replaces one not yet taken: a burst of drag events
// renders only the newest picture, a burst of typing saves only the newest
// draft, a burst of worklist reloads reads the cache once more. Merging is
// its sibling for values whose parts must all arrive: a burst of sync
// events repaints once and still names every study that changed.
package mailbox

import "sync"

// Latest is a one-slot mailbox: Put never blocks and replaces a value not
// yet taken; the taker waits on Ready and then Takes. Make one with New.
type Latest[T any] struct {
	mu    sync.Mutex
	v     T
	full  bool
	ready chan struct{}
}

// New returns an empty mailbox.
func New[T any]() *Latest[T] {
	return &Latest[T]{ready: make(chan struct{}, 1)}
}

// Put leaves v for the taker, replacing any value not yet taken, and
// signals Ready.
func (m *Latest[T]) Put(v T) {
	m.mu.Lock()
	m.v, m.full = v, true
	m.mu.Unlock()
	select {
	case m.ready <- struct{}{}:
	default: // a signal is already waiting; it will find v
	}
}

// Ready receives after a Put. Many Puts before the taker looks give one
// signal, and a signal may find the box empty (a Take or Clear came first):
// Take says so.
func (m *Latest[T]) Ready() <-chan struct{} { return m.ready }

// Take removes and returns the value, and false when there is none.
func (m *Latest[T]) Take() (T, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.v, m.full
	var zero T
	m.v, m.full = zero, false // the box keeps no reference to what it handed over
	return v, ok
}

// Pending reports whether a value waits to be taken: a long job checks it to
// give way to newer work.
func (m *Latest[T]) Pending() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.full
}

// Clear drops a value not yet taken.
func (m *Latest[T]) Clear() {
	m.mu.Lock()
	defer m.mu.Unlock()
	var zero T
	m.v, m.full = zero, false
}

// Merging is a one-slot mailbox in which Put folds its value into the one
// not yet taken, merge(pending, v), instead of replacing it. It is for
// values whose parts the taker must each see even when a newer value
// comes first: the sync status names the studies that changed, and a
// snapshot about one study must not hide that another changed just before
// it (Latest would lose the first). Make one with NewMerging.
type Merging[T any] struct {
	mu    sync.Mutex
	v     T
	full  bool
	merge func(pending, v T) T
	ready chan struct{}
}

// NewMerging returns an empty mailbox that folds a Put into the value not
// yet taken with merge. merge runs under the box's lock: it must not block
// nor touch the box; it may change and return pending, which the box owns.
func NewMerging[T any](merge func(pending, v T) T) *Merging[T] {
	return &Merging[T]{merge: merge, ready: make(chan struct{}, 1)}
}

// Put leaves v for the taker, folded into any value not yet taken, and
// signals Ready.
func (m *Merging[T]) Put(v T) {
	m.mu.Lock()
	if m.full {
		v = m.merge(m.v, v)
	}
	m.v, m.full = v, true
	m.mu.Unlock()
	select {
	case m.ready <- struct{}{}:
	default: // a signal is already waiting; it will find the merged value
	}
}

// Ready receives after a Put; as with Latest, a burst gives one signal and a
// signal may find the box empty.
func (m *Merging[T]) Ready() <-chan struct{} { return m.ready }

// Take removes and returns the value, and false when there is none.
func (m *Merging[T]) Take() (T, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.v, m.full
	var zero T
	m.v, m.full = zero, false
	return v, ok
}
