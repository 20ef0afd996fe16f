package app

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// viewportRect returns where a viewport lies in a capture of the canvas, less
// its border and a few pixels for the painter's rounding of positions.
func viewportRect(c fyne.Canvas, vp *viewport) image.Rectangle {
	p := fyne.CurrentApp().Driver().AbsolutePositionForObject(vp)
	s, sz := c.Scale(), vp.Size()
	in := float32(borderWidth + 4)
	return image.Rect(int((p.X+in)*s), int((p.Y+in)*s), int((p.X+sz.Width-in)*s), int((p.Y+sz.Height-in)*s))
}

// textRect returns where a text object of a viewport lies in a capture, with a
// margin for its glyphs' edges.
func textRect(c fyne.Canvas, t fyne.CanvasObject) image.Rectangle {
	p := fyne.CurrentApp().Driver().AbsolutePositionForObject(t)
	s, sz := c.Scale(), t.Size()
	return image.Rect(int((p.X-2)*s), int((p.Y-2)*s), int((p.X+sz.Width+2)*s), int((p.Y+sz.Height+2)*s))
}

// imagePixels counts the pixels of r, outside the skipped rectangles, that are
// not the viewport's black: pixels of an image.
func imagePixels(img image.Image, r image.Rectangle, skip []image.Rectangle) int {
	n, _ := imagePixelsAt(img, r, skip)
	return n
}

// imagePixelsAt is imagePixels, with the bounds of the pixels counted.
func imagePixelsAt(img image.Image, r image.Rectangle, skip []image.Rectangle) (n int, at image.Rectangle) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			pt := image.Pt(x, y)
			skipped := false
			for _, s := range skip {
				if pt.In(s) {
					skipped = true
					break
				}
			}
			if skipped {
				continue
			}
			if c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA); c.R != 0 || c.G != 0 || c.B != 0 {
				n++
				at = at.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return n, at
}

// overlayTexts returns the texts a viewport's renderer shows: its hint, then
// every corner line.
func overlayTexts(vp *viewport) (hint string, corners []string, objs []fyne.CanvasObject) {
	r := test.WidgetRenderer(vp).(*viewportRenderer)
	r.Refresh()
	for _, texts := range r.corners {
		for _, t := range texts {
			if t.Text != "" {
				corners = append(corners, t.Text)
				objs = append(objs, t)
			}
		}
	}
	if r.message.Text != "" {
		objs = append(objs, r.message)
	}
	return r.message.Text, corners, objs
}

// wantIdentity checks that a viewport showing an image names its patient,
// Patient ID, study date and series and image in the overlay.
func wantIdentity(t *testing.T, vp *viewport, name, id, date string) {
	t.Helper()
	_, corners, _ := overlayTexts(vp)
	all := strings.Join(corners, "\n")
	for _, want := range []string{name, "ID " + id, date, "Se ", "Im "} {
		if !strings.Contains(all, want) {
			t.Errorf("the overlay lacks %q:\n%s", want, all)
		}
	}
}

