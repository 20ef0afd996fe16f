package app

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"teleread/app/internal/reading"
	"teleread/cache"
	"teleread/viewer"
)

// tool is what a left-button drag does in a viewport.
type tool int

const (
	toolWindow tool = iota // window/level: horizontal drag = width, vertical = level
	toolPan
	toolZoom
	toolScroll
	toolLength
	toolAngle
	toolEllipse
)

var toolNames = []string{"Window/level", "Pan", "Zoom", "Scroll", "Length", "Angle", "Ellipse ROI"}

// viewport shows one stack: the image drawn by its render loop, corner overlays,
// measurements. All its fields belong to the UI goroutine.
type viewport struct {
	widget.BaseWidget

	host    viewportHost
	metrics *Metrics
	loop    *renderLoop
	raster  *canvas.Raster

	study  string
	st     *reading.Stack
	index  int
	window *viewer.Window // the reader's window; nil shows the file's
	invert bool
	view   viewer.View
	active bool

	seq      uint64
	last     renderResult // what is on screen: its picture is painted, its identity in the overlay
	hasLast  bool
	fresh    bool // last not yet painted
	blank    blankPicture
	pxScale  float32 // device pixels per Fyne unit
	lastSize fyne.Size

	measures map[int][]*measurement // by stack index
	drawing  *measurement

	button   desktop.MouseButton
	modifier fyne.KeyModifier
	lastPos  fyne.Position

	cine      *cinePlayer
	cineSpeed float64
	cineMode  viewer.PlaybackMode
	cineRate  float64 // frames per second of the file's timing at the chosen speed

	scrollAccum float32
	direction   int // +1 or -1: the way the stack was last stepped

	changed    func() // tells the screen the viewport's state changed (toolbar, status)
	dropTarget bool   // a series dragged from the thumbnails is over it
}

// viewportHost is what a viewport needs of the screen around it.
type viewportHost interface {
	// activeTool is what a left-button drag does.
	activeTool() tool
	// typedKey and typedRune are the shortcuts, handled for the whole window.
	typedKey(*fyne.KeyEvent)
	typedRune(rune)
	// setActive makes a viewport the one the toolbar and keys act on.
	setActive(*viewport)
	// moved says the viewport's image changed (a linked viewport follows).
	moved(*viewport)
	// openStudy is the study open for reading: its UID and Patient ID.
	openStudy() (studyUID, patientID string)
	// completenessOf is what the cache holds of a study shown; known is
	// false until the cache answered.
	completenessOf(studyUID string) (c cache.Completeness, known bool)
	// wantSlice asks for the instance of the slice the cache lacks that the
	// viewport is on; sliceError says why one could not be fetched.
	wantSlice(*viewport)
	sliceError(sop string) error
}

func newViewport(host viewportHost, newRenderer NewRendererFunc, metrics *Metrics) *viewport {
	v := &viewport{host: host, metrics: metrics, measures: map[int][]*measurement{}, pxScale: 1, cineSpeed: 1}
	v.raster = canvas.NewRaster(v.paint)
	v.raster.ScaleMode = canvas.ImageScaleFastest
	v.loop = newRenderLoop(newRenderer, metrics)
	v.ExtendBaseWidget(v)
	return v
}

// setStack shows a series from its first image.
func (v *viewport) setStack(study string, st *reading.Stack) { v.setStackAt(study, st, 0) }

// setStackAt shows a series from item index (clamped).
func (v *viewport) setStackAt(study string, st *reading.Stack, index int) {
	v.stopCine()
	v.study, v.st, v.index = study, st, min(max(index, 0), max(len(st.Items)-1, 0))
	v.window, v.invert, v.view = nil, false, viewer.View{}
	v.measures, v.drawing = map[int][]*measurement{}, nil
	v.hasLast = false
	v.raster.Refresh()
	v.request(false)
	v.Refresh()
}

// clear leaves the viewport empty: black, with only its hint.
func (v *viewport) clear() {
	v.stopCine()
	v.study, v.st, v.index = "", nil, 0
	v.hasLast = false
	v.measures, v.drawing = map[int][]*measurement{}, nil
	v.raster.Refresh()
	v.Refresh()
}

