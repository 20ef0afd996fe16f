package app

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"teleread/app/internal/reading"
	"teleread/cache"
	tsync "teleread/sync"
	"teleread/viewer"
	"teleread/viewer/dataset"
)

// fakeViewportHost is all a viewport needs around it (viewportHost): the
// slices it asks for are noted, and a fetch fails where errs says so.
type fakeViewportHost struct {
	tool  tool
	asked []string
	errs  map[string]error
}

func (h *fakeViewportHost) activeTool() tool        { return h.tool }
func (h *fakeViewportHost) typedKey(*fyne.KeyEvent) {}
func (h *fakeViewportHost) typedRune(rune)          {}
func (h *fakeViewportHost) setActive(*viewport)     {}
func (h *fakeViewportHost) moved(*viewport)         {}
func (h *fakeViewportHost) openStudy() (string, string) {
	return "", ""
}
func (h *fakeViewportHost) completenessOf(string) (cache.Completeness, bool) {
	return cache.Completeness{}, true
}
func (h *fakeViewportHost) wantSlice(v *viewport) {
	h.asked = append(h.asked, v.st.Items[v.index].SOP)
}
func (h *fakeViewportHost) sliceError(sop string) error { return h.errs[sop] }

// TestViewportOnMissingSlice builds a viewport on a fake host: on a slice
// the cache lacks it asks the host for it, paints nothing of the previous
// slice, measures nothing, and says what it waits for or why it cannot show
// it; back on a cached slice it draws again without asking.
func TestViewportOnMissingSlice(t *testing.T) {
	q := &uiQueue{}
	old := ui
	ui = q.push
	t.Cleanup(func() { ui = old })
	test.NewTempApp(t)
	host := &fakeViewportHost{tool: toolLength, errs: map[string]error{}}
	vp := newViewport(host, func() (viewer.Renderer, error) { return &viewer.CPURenderer{}, nil }, &Metrics{})
	t.Cleanup(vp.close)
	w := test.NewTempWindow(t, vp)
	w.Resize(fyne.NewSize(400, 400))

	// A series of one cached image and one the cache lacks.
	const missing = "1.2.826.0.1.3680043.10.1107.16.2"
	path := filepath.Join(samplesDir(t), "ct_small_explicit_le.dcm")
	f, err := dataset.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	study, series, sop := f.String(dataset.StudyInstanceUID), f.String(dataset.SeriesInstanceUID), f.String(dataset.SOPInstanceUID)
	f.Close()
	st := &reading.Stack{Series: cache.Series{SeriesInstanceUID: series}, Items: []reading.Item{
		{Path: path, SOP: sop, Instance: 1, Frames: 1},
		{SOP: missing, Instance: 2, Frames: 1, Missing: true},
	}}
	vp.setStack(study, st)
	shown := func() bool {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			q.runPending()
			if vp.hasLast && vp.last.req.seq == vp.seq {
				return true
			}
		}
		return false
	}
	if !shown() {
		t.Fatalf("the cached slice was not drawn: %v", vp.last.err)
	}
	if _, ok := vp.onScreen(); !ok {
		t.Fatal("the cached slice's picture is not on screen")
	}

	vp.step(1)
	q.runPending()
	if len(host.asked) != 1 || host.asked[0] != missing {
		t.Errorf("on the missing slice the viewport asked for %v; want [%s]", host.asked, missing)
	}
	if _, ok := vp.onScreen(); ok {
		t.Error("on the missing slice the viewport paints the previous slice's picture")
	}
	if _, ok := findText(vp, "Fetching slice 2 of 2…"); !ok {
		t.Errorf("on the missing slice the viewport says %v; want \"Fetching slice 2 of 2…\"", textsUnder(vp))
	}
	c := fyne.NewPos(200, 200)
	vp.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: c}, Dragged: fyne.NewDelta(40, 0)})
	vp.DragEnd()
	if len(vp.measures) != 0 || vp.drawing != nil {
		t.Errorf("a measurement was drawn on a slice not shown: %v", vp.measures)
	}

	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"offline", fmt.Errorf("sync: fetch instance: %w", tsync.ErrOffline), "Slice 2 of 2: Not in cache; archive offline"},
		{"refused", fmt.Errorf("sync: fetch instance: %w", tsync.ErrBadResponse), "Slice 2 of 2: Not in cache; fetching it failed: sync: fetch instance: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host.errs[missing] = tc.err
			vp.Refresh()
			got, ok := findText(vp, tc.want)
			if !ok || got.color != colWarning {
				t.Errorf("after the fetch failed the viewport says %v; want %q in amber", textsUnder(vp), tc.want)
			}
		})
	}

	vp.step(-1)
	if !shown() {
		t.Fatal("back on the cached slice nothing was drawn")
	}
	if _, ok := vp.onScreen(); !ok || len(host.asked) != 1 {
		t.Errorf("back on the cached slice: on screen %v, asked %v; want drawn, nothing more asked", ok, host.asked)
	}
	if _, ok := findText(vp, "Slice 2"); ok {
		t.Errorf("back on the cached slice the viewport still says %v", textsUnder(vp))
	}
}
