package app

import (
	"fmt"
	"image"
	"image/draw"
	gosync "sync"
	"time"

	"teleread/app/internal/mailbox"
	"teleread/app/internal/reading"
	"teleread/viewer"
)

// renderRequest is one picture a viewport wants: which frame, with which display
// settings, at which size. Only the newest pending request is rendered.
type renderRequest struct {
	seq     uint64
	study   string
	item    reading.Item
	index   int                // position in the stack
	window  *viewer.Window     // the reader's window; nil keeps the file's
	invert  bool               // toggle on top of the file's presentation
	view    viewer.View        // zoom, pan, rotation, flip
	w, h    int                // target size in device pixels
	scroll  bool               // part of a stack scroll (counted for the scroll rate)
	cineSeq int64              // slot of a cine frame in the unfolded timeline; -1 when not cine
	done    func(renderResult) // called on the render goroutine when drawn
	// ahead are the images likely asked for next (the following slices of a
	// scroll, the following frames of a cine loop): after drawing, while no newer
	// request waits, the first is drawn ahead with the same settings and the
	// others are decoded.
	ahead []reading.Item
	// aheadOnly asks the loop only to draw and decode ahead for a request whose
	// picture post has already handed over.
	aheadOnly bool
}

// renderResult tells the viewport what was drawn, for overlays and measurements.
type renderResult struct {
	req     renderRequest
	frame   *viewer.Frame
	display viewer.Display // the display used (file defaults with the reader's changes)
	cal     viewer.Calibration
	image   *viewer.Image
	pic     *picture // the pixels with whose they are; nil when nothing was drawn
	presets []viewer.Preset
	padding []float64
	err     error
	took    time.Duration
}

// decoded is a frame kept decoded for scrolling back and forth.
type decoded struct {
	frame   *viewer.Frame
	display *viewer.Display
}

type frameKey struct {
	path  string
	frame int
}

// renderLoop owns one viewport's renderer, decoded frames and image buffers. Its
// goroutine does all decoding and drawing; the UI goroutine only posts requests,
// accepts finished pictures and paints the one it accepted.
type renderLoop struct {
	newRenderer NewRendererFunc
	metrics     *Metrics

	inbox *mailbox.Latest[renderRequest] // the newest request not yet drawn
	mu    gosync.Mutex
	stop  chan struct{}

	// The render goroutine draws into a buffer that is neither the newest
	// finished one (front, which the UI may still accept), nor the one the UI
	// accepted and paints (shown), nor the one holding the picture drawn ahead
	// (pre). holds says which request's picture each buffer holds (0: none, or
	// being drawn over), so that the UI accepts a picture only while its buffer
	// still holds it.
	bufs     [4]*image.RGBA
	holds    [4]uint64
	front    int
	shown    int
	frontReq renderRequest

	lastCine int64 // the UI goroutine's: the last cine slot painted

	pre *preDrawn // the picture drawn ahead, if any (set by the render goroutine)

	// Only the render goroutine touches these.
	renderer viewer.Renderer
	uploaded frameKey
	images   map[string]*viewer.Image
	imgOrder []string
	frames   map[frameKey]*decoded
	order    []frameKey
}

const (
	keepImages = 48  // open files kept per viewport
	keepFrames = 128 // decoded frames kept per viewport
)

func newRenderLoop(nr NewRendererFunc, m *Metrics) *renderLoop {
	l := &renderLoop{newRenderer: nr, metrics: m, inbox: mailbox.New[renderRequest](), stop: make(chan struct{}),
		front: -1, shown: -1, lastCine: -1, images: map[string]*viewer.Image{}, frames: map[frameKey]*decoded{}}
	go l.run()
	return l
}

// post replaces any pending request with r; a burst of drag events therefore
// renders only the newest. When r, a scroll step or cine frame, asks for the
// picture already drawn ahead, that picture becomes the one to paint at once and
// post returns its result with ok true (the loop goes on to draw the following
// one ahead); otherwise the loop draws r and calls r.done.
func (l *renderLoop) post(r renderRequest) (res renderResult, ok bool) {
	next := r
	l.mu.Lock()
	if p := l.pre; p != nil && (r.scroll || r.cineSeq >= 0) && p.req.samePicture(r) {
		l.pre = nil
		l.front, l.frontReq, l.holds[p.buf] = p.buf, r, r.seq
		next.aheadOnly = true
		res, ok = p.res, true
		res.req, res.took = r, 0
		res.pic = &picture{pix: p.res.pic.pix, who: p.res.pic.who, buf: p.buf}
	}
	l.mu.Unlock()
	l.inbox.Put(next)
	return res, ok
}