// onScreen returns the picture the viewport paints: the last one it accepted,
// while it holds a series and the picture is of that series. Both the raster
// and the overlay take what they show from here, so no image is painted
// without its identity beside it, and an empty viewport paints nothing.
func (v *viewport) onScreen() (*picture, bool) {
	if v.st == nil || !v.hasLast || v.last.pic == nil || v.onMissing() {
		return nil, false
	}
	p := v.last.pic
	if p.who.SeriesUID != v.st.Series.SeriesInstanceUID || p.who.StudyUID != v.study {
		return nil, false
	}
	return p, true
}

// otherPatient returns the identity of the picture on screen when it is of
// another patient (Patient ID) than the open study's.
func (v *viewport) otherPatient() (reading.Identity, bool) {
	p, ok := v.onScreen()
	if _, patient := v.host.openStudy(); !ok || p.who.PatientID == patient {
		return reading.Identity{}, false
	}
	return p.who, true
}

// paint is the raster's generator: the picture on screen, else black.
func (v *viewport) paint(w, h int) image.Image {
	p, ok := v.onScreen()
	if !ok {
		return v.blank.of(w, h)
	}
	if v.fresh {
		v.fresh = false
		v.loop.painted(v.last.req)
	}
	return p.pix
}

// showIndex moves to item i as a linked partner asks, without telling the
// partner back.
func (v *viewport) showIndex(i int) {
	if v.st == nil || len(v.st.Items) == 0 {
		return
	}
	i = min(max(i, 0), len(v.st.Items)-1)
	if i == v.index {
		return
	}
	v.direction = 1
	if i < v.index {
		v.direction = -1
	}
	v.index = i
	v.drawing = nil
	v.request(true)
}

// moved tells the screen that the image changed, so that a linked viewport follows.
func (v *viewport) moved() { v.host.moved(v) }

func (v *viewport) close() {
	v.stopCine()
	v.loop.close()
}

// targetSize is the viewport's size in device pixels.
func (v *viewport) targetSize() (int, int) {
	scale := float32(1)
	if c := fyne.CurrentApp().Driver().CanvasForObject(v); c != nil {
		scale = c.Scale()
	}
	v.pxScale = scale
	s := v.Size()
	return int(math.Round(float64(s.Width * scale))), int(math.Round(float64(s.Height * scale)))
}

// request posts the picture the viewport's state asks for.
func (v *viewport) request(scroll bool) { v.requestCine(scroll, -1) }

func (v *viewport) requestCine(scroll bool, cineSlot int64) {
	if v.st == nil || len(v.st.Items) == 0 {
		return
	}
	if v.onMissing() {
		// Nothing to draw until its instance arrives: the viewport shows
		// black and says so (missingMessage), never the previous slice.
		v.host.wantSlice(v)
		v.raster.Refresh()
		v.Refresh()
		return
	}
	w, h := v.targetSize()
	if w <= 0 || h <= 0 {
		return
	}
	v.seq++
	r := renderRequest{seq: v.seq, study: v.study, item: v.st.Items[v.index], index: v.index, invert: v.invert,
		view: v.view, w: w, h: h, scroll: scroll, cineSeq: cineSlot}
	if v.window != nil {
		win := *v.window
		r.window = &win
	}
	r.ahead = v.ahead(scroll, cineSlot >= 0)
	r.done = func(res renderResult) { ui(func() { v.shown(res) }) }
	if res, ok := v.loop.post(r); ok {
		v.shown(res) // drawn ahead: painted with the next frame, no round trip
	}
}

// decodeAhead is how many images past the current one are decoded in advance
// while scrolling or playing.
const decodeAhead = 3

