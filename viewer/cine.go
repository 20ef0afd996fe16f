package viewer

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"teleread/viewer/dataset"
)

// Cine attributes that dataset does not name.
var (
	tagStartTrim = dataset.T(0x0008, 0x2142) // IS, 1-based first frame to show
	tagStopTrim  = dataset.T(0x0008, 0x2143) // IS, 1-based last frame to show
)

// DefaultFrameRate is the rate, in frames per second, used for a multi-frame image
// that carries no timing at all (no Frame Time, Frame Time Vector, Recommended Display
// Frame Rate or Cine Rate). 30 is the video rate most ultrasound and fluoroscopy
// equipment acquires at, so an untimed clip plays close to how it was seen.
const DefaultFrameRate = 30

// Bounds on the timing a file may declare. Longer frames or faster rates than these
// are taken as damage, and the next source in the PS3.3 C.7.6.5 order is used.
const (
	maxFrameDuration = time.Hour
	minFrameDuration = time.Millisecond / 10 // 10000 frames per second
)

// ErrCineTiming is returned (wrapped) when cine timing values cannot be used.
var ErrCineTiming = errors.New("invalid cine timing")

// PlaybackMode says how playback continues past the last frame
// (Preferred Playback Sequencing, 0018,1244).
type PlaybackMode int

const (
	// Looping plays first..last, then starts again at the first frame (value 0).
	Looping PlaybackMode = iota
	// Sweeping plays first..last, then last-1 back down to first+1, and repeats (value 1).
	Sweeping
)

// String names the mode as PS3.3 does.
func (m PlaybackMode) String() string {
	if m == Sweeping {
		return "sweeping"
	}
	return "looping"
}

// TimingSource says which attribute the frame durations came from.
type TimingSource int

const (
	// TimingDefault means the file has no usable timing; DefaultFrameRate is used.
	TimingDefault TimingSource = iota
	// TimingFrameTime is Frame Time (0018,1063), selected by the Frame Increment Pointer.
	TimingFrameTime
	// TimingFrameTimeVector is Frame Time Vector (0018,1065), selected by the Frame Increment Pointer.
	TimingFrameTimeVector
	// TimingRecommendedRate is Recommended Display Frame Rate (0008,2144).
	TimingRecommendedRate
	// TimingCineRate is Cine Rate (0018,0040).
	TimingCineRate
	// TimingFrameTimeUnreferenced is Frame Time present without a Frame Increment
	// Pointer naming it: used only when none of the sources above is usable.
	TimingFrameTimeUnreferenced
)

// String names the source for an overlay or a log line.
func (s TimingSource) String() string {
	switch s {
	case TimingFrameTime:
		return "Frame Time"
	case TimingFrameTimeVector:
		return "Frame Time Vector"
	case TimingRecommendedRate:
		return "Recommended Display Frame Rate"
	case TimingCineRate:
		return "Cine Rate"
	case TimingFrameTimeUnreferenced:
		return "Frame Time (not referenced by Frame Increment Pointer)"
	}
	return "default rate"
}

// CineTiming says which frame of a multi-frame image to show at any moment of
// playback. The frame is computed from the elapsed time since playback started, never
// by counting timer ticks, so a slow paint or a late timer makes playback skip a frame
// rather than drift: after ten minutes the clip is exactly where the file's timing
// says it should be.
//
// A CineTiming is a value; the With methods return changed copies and the
// zero value is a single frame that is always shown.
type CineTiming struct {
	frames  int
	uniform time.Duration   // duration of every frame when starts is nil
	starts  []time.Duration // variable timing: frame i is shown from starts[i] to starts[i+1]
	source  TimingSource
	mode    PlaybackMode
	first   int // trimmed range, 0-based, inclusive
	last    int
	speed   float64 // 1 is the file's own rate
}

