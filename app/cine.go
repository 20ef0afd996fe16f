package app

import (
	"math"
	"time"

	"teleread/viewer"
)

// cineClock turns elapsed playback time into the frame to show, through the
// file's own timing (viewer.CineTiming.FrameAt), and numbers every frame of the
// unfolded timeline so that frames that were due but never painted can be counted.
type cineClock struct {
	timing          viewer.CineTiming
	first, last     int
	forward, period time.Duration // media time at speed 1
	perPeriod       int64         // frames shown in one period
}

func newCineClock(t viewer.CineTiming) cineClock {
	c := cineClock{timing: t}
	c.first, c.last = t.Trim()
	for i := c.first; i <= c.last; i++ {
		c.forward += t.FrameDuration(i)
	}
	c.period = c.forward
	c.perPeriod = int64(c.last - c.first + 1)
	if t.Mode() == viewer.Sweeping && c.last-c.first >= 2 {
		for j := c.first + 1; j <= c.last-1; j++ {
			c.period += t.FrameDuration(j)
		}
		c.perPeriod += int64(c.last - c.first - 1)
	}
	return c
}

// at returns the frame to show after elapsed wall-clock time and its slot: the
// number of frames the timeline has shown before it since playback began.
func (c cineClock) at(elapsed time.Duration) (frame int, slot int64) {
	frame = c.timing.FrameAt(elapsed)
	if c.period <= 0 || c.last <= c.first {
		return frame, 0
	}
	m := float64(max(elapsed, 0)) * c.timing.Speed()
	q := math.Floor(m / float64(c.period))
	r := time.Duration(m - q*float64(c.period))
	var s int64
	if r < c.forward {
		s = int64(frame - c.first)
	} else {
		s = int64(c.last-c.first+1) + int64(c.last-1-frame)
	}
	return frame, int64(q)*c.perPeriod + s
}

// cinePlayer plays one multi-frame instance of a viewport: a goroutine that asks
// the clock for the frame due now and posts it, so playback follows the file's
// timing and never drifts, however late a paint is.
type cinePlayer struct {
	stop chan struct{}
	done chan struct{}
}

// pollInterval is how often the player looks at the clock; the frame shown is
// always the one due at that moment, so the interval only bounds the lateness.
const pollInterval = 2 * time.Millisecond

func startCine(clock cineClock, show func(frame int, slot int64)) *cinePlayer {
	p := &cinePlayer{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		start := time.Now()
		last := int64(-1)
		t := time.NewTicker(pollInterval)
		defer t.Stop()
		for {
			frame, slot := clock.at(time.Since(start))
			if slot != last {
				last = slot
				show(frame, slot)
			}
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

func (p *cinePlayer) halt() {
	if p == nil {
		return
	}
	close(p.stop)
	<-p.done
}