// ahead returns the images to decode in advance: the next ones in the direction
// of a stack scroll, or the next frames of the instance (wrapping) during cine.
func (v *viewport) ahead(scroll, cine bool) []reading.Item {
	var items []reading.Item
	switch {
	case cine:
		first, last := v.st.InstanceRange(v.index)
		for k, i := 1, v.index; k <= decodeAhead && last > first; k++ {
			if i++; i > last {
				i = first
			}
			items = append(items, v.st.Items[i])
		}
	case scroll:
		// Slices not in the cache are fetched when the reader is on them,
		// not decoded ahead.
		dir := v.direction
		if dir == 0 {
			dir = 1
		}
		for k := 1; k <= decodeAhead; k++ {
			if i := v.index + k*dir; i >= 0 && i < len(v.st.Items) && !v.st.Items[i].Missing {
				items = append(items, v.st.Items[i])
			}
		}
	}
	return items
}

// shown takes a finished picture: repaint, overlays, measurement values.
func (v *viewport) shown(res renderResult) {
	if v.hasLast && res.req.seq < v.last.req.seq {
		return // a newer picture drawn ahead is already on screen
	}
	if res.err != nil && res.frame == nil {
		v.last, v.hasLast = res, false
		v.raster.Refresh()
		v.Refresh()
		return
	}
	if !v.loop.accept(res) {
		return // its buffer was drawn over for a newer picture, which follows
	}
	v.raster.Refresh()
	// The toolbar follows the presets and whether the image has frames to play;
	// scrolling through a series changes neither, so it is left alone then.
	toolbar := !v.hasLast || !slices.Equal(presetsFor(v.last), presetsFor(res)) ||
		(v.last.req.item.Frames > 1) != (res.req.item.Frames > 1)
	v.last, v.hasLast, v.fresh = res, true, true
	for _, m := range v.measures[res.req.index] {
		m.compute(v)
	}
	v.Refresh()
	if toolbar {
		v.notify()
	}
}

// step moves through the stack by n images, clamped to its ends.
func (v *viewport) step(n int) {
	if v.st == nil || len(v.st.Items) == 0 {
		return
	}
	i := min(max(v.index+n, 0), len(v.st.Items)-1)
	if i == v.index {
		return
	}
	v.direction = 1
	if i < v.index {
		v.direction = -1
	}
	v.index = i
	v.drawing = nil
	v.request(true)
	v.moved()
}

func (v *viewport) goTo(i int) {
	if v.st == nil || len(v.st.Items) == 0 {
		return
	}
	v.index = min(max(i, 0), len(v.st.Items)-1)
	v.request(true)
	v.moved()
}

// currentWindow is the window on screen: the reader's, else the file's.
func (v *viewport) currentWindow() viewer.Window {
	if v.window != nil {
		return *v.window
	}
	if v.hasLast {
		return v.last.display.Window
	}
	return viewer.Window{Center: 128, Width: 256}
}

// adjustWindow changes the window by a drag of (dx, dy) Fyne units: right widens,
// left narrows, down raises the level (darker), up lowers it, as in Weasis, OHIF
// and RadiAnt. The step grows with the width, so both a narrow brain window and a
// wide bone window are quick to reach.
func (v *viewport) adjustWindow(dx, dy float32) {
	w := v.currentWindow()
	if w.Function == viewer.LinearExact && w.Width == 0 {
		w.Width = 1
	}
	step := math.Max(w.Width/256, 0.05)
	if v.hasLast && v.last.frame != nil && v.last.frame.Color != viewer.Monochrome {
		return // colour images have no window
	}
	w.Width = math.Max(1, w.Width+float64(dx)*step)
	w.Center += float64(dy) * step
	if w.Function != viewer.Sigmoid {
		w.Function = viewer.Linear
	}
	v.window = &w
	v.request(false)
}

func (v *viewport) setWindow(w viewer.Window) {
	v.window = &w
	v.request(false)
}

// scale returns the current target pixels per image pixel.
func (v *viewport) scale() float64 {
	if !v.hasLast || v.last.frame == nil {
		return 1
	}
	w, h := v.targetSize()
	return v.view.Scale(v.last.frame.Cols, v.last.frame.Rows, w, h)
}

func (v *viewport) zoomBy(f float64) {
	z := v.scale() * f
	v.view.Zoom = math.Min(math.Max(z, 0.02), 64)
	v.request(false)
}

