package gpu

import (
	"errors"
	"fmt"
	"image/draw"
	"sync"
	"time"

	"teleread/viewer"
)

// FrameSource decodes frames by number; *viewer.Image is one. Frame is called
// from several goroutines at once.
type FrameSource interface {
	Frame(n int) (*viewer.Frame, error)
}

// CineOptions tune a Cine; the zero value is usable.
type CineOptions struct {
	Ring    int // textures decoded ahead; 0 means 8
	Workers int // decoding goroutines; 0 means 2
}

// Cine plays a multi-frame image: worker goroutines decode the frames that come
// next and upload each into one slot of a ring of textures, and Show draws the
// frame the timing model says belongs to the elapsed time, so playback never
// drifts; frames the clock passed before they could be shown are counted as
// dropped.
type Cine struct {
	src    FrameSource
	timing viewer.CineTiming

	mu      sync.Mutex
	cond    *sync.Cond
	slots   []*cineSlot
	want    int // frame the workers decode ahead from
	closed  bool
	last    int // frame last shown, -1 before the first
	dropped int
	shown   int
	wg      sync.WaitGroup
}

type cineSlot struct {
	r     *Renderer
	frame int   // frame held, -1 none
	busy  bool  // a worker is filling it
	err   error // decoding or upload error of frame
}

// NewCine starts decoding ahead for src with timing t on c.
func (c *Context) NewCine(src FrameSource, t viewer.CineTiming, opt CineOptions) *Cine {
	if opt.Ring <= 0 {
		opt.Ring = 8
	}
	if opt.Workers <= 0 {
		opt.Workers = 2
	}
	if n := t.Frames(); n > 0 && opt.Ring > n {
		opt.Ring = n
	}
	p := &Cine{src: src, timing: t, last: -1}
	p.cond = sync.NewCond(&p.mu)
	first, _ := t.Trim()
	p.want = first
	for i := 0; i < opt.Ring; i++ {
		p.slots = append(p.slots, &cineSlot{r: c.NewRenderer(), frame: -1})
	}
	for i := 0; i < opt.Workers; i++ {
		p.wg.Add(1)
		go p.work()
	}
	return p
}

// upcoming returns the frames that playback from frame n shows next, n first.
func (p *Cine) upcoming(n, k int) []int {
	out := make([]int, 0, k)
	first, last := p.timing.Trim()
	for f := n; len(out) < k && f <= last; f++ {
		out = append(out, f)
	}
	for f := first; len(out) < k && f < n; f++ {
		out = append(out, f)
	}
	return out
}

// work fills ring slots with the frames that come next.
func (p *Cine) work() {
	defer p.wg.Done()
	p.mu.Lock()
	defer p.mu.Unlock()
	for !p.closed {
		next, slot := p.task()
		if slot == nil {
			p.cond.Wait()
			continue
		}
		slot.busy, slot.frame, slot.err = true, next, nil
		p.mu.Unlock()
		f, err := p.src.Frame(next)
		if err == nil {
			err = slot.r.Upload(f)
		}
		p.mu.Lock()
		slot.busy, slot.err = false, err
		p.cond.Broadcast()
	}
}

// task picks the next frame to decode and the slot to put it in: a slot holding
// no frame, or one that playback has passed. Called with p.mu held.
func (p *Cine) task() (int, *cineSlot) {
	ahead := p.upcoming(p.want, len(p.slots))
	held := map[int]bool{}
	for _, s := range p.slots {
		if s.frame >= 0 {
			held[s.frame] = true
		}
	}
	keep := map[int]bool{}
	for _, f := range ahead {
		keep[f] = true
	}
	for _, f := range ahead {
		if held[f] {
			continue
		}
		for _, s := range p.slots {
			if !s.busy && (s.frame < 0 || !keep[s.frame]) {
				return f, s
			}
		}
		return 0, nil
	}
	return 0, nil
}

// ErrCineClosed is returned by Show after Close.
var ErrCineClosed = errors.New("gpu: cine closed")

// Show draws the frame for elapsed playback time with d into dst, waiting for it
// to be decoded if the workers are behind, and returns its number.
func (p *Cine) Show(elapsed time.Duration, d *viewer.Display, dst draw.Image) (int, error) {
	n := p.timing.FrameAt(elapsed)
	p.mu.Lock()
	if p.last >= 0 && n != p.last {
		first, last := p.timing.Trim()
		skipped := n - p.last - 1
		if n < p.last { // wrapped round
			skipped = (last - p.last) + (n - first)
		}
		if p.timing.Mode() == viewer.Looping && skipped > 0 {
			p.dropped += skipped
		}
	}
	p.want = n
	p.cond.Broadcast()
	var slot *cineSlot
	for !p.closed {
		slot = nil
		for _, s := range p.slots {
			if s.frame == n && !s.busy {
				slot = s
			}
		}
		if slot != nil {
			break
		}
		p.cond.Wait()
	}
	if p.closed {
		p.mu.Unlock()
		return n, ErrCineClosed
	}
	if err := slot.err; err != nil {
		p.mu.Unlock()
		return n, fmt.Errorf("gpu: cine frame %d: %w", n, err)
	}
	slot.busy = true // not reused while drawn
	p.last = n
	p.shown++
	p.mu.Unlock()
	err := slot.r.Render(d, dst)
	p.mu.Lock()
	slot.busy = false
	p.cond.Broadcast()
	p.mu.Unlock()
	return n, err
}

// Stats returns the frames shown and the frames skipped because the clock
// passed them before they were shown (looping playback).
func (p *Cine) Stats() (shown, dropped int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.shown, p.dropped
}

// Close stops the workers and deletes the ring's textures.
func (p *Cine) Close() error {
	p.mu.Lock()
	p.closed = true
	p.cond.Broadcast()
	p.mu.Unlock()
	p.wg.Wait()
	var first error
	for _, s := range p.slots {
		if err := s.r.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