// TestEmptyViewportPaintsOnlyItsHint is the defect sequence of a reader: a CT
// compared with its prior (K), back to the worklist (Q), an ultrasound study
// of another patient opened, 1x2 (F6). The right viewport holds no series: its
// pixels are black but for its hint, and no corner text is left of the CT.
func TestEmptyViewportPaintsOnlyItsHint(t *testing.T) {
	const cur, prior = "1.2.826.0.1.3680043.10.3.1", "1.2.826.0.1.3680043.10.3.2"
	h := newHarness(t)
	dir := t.TempDir()
	writeSeries(t, dir, seriesSpec{"cur", "TLR-EMPTY-1", cur, cur + ".1", "20260110", "CT CHEST", steps(0, 5, 4)})
	writeSeries(t, dir, seriesSpec{"prior", "TLR-EMPTY-1", prior, prior + ".1", "20250110", "CT CHEST", steps(0, 5, 4)})
	if sum := h.cache.ImportPaths([]string{dir}, nil); sum.Imported != 8 {
		t.Fatalf("import: %+v", sum)
	}
	h.reloadWorklist()
	var us string
	for _, r := range h.ws.worklist.view.Rows {
		if strings.Contains(r.Modalities, "US") {
			us = r.UID
		}
	}
	c := h.win.Canvas()
	s := h.ws.viewer
	left, right := s.viewports[0], s.viewports[1]

	h.openFromWorklist(cur)
	h.press(fyne.KeyK)
	if !s.comparing || right.st == nil || right.study != prior {
		t.Fatalf("K did not compare with the prior: comparing %v, right shows %q", s.comparing, right.study)
	}
	// Both painted, each with its identity.
	wantIdentity(t, left, "CompressedSamples, CT1", "TLR-EMPTY-1", "2026-01-10")
	wantIdentity(t, right, "CompressedSamples, CT1", "TLR-EMPTY-1", "2025-01-10")
	shot := c.Capture()
	if n := imagePixels(shot, viewportRect(c, right), nil); n < 1000 {
		t.Fatalf("the prior's viewport shows %d image pixels: nothing painted to compare against", n)
	}

	h.press(fyne.KeyQ)
	if h.ws.onViewer {
		t.Fatal("Q did not go back to the worklist")
	}
	h.openFromWorklist(us)
	h.press(fyne.KeyF6)
	if s.layout != 1 || right.st != nil {
		t.Fatalf("after F6: layout %s, right viewport holds %v", layouts[s.layout].name, right.st)
	}
	wantIdentity(t, left, "PLA", "204", "2016-05-03")

	shot = c.Capture()
	hint, corners, objs := overlayTexts(right)
	if hint != "Choose a series" {
		t.Errorf("the empty viewport's hint is %q", hint)
	}
	if len(corners) > 0 {
		t.Errorf("the empty viewport shows corner text %q", corners)
	}
	var skip []image.Rectangle
	for _, o := range objs {
		skip = append(skip, textRect(c, o))
	}
	if n, at := imagePixelsAt(shot, viewportRect(c, right), skip); n > 0 {
		t.Errorf("the empty viewport (%v) paints %d image pixels besides its hint, within %v", viewportRect(c, right), n, at)
		saveFailed(t, "empty_viewport", shot)
	}
	// The hint itself is drawn.
	if n := imagePixels(shot, textRect(c, objs[len(objs)-1]), nil); n == 0 {
		t.Error("the empty viewport's hint is not drawn")
	}
	// The ultrasound viewport paints its image.
	if n := imagePixels(shot, viewportRect(c, left), nil); n < 1000 {
		t.Errorf("the ultrasound viewport shows %d image pixels", n)
	}
}

// saveFailed writes a capture next to the test's output for a look.
func saveFailed(t *testing.T, name string, img image.Image) {
	t.Helper()
	p := filepath.Join(os.TempDir(), "teleread-"+name+"-failed.png")
	f, err := os.Create(p)
	if err != nil {
		t.Log(err)
		return
	}
	defer f.Close()
	if err := png.Encode(f, img); err == nil {
		t.Logf("capture written to %s", p)
	}
}

// findButton returns the button labelled text among the objects under o.
func findButton(o fyne.CanvasObject, text string) *widget.Button {
	switch x := o.(type) {
	case *widget.Button:
		if x.Text == text {
			return x
		}
	case *fyne.Container:
		for _, c := range x.Objects {
			if b := findButton(c, text); b != nil {
				return b
			}
		}
		return nil
	}
	if w, ok := o.(fyne.Widget); ok {
		for _, c := range test.WidgetRenderer(w).Objects() {
			if b := findButton(c, text); b != nil {
				return b
			}
		}
	}
	return nil
}