func (v *viewport) pan(dx, dy float32) {
	v.view.PanX += float64(dx * v.pxScale)
	v.view.PanY += float64(dy * v.pxScale)
	v.request(false)
}

func (v *viewport) fit() {
	v.view.Zoom, v.view.PanX, v.view.PanY = 0, 0, 0
	v.request(false)
}

func (v *viewport) actualSize() {
	v.view.Zoom = 1
	v.request(false)
}

func (v *viewport) rotate(quarters int) {
	v.view.Rotation = ((v.view.Rotation+quarters)%4 + 4) % 4
	v.request(false)
}

func (v *viewport) flip(horizontal bool) {
	if horizontal {
		v.view.FlipH = !v.view.FlipH
	} else {
		v.view.FlipV = !v.view.FlipV
	}
	v.request(false)
}

func (v *viewport) toggleInvert() {
	v.invert = !v.invert
	v.request(false)
}

// reset returns to the file's window and the fitted, unrotated view.
func (v *viewport) reset() {
	v.window, v.invert, v.view, v.drawing = nil, false, viewer.View{}, nil
	v.request(false)
}

// --- cine -------------------------------------------------------------------

// multiFrame reports whether the image on screen has several frames to play.
func (v *viewport) multiFrame() bool {
	return v.st != nil && len(v.st.Items) > 0 && v.st.Items[v.index].Frames > 1
}

func (v *viewport) playing() bool { return v.cine != nil }

// toggleCine starts or pauses playback of the multi-frame image on screen at the
// file's own timing (times the chosen speed).
func (v *viewport) toggleCine() {
	if v.cine != nil {
		v.stopCine()
		v.notify()
		return
	}
	if !v.multiFrame() || !v.hasLast || v.last.image == nil {
		return
	}
	timing := viewer.CineTimingOf(v.last.image.File.DataSet).WithMode(v.cineMode)
	if t, err := timing.WithSpeed(v.cineSpeed); err == nil {
		timing = t
	}
	v.cineRate = timing.FrameRate()
	base, _ := v.st.InstanceRange(v.index)
	clock := newCineClock(timing)
	v.metrics.ResetCine()
	v.cine = startCine(clock, func(frame int, slot int64) {
		ui(func() {
			if v.cine == nil || v.st == nil || base+frame >= len(v.st.Items) {
				return
			}
			v.index = base + frame
			v.requestCine(false, slot)
		})
	})
	v.notify()
}

func (v *viewport) stopCine() {
	if v.cine != nil {
		c := v.cine
		v.cine = nil
		c.halt()
	}
}

// setCineSpeed changes the speed factor (1 = the file's rate), restarting
// playback if it runs.
func (v *viewport) setCineSpeed(f float64) {
	v.cineSpeed = math.Min(math.Max(f, 1.0/16), 16)
	v.restartCine()
}

func (v *viewport) setCineMode(m viewer.PlaybackMode) {
	v.cineMode = m
	v.restartCine()
}

func (v *viewport) restartCine() {
	if v.cine != nil {
		v.stopCine()
		v.toggleCine()
	}
	v.notify()
}

// stepFrame pauses playback and moves one frame within the instance, wrapping.
func (v *viewport) stepFrame(n int) {
	v.stopCine()
	if v.st == nil || len(v.st.Items) == 0 {
		return
	}
	first, last := v.st.InstanceRange(v.index)
	if !v.multiFrame() {
		v.step(n)
		return
	}
	i := v.index + n
	if i > last {
		i = first
	} else if i < first {
		i = last
	}
	v.index = i
	v.request(true)
	v.notify()
}

func (v *viewport) notify() {
	if v.changed != nil {
		v.changed()
	}
}

// --- input ------------------------------------------------------------------

// imagePoint returns the image position under a point of the widget.
func (v *viewport) imagePoint(p fyne.Position) (viewer.ImagePoint, bool) {
	if !v.hasLast || v.last.frame == nil || v.onMissing() {
		return viewer.ImagePoint{}, false // no measuring on an image not shown
	}
	w, h := v.targetSize()
	x, y := v.view.ImagePoint(float64(p.X*v.pxScale), float64(p.Y*v.pxScale), v.last.frame.Cols, v.last.frame.Rows, w, h)
	return viewer.ImagePoint{X: x, Y: y}, true
}

