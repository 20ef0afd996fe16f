package app

import (
	"bytes"
	"image"
	"testing"
	"time"

	"teleread/app/internal/reading"
	"teleread/viewer"
)

// waitDrawnAhead waits until the viewport's render loop holds a picture drawn
// ahead.
func waitDrawnAhead(t *testing.T, vp *viewport) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		vp.loop.mu.Lock()
		ok := vp.loop.pre != nil
		vp.loop.mu.Unlock()
		if ok {
			return
		}
	}
	t.Fatal("nothing was drawn ahead")
}

// frontPixels returns a copy of what the viewport's raster paints.
func frontPixels(vp *viewport) *image.RGBA {
	w, h := vp.targetSize()
	b := vp.paint(w, h).(*image.RGBA)
	return &image.RGBA{Pix: bytes.Clone(b.Pix), Stride: b.Stride, Rect: b.Rect}
}

// referencePicture renders stack item i of the viewport with the viewer's CPU
// renderer directly, with the viewport's window, view and size.
func referencePicture(t *testing.T, vp *viewport, i int) *image.RGBA {
	t.Helper()
	it := vp.st.Items[i]
	f, d, err := loadItemFrame(it, viewer.RenderOptions{Frame: it.Frame, Window: vp.window})
	if err != nil {
		t.Fatal(err)
	}
	d.View = vp.view
	w, h := vp.targetSize()
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	var r viewer.CPURenderer
	if err := r.Upload(f); err != nil {
		t.Fatal(err)
	}
	if err := r.Render(d, dst); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestStepsDrawnAheadShowTheirOwnImage scrolls through a stack: each step that
// the render loop drew ahead is shown at once, without waiting for the loop, and
// every step (drawn ahead, after a change of direction, after a window change,
// drawn ahead with the new window) shows exactly the picture of its own image
// with the current settings, as the viewer's CPU renderer draws it.
func TestStepsDrawnAheadShowTheirOwnImage(t *testing.T) {
	h := newHarness(t)
	vp := h.openStudyWith("XA")
	if len(vp.st.Items) < 8 {
		t.Fatalf("XA stack has %d images", len(vp.st.Items))
	}
	check := func(name string, wantAhead bool, step func()) {
		t.Helper()
		if wantAhead {
			waitDrawnAhead(t, vp)
		}
		step()
		if wantAhead && (!vp.hasLast || vp.last.req.seq != vp.seq) {
			t.Errorf("%s: the picture drawn ahead was not handed over by the step itself", name)
		}
		h.settle()
		if vp.last.req.index != vp.index {
			t.Fatalf("%s: shows image %d, the viewport is at %d", name, vp.last.req.index, vp.index)
		}
		want := referencePicture(t, vp, vp.index)
		if got := frontPixels(vp); !bytes.Equal(got.Pix, want.Pix) || got.Rect != want.Rect {
			t.Errorf("%s: image %d: the picture differs from the viewer's own rendering of it", name, vp.index)
		}
	}
	check("first step", false, func() { vp.step(1) })
	for i := 0; i < 3; i++ {
		check("step down, drawn ahead", true, func() { vp.step(1) })
	}
	check("step back up, against the direction drawn ahead", false, func() { vp.step(-1) })
	check("step up again, drawn ahead", true, func() { vp.step(-1) })
	waitDrawnAhead(t, vp)
	vp.setWindow(viewer.Window{Center: 100, Width: 80})
	h.settle()
	check("step after a window change", false, func() { vp.step(-1) })
	check("next step, drawn ahead with the new window", true, func() { vp.step(-1) })
}

// loadItemFrame is viewer.LoadFrame for a stack item: opened through the
// cache, which decrypts it.
func loadItemFrame(it reading.Item, opt viewer.RenderOptions) (*viewer.Frame, *viewer.Display, error) {
	im, err := it.OpenImage()
	if err != nil {
		return nil, nil, err
	}
	defer im.Close()
	return viewer.LoadImageFrame(im, opt)
}