// TestOtherPatientIsNeverPairedAndAsksFirst: the worklist lists as the
// study's prior a study under another Patient ID. K does not pair them and
// says why; its series, offered apart, reach a viewport only after the reader
// confirms (Esc cancels), and then under a red OTHER PATIENT banner.
func TestOtherPatientIsNeverPairedAndAsksFirst(t *testing.T) {
	const cur, other = "1.2.826.0.1.3680043.10.4.1", "1.2.826.0.1.3680043.10.4.2"
	h := newHarness(t)
	dir := t.TempDir()
	writeSeries(t, dir, seriesSpec{"cur", "TLR-OTH-1", cur, cur + ".1", "20260110", "CT CHEST", steps(0, 5, 3)})
	writeSeries(t, dir, seriesSpec{"other", "TLR-OTH-2", other, other + ".1", "20250110", "CT CHEST", steps(0, 5, 3)})
	if sum := h.cache.ImportPaths([]string{dir}, nil); sum.Imported != 6 {
		t.Fatalf("import: %+v", sum)
	}
	if err := h.cache.PutWorkItem(other, "demo", "prior", cur, 2, map[string]string{"PatientID": "TLR-OTH-2"}); err != nil {
		t.Fatal(err)
	}
	h.reloadWorklist()
	h.openFromWorklist(cur)
	s := h.ws.viewer
	left, right := s.viewports[0], s.viewports[1]

	h.press(fyne.KeyK)
	if s.comparing || s.layout != 0 || right.st != nil {
		t.Fatalf("K paired another patient's study: comparing %v, layout %s", s.comparing, layouts[s.layout].name)
	}
	if msg := h.ws.status.message.Text; !strings.Contains(msg, "Not compared") || !strings.Contains(msg, "TLR-OTH-2") || !strings.Contains(msg, "TLR-OTH-1") {
		t.Errorf("the status does not say the Patient IDs differ: %q", msg)
	}
	var otherThumb *thumb
	for _, o := range s.thumbs.Objects {
		if th, ok := o.(*thumb); ok && th.study == other {
			otherThumb = th
		}
	}
	if otherThumb == nil {
		t.Fatal("the listed study's series are not offered")
	}
	h.press(fyne.KeyF6)
	if right.st != nil {
		t.Fatal("1x2 filled the right viewport")
	}
	centre := func(v *viewport) fyne.Position {
		p := fyne.CurrentApp().Driver().AbsolutePositionForObject(v)
		return p.Add(fyne.NewPos(v.Size().Width/2, v.Size().Height/2))
	}

	// A drop asks first; Esc cancels it.
	dragThumb(otherThumb, centre(right))
	h.settleAll()
	if h.ws.modal == nil || right.st != nil {
		t.Fatalf("the drop of another patient's series did not ask first (dialog %v, right shows %v)", h.ws.modal != nil, right.st != nil)
	}
	h.press(fyne.KeyEscape)
	if h.ws.modal != nil || right.st != nil {
		t.Fatalf("Esc did not cancel: dialog %v, right shows %v", h.ws.modal != nil, right.st != nil)
	}

	// Confirmed, it shows, marked.
	dragThumb(otherThumb, centre(right))
	h.settleAll()
	top := h.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no dialog on screen")
	}
	b := findButton(top, "Show the other patient")
	if b == nil {
		t.Fatal("the dialog has no button to show the other patient")
	}
	test.Tap(b)
	h.settleAll()
	if right.st == nil || right.study != other {
		t.Fatalf("confirmed, the right viewport shows %q", right.study)
	}
	wantIdentity(t, right, "CompressedSamples, CT1", "TLR-OTH-2", "2025-01-10")
	rr := test.WidgetRenderer(right).(*viewportRenderer)
	rr.Refresh()
	if rr.banner.Hidden || !strings.Contains(rr.bannerText.Text, "OTHER PATIENT") || !strings.Contains(rr.bannerText.Text, "TLR-OTH-2") {
		t.Errorf("no OTHER PATIENT banner: hidden %v, %q", rr.banner.Hidden, rr.bannerText.Text)
	}
	if lr := test.WidgetRenderer(left).(*viewportRenderer); !lr.banner.Hidden {
		t.Error("the open study's own viewport shows the OTHER PATIENT banner")
	}
	c := h.win.Canvas()
	shot := c.Capture()
	red := 0
	for r, y := viewportRect(c, right), viewportRect(c, right).Min.Y; y < r.Min.Y+bannerHeight; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if color.NRGBAModel.Convert(shot.At(x, y)) == colStat {
				red++
			}
		}
	}
	if red < 1000 {
		t.Errorf("the banner paints %d red pixels", red)
		saveFailed(t, "other_patient", shot)
	}
}