// widgetPoint returns where an image position is shown in the widget.
func (v *viewport) widgetPoint(p viewer.ImagePoint) fyne.Position {
	if !v.hasLast || v.last.frame == nil {
		return fyne.Position{}
	}
	w, h := v.targetSize()
	c, r := v.last.frame.Cols, v.last.frame.Rows
	x0, y0 := v.view.ImagePoint(0, 0, c, r, w, h)
	x1, y1 := v.view.ImagePoint(1, 0, c, r, w, h)
	x2, y2 := v.view.ImagePoint(0, 1, c, r, w, h)
	a, b, cc, d := x1-x0, x2-x0, y1-y0, y2-y0 // image = p0 + [a b; c d] t
	det := a*d - b*cc
	if det == 0 {
		return fyne.Position{}
	}
	px, py := p.X-x0, p.Y-y0
	tx := (d*px - b*py) / det
	ty := (-cc*px + a*py) / det
	return fyne.NewPos(float32(tx)/v.pxScale, float32(ty)/v.pxScale)
}

// MouseDown remembers the button (right and middle drags zoom and pan) and makes
// the viewport the active one.
func (v *viewport) MouseDown(ev *desktop.MouseEvent) {
	v.button, v.modifier, v.lastPos = ev.Button, ev.Modifier, ev.Position
	v.activate()
}

// MouseUp ends a right- or middle-button drag.
func (v *viewport) MouseUp(*desktop.MouseEvent) { v.button = 0 }

// MouseIn is part of desktop.Hoverable.
func (v *viewport) MouseIn(ev *desktop.MouseEvent) { v.lastPos = ev.Position }

// MouseOut is part of desktop.Hoverable.
func (v *viewport) MouseOut() {}

// MouseMoved zooms while the right button is held (Fyne sends no drag events for
// the secondary button): up zooms in, down zooms out.
func (v *viewport) MouseMoved(ev *desktop.MouseEvent) {
	d := ev.Position.Subtract(v.lastPos)
	v.lastPos = ev.Position
	if ev.Button&desktop.MouseButtonSecondary != 0 && v.button&desktop.MouseButtonSecondary != 0 {
		v.zoomBy(math.Exp(float64(-d.Y) / 200))
	}
}

// Dragged applies the drag: middle button or Shift pans, Ctrl scrolls the stack,
// otherwise the active tool (window/level by default).
func (v *viewport) Dragged(ev *fyne.DragEvent) {
	dx, dy := ev.Dragged.DX, ev.Dragged.DY
	switch {
	case v.button == desktop.MouseButtonTertiary || v.modifier&fyne.KeyModifierShift != 0:
		v.pan(dx, dy)
		return
	case v.modifier&fyne.KeyModifierControl != 0:
		v.scrollDrag(dy)
		return
	}
	switch v.host.activeTool() {
	case toolWindow:
		v.adjustWindow(dx, dy)
	case toolPan:
		v.pan(dx, dy)
	case toolZoom:
		v.zoomBy(math.Exp(float64(-dy) / 200))
	case toolScroll:
		v.scrollDrag(dy)
	case toolLength, toolAngle, toolEllipse:
		v.measureDrag(ev.Position, ev.Dragged)
	}
}

// scrollDrag moves one image per 6 units of vertical drag.
func (v *viewport) scrollDrag(dy float32) {
	v.scrollAccum += dy
	for v.scrollAccum >= 6 {
		v.scrollAccum -= 6
		v.step(1)
	}
	for v.scrollAccum <= -6 {
		v.scrollAccum += 6
		v.step(-1)
	}
}

// DragEnd finishes a measurement being drawn.
func (v *viewport) DragEnd() {
	v.button, v.modifier = 0, 0
	if v.drawing != nil && v.drawing.kind != toolAngle {
		v.finishMeasure()
	}
}