// UniformCine returns timing for frames frames of frameTime each, looping over all
// frames at speed 1.
func UniformCine(frames int, frameTime time.Duration) (CineTiming, error) {
	if frames < 1 {
		return CineTiming{}, fmt.Errorf("viewer: cine timing: %d frames: %w", frames, ErrCineTiming)
	}
	if frameTime < minFrameDuration || frameTime > maxFrameDuration {
		return CineTiming{}, fmt.Errorf("viewer: cine timing: frame time %v: %w", frameTime, ErrCineTiming)
	}
	if int64(frames) > math.MaxInt64/4/int64(frameTime) {
		return CineTiming{}, fmt.Errorf("viewer: cine timing: %d frames of %v overflow: %w", frames, frameTime, ErrCineTiming)
	}
	return CineTiming{frames: frames, uniform: frameTime, source: TimingDefault, last: frames - 1, speed: 1}, nil
}

// VariableCine returns timing from a Frame Time Vector: increments[i] is the time
// between frame i-1 and frame i, and increments[0] (the first frame's, always 0 in
// PS3.3 C.7.6.5.1.2) is ignored. The last frame has no following increment; it is
// shown for the mean of the others, so a loop's length equals the number of frames
// times the mean interval. Zero increments are allowed (that frame is never shown on
// its own); negative ones, or all zero, are an error.
func VariableCine(increments []time.Duration) (CineTiming, error) {
	n := len(increments)
	if n < 1 {
		return CineTiming{}, fmt.Errorf("viewer: cine timing: empty frame time vector: %w", ErrCineTiming)
	}
	if n == 1 {
		return CineTiming{frames: 1, uniform: time.Second / DefaultFrameRate, last: 0, speed: 1}, nil
	}
	starts := make([]time.Duration, n+1)
	var sum time.Duration
	for i := 1; i < n; i++ {
		d := increments[i]
		if d < 0 || d > maxFrameDuration {
			return CineTiming{}, fmt.Errorf("viewer: cine timing: frame time vector value %d is %v: %w", i, d, ErrCineTiming)
		}
		sum += d // at most n hours: cannot overflow for any vector that fits in memory
		starts[i] = sum
	}
	if sum == 0 {
		return CineTiming{}, fmt.Errorf("viewer: cine timing: frame time vector is all zero: %w", ErrCineTiming)
	}
	lastDur := sum / time.Duration(n-1)
	if lastDur < minFrameDuration {
		lastDur = minFrameDuration
	}
	starts[n] = sum + lastDur
	return CineTiming{frames: n, starts: starts, last: n - 1, speed: 1}, nil
}

// CineTimingOf reads the cine timing of a multi-frame image (PS3.3 C.7.6.5 Cine module,
// C.7.6.6 Multi-frame module, C.7.6.7): when the Frame Increment Pointer names Frame Time
// or Frame Time Vector that attribute is used; otherwise Recommended Display Frame Rate,
// then Cine Rate, then a Frame Time the pointer does not name, then DefaultFrameRate.
// A source whose values are missing or unusable is passed over for the next one.
// Preferred Playback Sequencing sets the mode and Start Trim / Stop Trim the range (a
// trim outside the frames, or start after stop, is ignored). Speed starts at 1.
//
// A data set without Number of Frames is one frame. Number of Frames is trusted only
// as a count: nothing is allocated from it.
func CineTimingOf(ds *dataset.DataSet) CineTiming {
	frames := 1
	if n, ok := ds.Int(dataset.NumberOfFrames); ok && n > 1 {
		frames = n
	}
	c := cineSource(ds, frames)
	if v, ok := ds.Int(dataset.PreferredPlaybackSequencing); ok && v == 1 {
		c.mode = Sweeping
	}
	start, okStart := ds.Int(tagStartTrim)
	stop, okStop := ds.Int(tagStopTrim)
	if okStart || okStop {
		if !okStart {
			start = 1
		}
		if !okStop {
			stop = c.frames
		}
		if t, err := c.WithTrim(start, stop); err == nil {
			c = t
		}
	}
	return c
}

