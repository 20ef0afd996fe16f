package app

import (
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"teleread/cache"
)

// samplesDir is the repository's sample studies, else the test corpus.
func samplesDir(t testing.TB) string {
	for _, d := range []string{filepath.Join("..", "testdata", "samples"), filepath.Join("..", "testdata", "corpus", "files")} {
		if m, _ := filepath.Glob(filepath.Join(d, "*.dcm")); len(m) > 0 {
			return d
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no sample DICOM files (testdata/samples or testdata/corpus/files)")
	}
	t.Skip("no sample DICOM files")
	return ""
}

// uiQueue stands in for fyne.Do in tests: results of the render goroutines are
// queued and run on the test goroutine by drain, so widget state has one owner.
type uiQueue struct {
	mu  gosync.Mutex
	fns []func()
}

func (q *uiQueue) push(fn func()) {
	q.mu.Lock()
	q.fns = append(q.fns, fn)
	q.mu.Unlock()
}

func (q *uiQueue) runPending() int {
	q.mu.Lock()
	fns := q.fns
	q.fns = nil
	q.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
	return len(fns)
}

type harness struct {
	t     *testing.T
	ws    *workstation
	win   fyne.Window
	cache *cache.Cache
	q     *uiQueue
	now   time.Time
}

// newHarness opens a workstation on Fyne's test driver over a cache holding the
// sample studies.
func newHarness(t *testing.T) *harness {
	t.Helper()
	dir := samplesDir(t)
	home := t.TempDir()
	c, err := cache.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if n, err := ImportSamplesIfEmpty(c, dir); err != nil && n == 0 {
		t.Fatalf("import samples: %v", err)
	}
	q := &uiQueue{}
	old := ui
	ui = q.push
	t.Cleanup(func() { ui = old })
	a := test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	h := &harness{t: t, win: w, cache: c, q: q, now: time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)}
	cfg := Config{Cache: c, Preferences: a.Preferences(), Now: func() time.Time { return h.now }}
	if err := cfg.defaults(); err != nil {
		t.Fatal(err)
	}
	ws, err := newWorkstation(cfg, a, w)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ws.close)
	w.Resize(fyne.NewSize(1400, 900))
	h.ws = ws
	settleWorklist(t, ws, q)
	return h
}

// settleWorklist runs queued UI work until the worklist shows the answer to
// every reload asked for (the rows are read off the UI goroutine).
func settleWorklist(t testing.TB, ws *workstation, q *uiQueue) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for q.runPending(); !ws.rows.settled(); q.runPending() {
		if time.Now().After(deadline) {
			t.Fatal("the worklist was never read")
		}
		time.Sleep(time.Millisecond)
	}
}

// reloadWorklist reads the worklist again and waits until it is shown.
func (h *harness) reloadWorklist() {
	h.t.Helper()
	h.ws.reloadWorklist()
	settleWorklist(h.t, h.ws, h.q)
}

// settleOpen runs queued UI work until the study asked for last is shown
// (or failed) and the stacks asked for a comparison are read: the cache is
// read off the UI goroutine.
func settleOpen(t testing.TB, ws *workstation, q *uiQueue) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for q.runPending(); ws.opening() || ws.viewer.readingStacks(); q.runPending() {
		if time.Now().After(deadline) {
			t.Fatal("the study opened was never shown")
		}
		time.Sleep(time.Millisecond)
	}
}

// openStudy opens a study and waits until it is shown.
func (h *harness) openStudy(uid string) {
	h.t.Helper()
	h.ws.openStudy(uid)
	h.settle()
}

// settle runs queued UI work until a study being opened is shown and the
// active viewport shows its newest request.
func (h *harness) settle() {
	h.t.Helper()
	settleOpen(h.t, h.ws, h.q)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		h.q.runPending()
		vp := h.ws.viewer.active
		if vp == nil || vp.st == nil || (vp.hasLast && vp.last.req.seq == vp.seq) || (vp.last.err != nil && vp.last.req.seq == vp.seq) {
			h.q.runPending()
			return
		}
		time.Sleep(time.Millisecond)
	}
	h.t.Fatal("the viewport never showed its newest picture")
}

// openStudyWith opens the first study whose modalities include mod.
func (h *harness) openStudyWith(mod string) *viewport {
	h.t.Helper()
	for i, r := range h.ws.worklist.view.Rows {
		if strings.Contains(r.Modalities, mod) {
			h.ws.worklist.selectRow(i)
			h.ws.worklist.table.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
			h.settle()
			return h.ws.viewer.active
		}
	}
	h.t.Fatalf("no %s study among the samples", mod)
	return nil
}

// viewportCentre returns the active viewport's centre in canvas coordinates.
func (h *harness) viewportCentre() fyne.Position {
	vp := h.ws.viewer.active
	p := fyne.CurrentApp().Driver().AbsolutePositionForObject(vp)
	return p.Add(fyne.NewPos(vp.Size().Width/2, vp.Size().Height/2))
}

func (h *harness) key(name fyne.KeyName) {
	h.ws.viewer.active.TypedKey(&fyne.KeyEvent{Name: name})
	h.settle()
}

// press types a key into the window's canvas as the desktop driver delivers it:
// TypedKey to the focused object (else the canvas's handler), then, for a key
// that writes a character, TypedRune the same way. Then it settles.
func (h *harness) press(name fyne.KeyName) {
	h.t.Helper()
	c := h.win.Canvas()
	ev := &fyne.KeyEvent{Name: name}
	if f := c.Focused(); f != nil {
		f.TypedKey(ev)
	} else if k := c.OnTypedKey(); k != nil {
		k(ev)
	}
	if len(name) == 1 {
		r := []rune(strings.ToLower(string(name)))[0]
		if f := c.Focused(); f != nil {
			f.TypedRune(r)
		} else if k := c.OnTypedRune(); k != nil {
			k(r)
		}
	}
	h.settleAll()
}

// settleAll runs queued UI work until every shown viewport holding a series
// shows its newest request.
func (h *harness) settleAll() {
	h.t.Helper()
	settleOpen(h.t, h.ws, h.q)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		h.q.runPending()
		done := true
		if s := h.ws.viewer; h.ws.onViewer {
			for _, vp := range s.viewports[:s.cells()] {
				if vp.st != nil && vp.last.req.seq != vp.seq {
					done = false
				}
			}
		}
		if done {
			h.q.runPending()
			return
		}
		time.Sleep(time.Millisecond)
	}
	h.t.Fatal("a viewport never showed its newest picture")
}

// openFromWorklist selects the study's row and opens it with Enter typed into
// the window.
func (h *harness) openFromWorklist(uid string) {
	h.t.Helper()
	if h.ws.onViewer {
		h.t.Fatal("openFromWorklist: the worklist is not on screen")
	}
	i := h.ws.worklist.view.IndexOf(uid)
	if i < 0 {
		h.t.Fatalf("study %s is not in the worklist", uid)
	}
	h.ws.worklist.selectRow(i)
	h.win.Canvas().Focus(h.ws.worklist.table)
	h.press(fyne.KeyReturn)
	if !h.ws.onViewer || h.ws.viewer.study.StudyInstanceUID != uid {
		h.t.Fatalf("Enter on the worklist did not open %s", uid)
	}
}