// Scrolled steps through the stack: wheel down shows the next image, up the
// previous one (one image per notch).
func (v *viewport) Scrolled(ev *fyne.ScrollEvent) {
	switch {
	case ev.Scrolled.DY < 0:
		v.step(1)
	case ev.Scrolled.DY > 0:
		v.step(-1)
	}
}

// Tapped activates the viewport and places the third point of an angle.
func (v *viewport) Tapped(ev *fyne.PointEvent) {
	v.activate()
	if v.host.activeTool() == toolAngle && v.drawing != nil && len(v.drawing.pts) == 2 {
		if p, ok := v.imagePoint(ev.Position); ok {
			v.drawing.pts = append(v.drawing.pts, p)
			v.finishMeasure()
		}
	}
}

func (v *viewport) activate() {
	v.host.setActive(v)
	if c := fyne.CurrentApp().Driver().CanvasForObject(v); c != nil && c.Focused() != v {
		c.Focus(v)
	}
}

// FocusGained is part of fyne.Focusable.
func (v *viewport) FocusGained() {}

// FocusLost is part of fyne.Focusable.
func (v *viewport) FocusLost() {}

// TypedRune handles the character shortcuts (+, -, [, ]).
func (v *viewport) TypedRune(r rune) { v.host.typedRune(r) }

// TypedKey handles the key shortcuts (see Shortcuts).
func (v *viewport) TypedKey(ev *fyne.KeyEvent) { v.host.typedKey(ev) }

// --- drawing ----------------------------------------------------------------

func (v *viewport) CreateRenderer() fyne.WidgetRenderer {
	r := &viewportRenderer{v: v}
	for i := range r.border {
		r.border[i] = canvas.NewRectangle(colBorder)
	}
	r.message = canvas.NewText("", colOverlay)
	r.message.Alignment = fyne.TextAlignCenter
	r.banner = canvas.NewRectangle(colStat)
	r.bannerText = canvas.NewText("", color.White)
	r.bannerText.Alignment = fyne.TextAlignCenter
	r.bannerText.TextStyle.Bold = true
	r.bannerText.TextSize = 14
	return r
}

// viewportRenderer draws the viewport. Every object here is painted again on each
// frame, and with software GL (llvmpipe) the painter's cost grows with the area
// covered, so nothing is drawn under or over the whole picture: the raster is
// always opaque and full-size (black before the first picture), and the border
// is four thin edges rather than a stroked rectangle the size of the viewport.
type viewportRenderer struct {
	v       *viewport
	border  [4]*canvas.Rectangle // top, bottom, left, right
	message *canvas.Text
	corners [4][]*canvas.Text
	// banner marks an image of another patient than the open study's.
	banner     *canvas.Rectangle
	bannerText *canvas.Text
	marks      []fyne.CanvasObject
	objects    []fyne.CanvasObject
}

func (r *viewportRenderer) Layout(size fyne.Size) {
	v := r.v
	v.raster.Resize(size)
	r.layoutBorder(size)
	r.message.Move(fyne.NewPos(0, size.Height/2-10))
	r.message.Resize(fyne.NewSize(size.Width, 20))
	r.layoutCorners(size)
	r.layoutBanner(size)
	if size != v.lastSize {
		v.lastSize = size
		v.request(false)
	}
}

// borderWidth is the width of the viewport's border in Fyne units.
const borderWidth = 1.5

func (r *viewportRenderer) layoutBorder(size fyne.Size) {
	r.border[0].Move(fyne.NewPos(0, 0))
	r.border[0].Resize(fyne.NewSize(size.Width, borderWidth))
	r.border[1].Move(fyne.NewPos(0, size.Height-borderWidth))
	r.border[1].Resize(fyne.NewSize(size.Width, borderWidth))
	r.border[2].Move(fyne.NewPos(0, 0))
	r.border[2].Resize(fyne.NewSize(borderWidth, size.Height))
	r.border[3].Move(fyne.NewPos(size.Width-borderWidth, 0))
	r.border[3].Resize(fyne.NewSize(borderWidth, size.Height))
}

// bannerHeight is the height of the OTHER PATIENT banner; the corner texts
// start below it while it shows.
const bannerHeight = 22