// cineSource picks the frame durations in the PS3.3 order.
func cineSource(ds *dataset.DataSet, frames int) CineTiming {
	pointers := frameIncrementPointers(ds)
	for _, p := range pointers {
		switch p {
		case dataset.FrameTime:
			if ms, ok := ds.Float(dataset.FrameTime); ok {
				if c, err := UniformCine(frames, msDuration(ms)); err == nil {
					c.source = TimingFrameTime
					return c
				}
			}
		case dataset.FrameTimeVector:
			v := ds.Floats(dataset.FrameTimeVector)
			if len(v) == frames {
				inc := make([]time.Duration, len(v))
				for i, ms := range v {
					inc[i] = msDuration(ms)
				}
				if c, err := VariableCine(inc); err == nil {
					c.source = TimingFrameTimeVector
					return c
				}
			}
		}
	}
	if fps, ok := ds.Float(dataset.RecommendedDisplayFrameRate); ok && fps > 0 {
		if c, err := UniformCine(frames, rateDuration(fps)); err == nil {
			c.source = TimingRecommendedRate
			return c
		}
	}
	if fps, ok := ds.Float(dataset.CineRate); ok && fps > 0 {
		if c, err := UniformCine(frames, rateDuration(fps)); err == nil {
			c.source = TimingCineRate
			return c
		}
	}
	if ms, ok := ds.Float(dataset.FrameTime); ok {
		if c, err := UniformCine(frames, msDuration(ms)); err == nil {
			c.source = TimingFrameTimeUnreferenced
			return c
		}
	}
	c, err := UniformCine(frames, time.Second/DefaultFrameRate)
	if err != nil {
		// Only a frame count beyond any real file gets here; show its first frame.
		return CineTiming{frames: 1, uniform: time.Second / DefaultFrameRate, speed: 1}
	}
	return c
}

// frameIncrementPointers decodes the AT values of Frame Increment Pointer.
func frameIncrementPointers(ds *dataset.DataSet) []dataset.Tag {
	e := ds.Get(dataset.FrameIncrementPointer)
	if e == nil {
		return nil
	}
	var tags []dataset.Tag
	big := ds.BigEndian()
	for b := e.Value; len(b) >= 4; b = b[4:] {
		var g, el uint16
		if big {
			g, el = uint16(b[0])<<8|uint16(b[1]), uint16(b[2])<<8|uint16(b[3])
		} else {
			g, el = uint16(b[1])<<8|uint16(b[0]), uint16(b[3])<<8|uint16(b[2])
		}
		tags = append(tags, dataset.T(g, el))
	}
	return tags
}

// msDuration converts milliseconds to a Duration; NaN, infinite and out-of-range
// values become 0, which the constructors reject.
func msDuration(ms float64) time.Duration {
	ns := ms * float64(time.Millisecond)
	if math.IsNaN(ns) || ns < 0 || ns > float64(maxFrameDuration) {
		return 0
	}
	return time.Duration(math.Round(ns))
}

// rateDuration converts frames per second to the duration of one frame.
func rateDuration(fps float64) time.Duration {
	if math.IsNaN(fps) || fps <= 0 || math.IsInf(fps, 0) {
		return 0
	}
	return time.Duration(math.Round(float64(time.Second) / fps))
}

// Frames returns the number of frames the timing covers.
func (c CineTiming) Frames() int {
	if c.frames < 1 {
		return 1
	}
	return c.frames
}

// Source returns which attribute the frame durations came from.
func (c CineTiming) Source() TimingSource { return c.source }

// Mode returns the playback mode.
func (c CineTiming) Mode() PlaybackMode { return c.mode }

// Speed returns the speed factor (1 is the file's own rate).
func (c CineTiming) Speed() float64 {
	if c.speed <= 0 {
		return 1
	}
	return c.speed
}

// Trim returns the 0-based first and last frames played.
func (c CineTiming) Trim() (first, last int) { return c.first, c.last }

// FrameDuration returns how long frame i is shown at speed 1 (0 outside the frames).
func (c CineTiming) FrameDuration(i int) time.Duration {
	if i < 0 || i >= c.Frames() {
		return 0
	}
	return c.start(i+1) - c.start(i)
}