func (l *renderLoop) close() {
	close(l.stop)
}

// accept makes res's picture the one the UI paints, and reports false when its
// buffer no longer holds it (drawn over for a newer request, whose result is
// on its way to the UI).
func (l *renderLoop) accept(res renderResult) bool {
	if res.pic == nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.holds[res.pic.buf] != res.req.seq {
		return false
	}
	l.shown = res.pic.buf
	return true
}

// painted records, on the UI goroutine, that the picture for r reached the
// screen for the first time: the open-to-first-image, scroll and cine metrics.
func (l *renderLoop) painted(r renderRequest) {
	if l.metrics == nil {
		return
	}
	now := time.Now()
	l.metrics.painted(r.study, now)
	if r.scroll {
		l.metrics.scrollPainted(now)
	}
	if c := r.cineSeq; c >= 0 {
		dropped := 0
		if l.lastCine >= 0 && c > l.lastCine+1 {
			dropped = int(c - l.lastCine - 1)
		}
		if c > l.lastCine {
			l.metrics.cineFrame(dropped)
			l.lastCine = c
		}
	} else {
		l.lastCine = -1
	}
}

func (l *renderLoop) run() {
	defer func() {
		if l.renderer != nil {
			l.renderer.Close()
		}
		for _, im := range l.images {
			im.Close()
		}
	}()
	for {
		select {
		case <-l.stop:
			return
		case <-l.inbox.Ready():
		}
		req, ok := l.inbox.Take()
		if !ok {
			continue
		}
		r := &req
		if !r.aheadOnly {
			var res renderResult
			if err := guard("render", func() { res = l.draw(*r) }); err != nil {
				res = renderResult{req: *r, err: err}
			}
			if r.done != nil {
				r.done(res)
			}
		}
		// Drawing ahead only prepares; a panic there shows when the image itself is drawn.
		guard("render ahead", func() {
			l.drawAhead(*r)
			if len(r.ahead) > 1 {
				l.decodeAhead(r.ahead[1:])
			}
		})
	}
}

// decodeAhead decodes the images a request expects next into the keep, one at a
// time, stopping as soon as a newer request arrives. Errors are left for the
// request that shows the image.
func (l *renderLoop) decodeAhead(items []reading.Item) {
	for _, it := range items {
		if l.waiting() {
			return
		}
		l.decode(it) // an error shows when the image itself is drawn
	}
}

// target returns a free buffer of size w x h.
func (l *renderLoop) target(w, h int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.bufs {
		if i == l.front || i == l.shown || (l.pre != nil && i == l.pre.buf) {
			continue
		}
		if b := l.bufs[i]; b == nil || b.Rect.Dx() != w || b.Rect.Dy() != h {
			l.bufs[i] = image.NewRGBA(image.Rect(0, 0, w, h))
		}
		l.holds[i] = 0
		return i
	}
	panic("unreachable: four buffers, three in use at most")
}

func (l *renderLoop) draw(r renderRequest) renderResult {
	start := time.Now()
	l.mu.Lock()
	p := l.pre
	l.pre = nil
	l.mu.Unlock()
	if p != nil {
		if p.req.samePicture(r) {
			l.publish(p.buf, r)
			res := p.res
			res.req, res.took = r, time.Since(start)
			res.pic = &picture{pix: p.res.pic.pix, who: p.res.pic.who, buf: p.buf}
			return res
		}
	}
	i := -1
	if r.w > 0 && r.h > 0 {
		i = l.target(r.w, r.h)
	}
	res, ok := l.drawInto(r, i)
	if ok {
		l.publish(i, r)
	}
	res.took = time.Since(start)
	return res
}

// publish makes buffer i the newest finished picture, drawn for r, unless post
// has meanwhile handed over a picture for a newer request.
func (l *renderLoop) publish(i int, r renderRequest) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.front >= 0 && r.seq < l.frontReq.seq {
		return
	}
	l.front, l.frontReq, l.holds[i] = i, r, r.seq
}