func (r *viewportRenderer) layoutBanner(size fyne.Size) {
	r.banner.Move(fyne.NewPos(borderWidth, borderWidth))
	r.banner.Resize(fyne.NewSize(size.Width-2*borderWidth, bannerHeight))
	r.bannerText.Move(fyne.NewPos(0, borderWidth+(bannerHeight-r.bannerText.MinSize().Height)/2))
	r.bannerText.Resize(fyne.NewSize(size.Width, r.bannerText.MinSize().Height))
}

func (r *viewportRenderer) layoutCorners(size fyne.Size) {
	const pad, line = 6, 15
	top := float32(pad)
	if !r.banner.Hidden {
		top += bannerHeight
	}
	for c, texts := range r.corners {
		for i, t := range texts {
			ms := t.MinSize()
			x := float32(pad)
			if c == 1 || c == 3 {
				x = size.Width - ms.Width - pad
			}
			y := top + float32(i*line)
			if c >= 2 {
				y = size.Height - pad - float32((len(texts)-i)*line)
			}
			t.Move(fyne.NewPos(x, y))
			t.Resize(ms)
		}
	}
}

func (r *viewportRenderer) MinSize() fyne.Size { return fyne.NewSize(120, 120) }

func (r *viewportRenderer) Refresh() {
	v := r.v
	border := colBorder
	switch {
	case v.dropTarget:
		border = colDrop
	case v.active:
		border = colActive
	}
	for _, e := range r.border {
		if e.FillColor != border {
			e.FillColor = border
			e.Refresh()
		}
	}
	msg, col := "", colOverlay
	switch {
	case v.st == nil:
		msg = "Choose a series"
	case v.onMissing():
		var problem bool
		if msg, problem = v.missingMessage(); problem {
			col = colWarning
		}
	case v.last.err != nil && !v.hasLast:
		msg = "Cannot show this image: " + v.last.err.Error()
	}
	setText(r.message, msg, col)
	who, other := v.otherPatient()
	if other {
		setText(r.bannerText, fmt.Sprintf("OTHER PATIENT  %s  ID %s", orNone(who.PatientName, "(no patient name)"), orNone(who.PatientID, "(none)")), color.White)
	}
	if r.banner.Hidden == other {
		r.banner.Hidden, r.bannerText.Hidden = !other, !other
		r.layoutBanner(v.Size())
		r.banner.Refresh()
		r.bannerText.Refresh()
	}
	// Overlay texts are reused and refreshed only when they change, so scrolling
	// and cine repaint little besides the image.
	lines := overlayLines(v)
	grown := false
	for c := range r.corners {
		for len(r.corners[c]) < len(lines[c]) {
			t := canvas.NewText("", colOverlay)
			t.TextSize = 12
			r.corners[c] = append(r.corners[c], t)
			grown = true
		}
		for i, t := range r.corners[c] {
			if i < len(lines[c]) {
				col := colOverlay
				if lines[c][i].warn {
					col = colWarning
				}
				setText(t, lines[c][i].text, col)
			} else {
				setText(t, "", colOverlay)
			}
		}
	}
	r.layoutCorners(v.Size())
	hadMarks := len(r.marks) > 0
	r.marks = measurementObjects(v)
	if grown || hadMarks || len(r.marks) > 0 || len(r.objects) == 0 {
		r.objects = append(r.objects[:0], v.raster)
		r.objects = append(r.objects, r.marks...)
		for _, texts := range r.corners {
			for _, t := range texts {
				r.objects = append(r.objects, t)
			}
		}
		r.objects = append(r.objects, r.message, r.banner, r.bannerText)
		for _, e := range r.border {
			r.objects = append(r.objects, e)
		}
		canvas.Refresh(v)
	}
}

// setText changes a text object only when its text or colour changes.
func setText(t *canvas.Text, s string, c color.Color) {
	if t.Text == s && t.Color == c {
		return
	}
	t.Text, t.Color = s, c
	t.Refresh()
}

func (r *viewportRenderer) Objects() []fyne.CanvasObject {
	if len(r.objects) == 0 {
		r.Refresh()
	}
	return r.objects
}

func (r *viewportRenderer) Destroy() {}