// FrameRate returns the mean native rate, in frames per second, of the trimmed range
// at the current speed.
func (c CineTiming) FrameRate() float64 {
	span := c.start(c.last+1) - c.start(c.first)
	if span <= 0 {
		return DefaultFrameRate * c.Speed()
	}
	return float64(c.last-c.first+1) * float64(time.Second) / float64(span) * c.Speed()
}

// WithMode returns the timing with playback mode m.
func (c CineTiming) WithMode(m PlaybackMode) CineTiming {
	if m != Sweeping {
		m = Looping
	}
	c.mode = m
	return c
}

// WithSpeed returns the timing played f times faster than the file's rate (2 is
// double speed, 0.5 half). f must be finite and within 1/64..64.
func (c CineTiming) WithSpeed(f float64) (CineTiming, error) {
	if math.IsNaN(f) || f < 1.0/64 || f > 64 {
		return c, fmt.Errorf("viewer: cine speed %v: %w", f, ErrCineTiming)
	}
	c.speed = f
	return c, nil
}

// WithTrim returns the timing playing only frames start..stop, counted from 1 as
// Start Trim and Stop Trim are.
func (c CineTiming) WithTrim(start, stop int) (CineTiming, error) {
	if start < 1 || stop > c.Frames() || start > stop {
		return c, fmt.Errorf("viewer: cine trim %d..%d of %d frames: %w", start, stop, c.Frames(), ErrCineTiming)
	}
	c.first, c.last = start-1, stop-1
	return c, nil
}

// start returns when frame i begins, at speed 1, counted from frame 0.
func (c CineTiming) start(i int) time.Duration {
	if c.starts != nil {
		return c.starts[i]
	}
	d := c.uniform
	if d <= 0 {
		d = time.Second / DefaultFrameRate
	}
	return time.Duration(i) * d
}

// period returns one loop (or one forward-and-back sweep) at speed 1.
func (c CineTiming) period() time.Duration {
	forward := c.start(c.last+1) - c.start(c.first)
	if c.mode == Sweeping && c.last-c.first >= 2 {
		forward += c.start(c.last) - c.start(c.first+1)
	}
	return forward
}

// LoopDuration returns the wall-clock length of one loop at the current speed: first
// to last and back to the start of first, or for sweeping, first to last and back
// down to first+1.
func (c CineTiming) LoopDuration() time.Duration {
	return time.Duration(math.Round(float64(c.period()) / c.Speed()))
}

// FrameAt returns the 0-based frame to show when elapsed time has passed since
// playback started at the first frame of the trimmed range. Negative elapsed
// times show the first frame.
func (c CineTiming) FrameAt(elapsed time.Duration) int {
	if c.last <= c.first {
		return c.first
	}
	period := c.period()
	if elapsed <= 0 || period <= 0 {
		return c.first
	}
	// Media time: elapsed scaled once by the speed, never summed step by step. float64
	// holds nanoseconds exactly up to 104 days; beyond that the error is below 1 µs/day.
	m := float64(elapsed) * c.Speed()
	t := time.Duration(math.Mod(m, float64(period)))
	if t < 0 || t >= period { // rounding at the edges of Mod
		t = 0
	}
	base := c.start(c.first)
	forward := c.start(c.last+1) - base
	if t < forward {
		// Last frame i in first..last with start(i) <= base+t.
		pos := base + t
		i := sort.Search(c.last-c.first+1, func(k int) bool { return c.start(c.first+k) > pos })
		return c.first + i - 1
	}
	// Sweeping back: frame j in last-1..first+1 is shown for its own duration,
	// from end = start(last) downward.
	v := c.start(c.last) - (t - forward)
	// Smallest j in first+1..last-1 with start(j+1) >= v, i.e. start(j) < v <= start(j+1).
	lo := c.first + 1
	j := lo + sort.Search(c.last-1-lo+1, func(k int) bool { return c.start(lo+k+1) >= v })
	if j > c.last-1 {
		j = c.last - 1
	}
	return j
}