// drawInto draws r into buffer i and reports whether the buffer holds a picture
// to show (a picture the renderer failed to draw is shown black).
func (l *renderLoop) drawInto(r renderRequest, i int) (renderResult, bool) {
	res := renderResult{req: r}
	if i < 0 {
		res.err = fmt.Errorf("app: render: empty viewport")
		return res, false
	}
	img, dec, err := l.decode(r.item)
	if err != nil {
		res.err = err
		return res, false
	}
	if l.renderer == nil {
		if l.renderer, err = l.newRenderer(); err != nil {
			res.err = fmt.Errorf("app: renderer: %w", err)
			return res, false
		}
	}
	key := frameKey{r.item.Path, r.item.Frame}
	if l.uploaded != key {
		if err := l.renderer.Upload(dec.frame); err != nil {
			res.err = err
			return res, false
		}
		l.uploaded = key
	}
	d := *dec.display
	if r.window != nil && dec.frame.Color == viewer.Monochrome {
		d.Window, d.VOILUT = *r.window, nil
	}
	if r.invert && dec.frame.Color == viewer.Monochrome {
		d.Invert = !d.Invert
	}
	d.View = r.view
	dst := l.bufs[i]
	if err := l.renderer.Render(&d, dst); err != nil {
		// Show black rather than a stale picture of another image.
		draw.Draw(dst, dst.Rect, image.NewUniform(colViewport), image.Point{}, draw.Src)
		res.err = err
	}
	res.frame, res.display, res.image = dec.frame, d, img
	res.pic = &picture{pix: dst, who: reading.IdentityOf(img.File), buf: i}
	res.cal = viewer.CalibrationOf(img.File.DataSet, r.item.Frame)
	res.presets = viewer.Presets(img)
	res.padding = img.File.DataSet.Floats(tagPixelPaddingValue)
	return res, true
}

// drawAhead draws the first of r.ahead with r's settings into a spare buffer
// while no newer request waits, so that the next step of a scroll or cine loop
// only has to hand that buffer over.
func (l *renderLoop) drawAhead(r renderRequest) {
	if len(r.ahead) == 0 || r.w <= 0 || r.h <= 0 || l.waiting() {
		return
	}
	next := r
	next.item, next.ahead = r.ahead[0], nil
	i := l.target(r.w, r.h)
	res, ok := l.drawInto(next, i)
	if ok && res.err == nil {
		l.mu.Lock()
		l.pre = &preDrawn{buf: i, req: next, res: res}
		l.mu.Unlock()
	}
}

func (l *renderLoop) waiting() bool { return l.inbox.Pending() }

// preDrawn is a picture drawn ahead of its request.
type preDrawn struct {
	buf int
	req renderRequest
	res renderResult
}

// samePicture reports whether r and o ask for the same pixels.
func (r renderRequest) samePicture(o renderRequest) bool {
	if r.item != o.item || r.invert != o.invert || r.view != o.view || r.w != o.w || r.h != o.h {
		return false
	}
	if (r.window == nil) != (o.window == nil) {
		return false
	}
	return r.window == nil || *r.window == *o.window
}

// decode returns the image and its decoded frame, from the keep or decoded now.
func (l *renderLoop) decode(it reading.Item) (*viewer.Image, *decoded, error) {
	img := l.images[it.Path]
	if img == nil {
		var err error
		if img, err = it.OpenImage(); err != nil {
			return nil, nil, err
		}
		l.images[it.Path] = img
		l.imgOrder = append(l.imgOrder, it.Path)
		if len(l.imgOrder) > keepImages {
			old := l.imgOrder[0]
			l.imgOrder = l.imgOrder[1:]
			if im := l.images[old]; im != nil {
				im.Close()
			}
			delete(l.images, old)
			for k := range l.frames {
				if k.path == old {
					delete(l.frames, k)
				}
			}
		}
	}
	key := frameKey{it.Path, it.Frame}
	if d := l.frames[key]; d != nil {
		return img, d, nil
	}
	f, err := img.Frame(it.Frame)
	if err != nil {
		return nil, nil, err
	}
	disp, err := viewer.DefaultDisplay(img, f)
	if err != nil {
		return nil, nil, err
	}
	d := &decoded{frame: f, display: disp}
	l.frames[key] = d
	l.order = append(l.order, key)
	for len(l.order) > keepFrames {
		delete(l.frames, l.order[0])
		l.order = l.order[1:]
	}
	return img, d, nil
}

// blankImage is a black picture of w x h.
func blankImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Rect, image.NewUniform(colViewport), image.Point{}, draw.Src)
	return img
}
