// Package mailbox holds Latest, a one-slot mailbox between goroutines in
// which a newer value replaces one not yet taken: a burst of drag events
// renders only the newest picture, a burst of typing saves only the newest
// draft, a burst of sync progress repaints once.
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
