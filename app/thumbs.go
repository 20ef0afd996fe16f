package app

import (
	"fmt"
	"image"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"teleread/app/internal/format"
	"teleread/app/internal/reading"
	"teleread/viewer"
)

// buildThumbs makes one thumbnail per series, then, while comparing, one per
// series of the prior under its date; the pictures are rendered off the UI
// goroutine and appear as they are ready.
func (s *viewerScreen) buildThumbs() {
	s.thumbs.Objects = nil
	for i, st := range s.stacks {
		s.thumbs.Objects = append(s.thumbs.Objects, newThumb(s, i, s.study.StudyInstanceUID, st))
	}
	if s.comparing && s.prior != nil {
		l := widget.NewLabel("Prior " + format.Date(s.prior.StudyDate))
		l.TextStyle.Bold = true
		s.thumbs.Objects = append(s.thumbs.Objects, l)
		for i, st := range s.priorStacks {
			s.thumbs.Objects = append(s.thumbs.Objects, newThumb(s, i, s.prior.StudyInstanceUID, st))
		}
	}
	if s.showOther && s.other != nil {
		l := canvas.NewText("Other patient", colStat)
		l.TextStyle.Bold = true
		s.thumbs.Objects = append(s.thumbs.Objects, l, widget.NewLabel("ID "+orNone(s.other.PatientID, "(none)")+"\n"+format.Date(s.other.StudyDate)))
		for i, st := range s.otherStacks {
			s.thumbs.Objects = append(s.thumbs.Objects, newThumb(s, i, s.other.StudyInstanceUID, st))
		}
	}
	s.thumbs.Refresh()
}

// viewportAt returns the shown viewport under an absolute canvas position, or nil.
func (s *viewerScreen) viewportAt(abs fyne.Position) *viewport {
	d := fyne.CurrentApp().Driver()
	for _, vp := range s.viewports[:s.cells()] {
		p := d.AbsolutePositionForObject(vp)
		sz := vp.Size()
		if abs.X >= p.X && abs.Y >= p.Y && abs.X < p.X+sz.Width && abs.Y < p.Y+sz.Height {
			return vp
		}
	}
	return nil
}

// dragOver marks the viewport a dragged series would drop into (nil: none).
func (s *viewerScreen) dragOver(target *viewport) {
	for _, vp := range s.viewports {
		if on := vp == target; vp.dropTarget != on {
			vp.dropTarget = on
			vp.Refresh()
		}
	}
}

// thumb is a series thumbnail: its middle image, number, modality, description
// and image count. A tap shows the series in the active viewport; a drag onto a
// viewport shows it there.
type thumb struct {
	widget.BaseWidget
	s     *viewerScreen
	index int
	study string
	st    *reading.Stack
	img   *canvas.Image
	label *widget.Label

	dragging bool
	dragAt   fyne.Position // absolute position of the pointer during a drag
}

const thumbSize = 120

func newThumb(s *viewerScreen, i int, study string, st *reading.Stack) *thumb {
	t := &thumb{s: s, index: i, study: study, st: st}
	t.img = canvas.NewImageFromImage(blankImage(4, 3))
	t.img.FillMode = canvas.ImageFillContain
	t.img.SetMinSize(fyne.NewSize(thumbSize, thumbSize*0.8))
	t.label = widget.NewLabel(thumbLabel(st))
	t.label.TextStyle.Monospace = false
	t.ExtendBaseWidget(t)
	go func() {
		var pic image.Image
		if err := guard(fmt.Sprintf("thumbnail of series %d", st.Series.SeriesNumber), func() { pic = thumbRender(st) }); err != nil {
			ui(func() { s.host.note(err.Error()) })
			return
		}
		if pic != nil {
			ui(func() {
				t.img.Image = pic
				t.img.Refresh()
			})
		}
	}()
	return t
}

// thumbRender renders thumbnails (a variable so that a test can make it panic).
var thumbRender = renderThumb

// thumbLabel is a thumbnail's caption: series number, modality, image count
// and description.
func thumbLabel(st *reading.Stack) string {
	desc := st.Series.Description
	if len(desc) > 18 {
		desc = desc[:18] + "…"
	}
	return fmt.Sprintf("S%d %s  %d\n%s", st.Series.SeriesNumber, st.Series.Modality, len(st.Items), desc)
}

// renderThumb draws the stack's middle image (first frame of a cine) small.
func renderThumb(st *reading.Stack) image.Image {
	it := st.Items[len(st.Items)/2]
	if it.Frames > 1 {
		it = st.Items[0]
	}
	// Of a series still downloading, the cached image nearest the middle.
	for d := 0; it.Missing && d <= len(st.Items); d++ {
		for _, i := range []int{len(st.Items)/2 - d, len(st.Items)/2 + d} {
			if i >= 0 && i < len(st.Items) && !st.Items[i].Missing {
				it = st.Items[i]
				break
			}
		}
	}
	if it.Missing {
		return nil
	}
	img, err := it.OpenImage()
	if err != nil {
		return nil
	}
	defer img.Close()
	f, err := img.Frame(it.Frame)
	if err != nil {
		return nil
	}
	d, err := viewer.DefaultDisplay(img, f)
	if err != nil {
		return nil
	}
	dst := image.NewRGBA(image.Rect(0, 0, thumbSize, thumbSize*4/5))
	var r viewer.CPURenderer
	if err := r.Upload(f); err != nil {
		return nil
	}
	if err := r.Render(d, dst); err != nil {
		return nil
	}
	return dst
}

// Tapped shows the series in the active viewport.
func (t *thumb) Tapped(*fyne.PointEvent) {
	if t.s.active != nil {
		t.s.offer(t.s.active, t.study, t.st)
	}
	t.s.host.focusViewer()
}

// Dragged follows a series being dragged: the viewport under the pointer is
// marked as the one it will drop into.
func (t *thumb) Dragged(ev *fyne.DragEvent) {
	t.dragging = true
	t.dragAt = ev.AbsolutePosition // the pointer on the canvas (the desktop driver sets it)
	if t.dragAt.IsZero() {
		t.dragAt = fyne.CurrentApp().Driver().AbsolutePositionForObject(t).Add(ev.Position)
	}
	t.s.dragOver(t.s.viewportAt(t.dragAt))
}

// DragEnd shows the series in the viewport it was dropped on, which becomes the
// active one; a drop anywhere else does nothing.
func (t *thumb) DragEnd() {
	if !t.dragging {
		return
	}
	t.dragging = false
	t.s.dragOver(nil)
	vp := t.s.viewportAt(t.dragAt)
	if vp == nil {
		return
	}
	t.s.setActive(vp)
	t.s.offer(vp, t.study, t.st)
	t.s.host.focusViewer()
}

func (t *thumb) CreateRenderer() fyne.WidgetRenderer {
	bg := canvas.NewRectangle(color.NRGBA{R: 0x0c, G: 0x0d, B: 0x10, A: 0xff})
	return widget.NewSimpleRenderer(container.NewStack(bg, container.NewVBox(t.img, t.label)))
}
