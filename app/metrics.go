package app

import (
	gosync "sync"
	"time"
)

// Metrics are the app's own timings, read by benchmarks and tests. All methods are
// safe for concurrent use; the zero value is ready.
type Metrics struct {
	mu gosync.Mutex

	openStarted map[string]time.Time // study UID -> when opening began
	firstImage  []time.Duration      // open to first image painted, per opened study

	scrollFrames int       // distinct stack positions painted while scrolling
	scrollStart  time.Time // first painted scroll frame of the current run
	scrollLast   time.Time

	cineShown   int
	cineDropped int
}

func (m *Metrics) startOpen(study string, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.openStarted == nil {
		m.openStarted = map[string]time.Time{}
	}
	m.openStarted[study] = at
}

// painted records a frame of study handed to the screen.
func (m *Metrics) painted(study string, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.openStarted[study]; ok {
		m.firstImage = append(m.firstImage, at.Sub(t))
		delete(m.openStarted, study)
	}
}

func (m *Metrics) scrollPainted(at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.scrollFrames == 0 {
		m.scrollStart = at
	}
	m.scrollFrames++
	m.scrollLast = at
}

func (m *Metrics) cineFrame(dropped int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cineShown++
	m.cineDropped += dropped
}

// FirstImage returns, for each study opened so far, the time from the open request
// to its first image being painted, in opening order.
func (m *Metrics) FirstImage() []time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]time.Duration(nil), m.firstImage...)
}

// ScrollRate returns the stack positions painted per second since ResetScroll, and
// how many were painted.
func (m *Metrics) ScrollRate() (perSecond float64, frames int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := m.scrollLast.Sub(m.scrollStart)
	if m.scrollFrames < 2 || d <= 0 {
		return 0, m.scrollFrames
	}
	return float64(m.scrollFrames-1) / d.Seconds(), m.scrollFrames
}

// ResetScroll starts a new scroll-rate measurement.
func (m *Metrics) ResetScroll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.scrollFrames = 0
}

// Cine returns the cine frames shown and dropped (due frames never painted) since
// ResetCine.
func (m *Metrics) Cine() (shown, dropped int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cineShown, m.cineDropped
}

// ResetCine starts a new cine count.
func (m *Metrics) ResetCine() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cineShown, m.cineDropped = 0, 0
}
