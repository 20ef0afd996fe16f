package main

import (
	"fmt"
	"io"
	"os"
	gosync "sync"
	"time"

	tsync "teleread/sync"
)

// redrawEvery bounds how often a progress line is redrawn: a pull storing
// hundreds of instances a second would otherwise spend its time on the
// terminal.
const redrawEvery = 200 * time.Millisecond

// formatRate is bytes over elapsed as "1.5 MiB/s"; "-" before any time has
// passed or any byte arrived.
func formatRate(bytes int64, elapsed time.Duration) string {
	if bytes <= 0 || elapsed <= 0 {
		return "-"
	}
	return humanBytes(int64(float64(bytes)/elapsed.Seconds())) + "/s"
}

// formatETA estimates the time left from the share of items done so far
// (instances: sizes are not known before they arrive). "-" when nothing is
// done yet, the total is unknown, or under a second has passed (the first
// item alone says nothing of the rate).
func formatETA(done, total int, elapsed time.Duration) string {
	if done <= 0 || total <= done || elapsed < time.Second {
		if total > 0 && done >= total {
			return "0:00"
		}
		return "-"
	}
	left := time.Duration(float64(elapsed) * float64(total-done) / float64(done)).Round(time.Second)
	h, m, s := int(left/time.Hour), int(left/time.Minute)%60, int(left/time.Second)%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%d:%02d", m, s)
}

// progressLine is one count: "12/40 instances, 3.0 MiB, 1.0 MiB/s, ETA 0:06".
// A total of zero (unknown) shows the count alone and no ETA.
func progressLine(unit string, done, total int, bytes int64, elapsed time.Duration) string {
	if total <= 0 {
		return fmt.Sprintf("%d %s, %s, %s", done, unit, humanBytes(bytes), formatRate(bytes, elapsed))
	}
	return fmt.Sprintf("%d/%d %s, %s, %s, ETA %s", done, total, unit, humanBytes(bytes),
		formatRate(bytes, elapsed), formatETA(done, total, elapsed))
}

// liveLine redraws one line in place (carriage return) on a terminal, at
// most every redrawEvery; elsewhere it draws nothing, so that piped output
// stays the plain lines scripts read. The text goes through terminalSafe
// (names come from files and archives); only the erase sequence is raw.
type liveLine struct {
	tty   bool
	raw   io.Writer // the terminal itself, for the erase sequence
	text  io.Writer // the same terminal, control characters escaped
	now   func() time.Time
	last  time.Time
	shown bool
}

func newLiveLine(tty bool) *liveLine {
	return &liveLine{tty: tty, raw: os.Stderr, text: stderr, now: time.Now}
}

// draw shows s unless the last redraw was under redrawEvery ago.
func (l *liveLine) draw(s string) {
	if !l.tty {
		return
	}
	now := l.now()
	if l.shown && now.Sub(l.last) < redrawEvery {
		return
	}
	l.last = now
	fmt.Fprint(l.raw, "\r\033[K")
	fmt.Fprint(l.text, s)
	l.shown = true
}

// clear erases the line, before a plain line is printed or at the end.
func (l *liveLine) clear() {
	if l.tty && l.shown {
		fmt.Fprint(l.raw, "\r\033[K")
		l.shown = false
	}
}

// progress shows a pull: on a terminal one line with the study being
// fetched (instances, rate, ETA) and the whole pull (instances, bytes,
// rate, ETA); a plain line per study state change in any case.
type progress struct {
	mu      gosync.Mutex
	line    *liveLine
	start   time.Time
	studies map[string]*studyCount
}

type studyCount struct {
	start       time.Time
	done, total int
	bytes       int64
}

func newProgress(tty bool) *progress {
	return &progress{line: newLiveLine(tty), studies: map[string]*studyCount{}}
}

func (p *progress) event(e tsync.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.line.now()
	if p.start.IsZero() {
		p.start = now
	}
	switch e.Kind {
	case tsync.StudyProgress:
		s := p.studies[e.StudyUID]
		if s == nil {
			s = &studyCount{start: now}
			p.studies[e.StudyUID] = s
		}
		s.done, s.total, s.bytes = e.Done, e.Total, e.Bytes
		p.line.draw(p.render(e.StudyUID, now))
	case tsync.StudyState:
		p.line.clear()
		line := fmt.Sprintf("%s: %s (%d/%d)", short(e.StudyUID), e.State, e.Done, e.Total)
		if e.Err != nil {
			line += ": " + e.Err.Error()
		}
		fmt.Fprintln(stderr, line)
	case tsync.Connectivity:
		if !e.Online {
			p.line.clear()
			fmt.Fprintln(stderr, "archive offline")
		}
	}
}

// render is the terminal line for a pull while uid is being fetched.
func (p *progress) render(uid string, now time.Time) string {
	s := p.studies[uid]
	var done, total int
	var bytes int64
	for _, c := range p.studies {
		done, total, bytes = done+c.done, total+c.total, bytes+c.bytes
	}
	return fmt.Sprintf("%s: %s | all: %s", short(uid),
		progressLine("instances", s.done, s.total, s.bytes, now.Sub(s.start)),
		progressLine("instances", done, total, bytes, now.Sub(p.start)))
}

// done erases the progress line and starts the next pull afresh.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.line.clear()
	p.start = time.Time{}
	p.studies = map[string]*studyCount{}
}
