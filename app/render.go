package app

import (
	"fmt"
	"image"
	"image/draw"
	gosync "sync"
	"time"

	"teleread/viewer"
)

// renderRequest is one picture a viewport wants: which frame, with which display
// settings, at which size. Only the newest pending request is rendered.
type renderRequest struct {
	seq     uint64
	study   string
	item    stackItem
	index   int                // position in the stack
	window  *viewer.Window     // the reader's window; nil keeps the file's
	invert  bool               // toggle on top of the file's presentation
	view    viewer.View        // zoom, pan, rotation, flip
	w, h    int                // target size in device pixels
	scroll  bool               // part of a stack scroll (counted for the scroll rate)
	cineSeq int64              // slot of a cine frame in the unfolded timeline; -1 when not cine
	done    func(renderResult) // called on the render goroutine when drawn
	// ahead are the images likely asked for next (the following slices of a
	// scroll, the following frames of a cine loop), decoded after drawing while
	// no newer request waits.
	ahead []stackItem
}

// renderResult tells the viewport what was drawn, for overlays and measurements.
type renderResult struct {
	req     renderRequest
	frame   *viewer.Frame
	display viewer.Display // the display used (file defaults with the reader's changes)
	cal     viewer.Calibration
	image   *viewer.Image
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
// goroutine does all decoding and drawing; the UI goroutine only posts requests
// and shows finished buffers through the Raster generator.
type renderLoop struct {
	newRenderer NewRendererFunc
	metrics     *Metrics
	painted     func() // asks the UI to repaint (Raster.Refresh via fyne.Do)

	mu      gosync.Mutex
	pending *renderRequest
	wake    chan struct{}
	stop    chan struct{}

	// Triple buffering: the render goroutine draws into a buffer that is neither
	// the newest finished one (front) nor the one last handed to the painter.
	bufs       [3]*image.RGBA
	front      int
	handed     int
	frontReq   renderRequest
	frontFresh bool // front not yet handed to the painter
	lastCine   int64

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

func newRenderLoop(nr NewRendererFunc, m *Metrics, painted func()) *renderLoop {
	l := &renderLoop{newRenderer: nr, metrics: m, painted: painted, wake: make(chan struct{}, 1), stop: make(chan struct{}),
		front: -1, handed: -1, lastCine: -1, images: map[string]*viewer.Image{}, frames: map[frameKey]*decoded{}}
	go l.run()
	return l
}

// post replaces any pending request with r; a burst of drag events therefore
// renders only the newest.
func (l *renderLoop) post(r renderRequest) {
	l.mu.Lock()
	l.pending = &r
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *renderLoop) close() {
	close(l.stop)
}

// generate is the Raster generator: it hands the newest finished buffer to the
// painter and never renders.
func (l *renderLoop) generate(w, h int) image.Image {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.front < 0 {
		return blankImage(max(w, 1), max(h, 1))
	}
	if l.frontFresh {
		l.frontFresh = false
		now := time.Now()
		if l.metrics != nil {
			l.metrics.painted(l.frontReq.study, now)
			if l.frontReq.scroll {
				l.metrics.scrollPainted(now)
			}
			if c := l.frontReq.cineSeq; c >= 0 {
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
	}
	l.handed = l.front
	return l.bufs[l.front]
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
		case <-l.wake:
		}
		l.mu.Lock()
		r := l.pending
		l.pending = nil
		l.mu.Unlock()
		if r == nil {
			continue
		}
		res := l.draw(*r)
		if r.done != nil {
			r.done(res)
		}
		l.decodeAhead(r.ahead)
	}
}

// decodeAhead decodes the images a request expects next into the keep, one at a
// time, stopping as soon as a newer request arrives. Errors are left for the
// request that shows the image.
func (l *renderLoop) decodeAhead(items []stackItem) {
	for _, it := range items {
		l.mu.Lock()
		waiting := l.pending != nil
		l.mu.Unlock()
		if waiting {
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
		if i == l.front || i == l.handed {
			continue
		}
		if b := l.bufs[i]; b == nil || b.Rect.Dx() != w || b.Rect.Dy() != h {
			l.bufs[i] = image.NewRGBA(image.Rect(0, 0, w, h))
		}
		return i
	}
	panic("unreachable: three buffers, two in use at most")
}

func (l *renderLoop) draw(r renderRequest) renderResult {
	start := time.Now()
	res := renderResult{req: r}
	if r.w <= 0 || r.h <= 0 {
		res.err = fmt.Errorf("app: render: empty viewport")
		return res
	}
	img, dec, err := l.decode(r.item)
	if err != nil {
		res.err = err
		return res
	}
	if l.renderer == nil {
		if l.renderer, err = l.newRenderer(); err != nil {
			res.err = fmt.Errorf("app: renderer: %w", err)
			return res
		}
	}
	key := frameKey{r.item.Path, r.item.Frame}
	if l.uploaded != key {
		if err := l.renderer.Upload(dec.frame); err != nil {
			res.err = err
			return res
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
	i := l.target(r.w, r.h)
	dst := l.bufs[i]
	if err := l.renderer.Render(&d, dst); err != nil {
		// Show black rather than a stale picture of another image.
		draw.Draw(dst, dst.Rect, image.NewUniform(colViewport), image.Point{}, draw.Src)
		res.err = err
	}
	l.mu.Lock()
	l.front, l.frontReq, l.frontFresh = i, r, true
	l.mu.Unlock()
	if l.painted != nil {
		l.painted()
	}
	res.frame, res.display, res.image = dec.frame, d, img
	res.cal = viewer.CalibrationOf(img.File.DataSet, r.item.Frame)
	res.presets = viewer.Presets(img)
	res.padding = img.File.DataSet.Floats(tagPixelPaddingValue)
	res.took = time.Since(start)
	return res
}

// decode returns the image and its decoded frame, from the keep or decoded now.
func (l *renderLoop) decode(it stackItem) (*viewer.Image, *decoded, error) {
	img := l.images[it.Path]
	if img == nil {
		var err error
		if img, err = viewer.Open(it.Path); err != nil {
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
