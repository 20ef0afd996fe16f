package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	tsync "teleread/sync"
)

func TestProgressFormat(t *testing.T) {
	tests := []struct {
		unit        string
		done, total int
		bytes       int64
		elapsed     time.Duration
		want        string
	}{
		// 3 MiB in 2 s is 1.5 MiB/s; 10 of 40 in 2 s leaves 30 at 5/s: 6 s.
		{"instances", 10, 40, 3 << 20, 2 * time.Second, "10/40 instances, 3.0 MiB, 1.5 MiB/s, ETA 0:06"},
		// 1 of 100 after 1 min: 99 min left.
		{"instances", 1, 100, 512, time.Minute, "1/100 instances, 512 B, 8 B/s, ETA 1:39:00"},
		// 1 of 3 after 45 s: 90 s left.
		{"files", 1, 3, 2048, 45 * time.Second, "1/3 files, 2.0 KiB, 45 B/s, ETA 1:30"},
		{"files", 0, 7, 0, 0, "0/7 files, 0 B, -, ETA -"},
		// The first file after a few microseconds: no estimate yet.
		{"files", 1, 247, 0, 40 * time.Microsecond, "1/247 files, 0 B, -, ETA -"},
		{"files", 7, 7, 1 << 30, 4 * time.Second, "7/7 files, 1.0 GiB, 256.0 MiB/s, ETA 0:00"},
		// No total (zip members beyond the files counted): no ETA.
		{"files", 12, 0, 10 << 10, 5 * time.Second, "12 files, 10.0 KiB, 2.0 KiB/s"},
	}
	for _, tt := range tests {
		if got := progressLine(tt.unit, tt.done, tt.total, tt.bytes, tt.elapsed); got != tt.want {
			t.Errorf("progressLine(%d/%d, %d B, %v) = %q, want %q", tt.done, tt.total, tt.bytes, tt.elapsed, got, tt.want)
		}
	}
}

// fakeLine is a liveLine on a pretend terminal with a hand-driven clock.
func fakeLine(tty bool) (*liveLine, *bytes.Buffer, *time.Time) {
	var out bytes.Buffer
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return &liveLine{tty: tty, raw: &out, text: terminalSafe{&out}, now: func() time.Time { return clock }}, &out, &clock
}

// TestLiveLineThrottle: the line is redrawn in place at most five times a
// second, and a name's control bytes are escaped.
func TestLiveLineThrottle(t *testing.T) {
	l, out, clock := fakeLine(true)
	l.draw("a")
	*clock = clock.Add(100 * time.Millisecond)
	l.draw("b") // too soon
	*clock = clock.Add(100 * time.Millisecond)
	l.draw("c\x1b[2J")
	l.clear()
	if want := "\r\x1b[Ka\r\x1b[Kc\\x1b[2J\r\x1b[K"; out.String() != want {
		t.Errorf("terminal got %q, want %q", out.String(), want)
	}
	l, out, _ = fakeLine(false)
	l.draw("a")
	l.clear()
	if out.Len() != 0 {
		t.Errorf("not a terminal, got %q, want nothing", out.String())
	}
}

// TestSyncProgressLine: on a terminal the pull's line names the study and
// the whole pull, with rate and ETA; off a terminal only state lines come.
func TestSyncProgressLine(t *testing.T) {
	for _, tty := range []bool{true, false} {
		l, out, clock := fakeLine(tty)
		p := &progress{line: l, studies: map[string]*studyCount{}}
		p.event(tsync.Event{Kind: tsync.StudyProgress, StudyUID: "1.2.3", Done: 1, Total: 4, Bytes: 1 << 20})
		*clock = clock.Add(time.Second)
		p.event(tsync.Event{Kind: tsync.StudyProgress, StudyUID: "1.2.3", Done: 2, Total: 4, Bytes: 2 << 20})
		got := out.String()
		want := "1.2.3: 2/4 instances, 2.0 MiB, 2.0 MiB/s, ETA 0:01 | all: 2/4 instances, 2.0 MiB, 2.0 MiB/s, ETA 0:01"
		if tty != strings.Contains(got, "\r\x1b[K"+want) {
			t.Errorf("tty %v: got %q, want line %q only on a terminal", tty, got, want)
		}
		if !tty && got != "" {
			t.Errorf("not a terminal: got %q, want nothing for progress events", got)
		}
	}
}
