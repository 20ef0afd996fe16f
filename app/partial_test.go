package app

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"teleread/app/internal/worklist"
	"teleread/cache"
	"teleread/cache/cachetest"
	"teleread/cache/report"
	tsync "teleread/sync"
	"teleread/sync/orthanctest"
	"teleread/viewer/dataset"
)

// TestPartialStudyInRealWindow opens a CT study of which the puller has made
// 20 of 60 instances durable (the middle of the series), in a real window. As
// more arrive and the sync events reach the app, the stack grows while the
// image on screen stays the same image (new slices sort before it), the
// overlay and the worklist say "incomplete N/60" in amber until the study is
// ready, and signing asks first, naming what is missing: the Sign button, and
// Ctrl+Enter then Enter. A complete study asks too.
func TestPartialStudyInRealWindow(t *testing.T) {
	runInRealWindow(t, "partial-study")
}

func partialStudyScenario(rw *realWindow) {
	const total = 60
	paths, err := cachetest.MakeSeries(filepath.Join(rw.samples, "ct_small_explicit_le.dcm"), filepath.Join(rw.scratch, "ct"), total)
	if err != nil {
		rw.fatalf("%v", err)
	}
	// store puts instances in the cache as the puller does.
	store := func(ps []string) {
		for _, p := range ps {
			f, err := os.Open(p)
			if err != nil {
				rw.fatalf("%v", err)
			}
			_, err = rw.cache.StoreInstance(f, p)
			f.Close()
			if err != nil {
				rw.fatalf("store %s: %v", p, err)
			}
		}
	}
	head, err := dataset.Open(paths[0])
	if err != nil {
		rw.fatalf("%v", err)
	}
	uid, patientID := head.String(dataset.StudyInstanceUID), head.String(dataset.PatientID)
	head.Close()
	// The puller put the study on the worklist and started its download.
	if err := rw.cache.PutWorkItem(uid, "Doe^Jane", "assigned", "", tsync.PrioritySTAT, map[string]string{"PatientID": patientID}); err != nil {
		rw.fatalf("%v", err)
	}
	if err := rw.cache.SetStudyState(uid, tsync.StateDownloading, 0, total, ""); err != nil {
		rw.fatalf("%v", err)
	}
	// The app's sync loop, connected to no archive: the scenario plays the
	// puller, whose events take the loop's path to the UI (bridge, fyne.Do).
	loop := newSyncLoop(rw.cache, time.Hour, func(context.Context) (*tsync.Link, error) { return nil, tsync.ErrNoArchive })
	rw.do(func() {
		rw.ws.sync = loop
		rw.ws.bridge.forwardLatest(loop.wake, loop.take, rw.ws.applyStatus)
		rw.ws.reloadWorklist()
	})

	rw.waitUntil("the worklist's state cell", 5*time.Second, func() bool { _, ok := rw.stateCell(uid); return ok })
	rw.do(func() {
		if c, _ := rw.stateCell(uid); c.text != "downloading 0/60" {
			rw.errorf("worklist state before any instance: %q; want \"downloading 0/60\"", c.text)
		}
	})
	// Twenty arrive, from the middle of the series: the study can be opened,
	// and the worklist says how much is here, in amber.
	store(paths[20:40])
	loop.event(tsync.Event{Kind: tsync.StudyProgress, StudyUID: uid, Done: 20, Total: total})
	rw.waitUntil("the worklist to list the study incomplete", 5*time.Second, func() bool {
		c, _ := rw.stateCell(uid)
		return strings.HasPrefix(c.text, "incomplete")
	})
	rw.do(func() {
		if c, _ := rw.stateCell(uid); c.text != "incomplete 20/60" || c.color != colWarning {
			rw.errorf("worklist state while downloading: %q in %v; want \"incomplete 20/60\" in amber %v", c.text, c.color, colWarning)
		}
	})
	st, err := rw.cache.StudyByUID(uid)
	if err != nil {
		rw.fatalf("%v", err)
	}

	// Enter on the worklist opens it; five images down.
	rw.do(func() {
		rw.ws.worklist.selectRow(rw.ws.worklist.view.IndexOf(uid))
		rw.win.Canvas().Focus(rw.ws.worklist.table)
	})
	rw.key(fyne.KeyReturn)
	rw.waitShown()
	for range 5 {
		rw.key(fyne.KeyDown)
		rw.waitShown()
	}
	var vp *viewport
	var sop string
	rw.do(func() {
		vp = rw.ws.viewer.active
		if vp.index != 5 || len(vp.st.Items) != 20 {
			rw.fatalf("after opening and 5 × ↓: image %d of %d; want 5 of 20", vp.index, len(vp.st.Items))
		}
		sop = vp.st.Items[vp.index].SOP
		rw.checkOverlay(vp, "Im 6/20", "incomplete 20/60")
		// A length measurement on this image stays with it.
		rw.ws.setTool(toolLength)
		c := fyne.NewPos(vp.Size().Width/2, vp.Size().Height/2)
		vp.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: c}, Dragged: fyne.NewDelta(1, 0)})
		vp.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: c.Add(fyne.NewPos(80, 40))}, Dragged: fyne.NewDelta(1, 0)})
		vp.DragEnd()
		rw.ws.setTool(toolWindow)
		if len(vp.measures[5]) != 1 {
			rw.errorf("the measurement was not made: %v", vp.measures)
		}
	})
	if want := instanceSOP(rw, 25); sop != want {
		rw.fatalf("the sixth image is %s; want %s (the 26th instance: the stack sorts by number, then UID)", sop, want)
	}

	// Thirty more arrive, twenty of them sorting before the image on screen.
	store(paths[0:20])
	store(paths[40:50])
	loop.event(tsync.Event{Kind: tsync.StudyProgress, StudyUID: uid, Done: 50, Total: total})
	rw.waitUntil("the stack to grow to 50", 10*time.Second, func() bool { return len(vp.st.Items) == 50 })
	rw.waitShown()
	rw.do(func() {
		if got := vp.st.Items[vp.index].SOP; got != sop || vp.index != 25 {
			rw.errorf("after the stack grew: image %d (%s); want image 25, the same instance %s", vp.index, got, sop)
		}
		if vp.last.req.item.SOP != sop {
			rw.errorf("the picture on screen is of %s; want %s, the image the reader was on", vp.last.req.item.SOP, sop)
		}
		if len(vp.measures[25]) != 1 || len(vp.measures) != 1 {
			rw.errorf("the measurement did not move with its image: %v", vp.measures)
		}
		rw.checkOverlay(vp, "Im 26/50", "incomplete 50/60")
	})

	// The Sign button asks first, naming what is missing; Esc cancels.
	p := rw.ws.viewer.report
	const findings = "No acute intracranial haemorrhage."
	rw.do(func() {
		p.findings.SetText(findings)
		p.impression.SetText("Normal.")
		p.signBtn.Tapped(&fyne.PointEvent{})
	})
	const want = "10 of 60 instances are not in the cache (still downloading)"
	rw.checkSignDialog(want, st.PatientID)
	rw.key(fyne.KeyEscape)
	rw.do(func() {
		if rw.topOverlay() != nil || p.rep.State != report.StateDraft {
			rw.errorf("Esc in the signing dialog: dialog %v, report %s; want closed and a draft", rw.topOverlay() != nil, p.rep.State)
		}
	})

	// Ctrl+Enter in the findings asks; Enter signs.
	rw.do(func() { rw.win.Canvas().Focus(p.findings) })
	rw.shortcut(&desktop.CustomShortcut{KeyName: fyne.KeyReturn, Modifier: fyne.KeyModifierControl})
	rw.checkSignDialog(want, st.PatientID)
	rw.do(func() {
		if p.rep.State != report.StateDraft {
			rw.errorf("Ctrl+Enter signed without asking: %s", p.rep.State)
		}
	})
	rw.key(fyne.KeyReturn)
	rw.waitUntil("the report signed", 20*time.Second, func() bool { return p.signing == nil })
	rw.do(func() {
		if rw.topOverlay() != nil || p.rep.State != report.StateSigned || p.findings.Text != findings {
			rw.errorf("Ctrl+Enter then Enter: dialog %v, report %s, findings %q; want signed with the findings as typed",
				rw.topOverlay() != nil, p.rep.State, p.findings.Text)
		}
	})

	// The rest arrives and the puller says ready: no more warning.
	store(paths[50:])
	if err := rw.cache.SetStudyState(uid, tsync.StateReady, total, total, ""); err != nil {
		rw.fatalf("%v", err)
	}
	loop.event(tsync.Event{Kind: tsync.StudyState, StudyUID: uid, State: tsync.StateReady, Done: total, Total: total})
	rw.waitUntil("the stack to grow to 60", 10*time.Second, func() bool { return len(vp.st.Items) == 60 })
	rw.waitShown()
	rw.do(func() {
		if got := vp.st.Items[vp.index].SOP; got != sop || vp.last.req.item.SOP != sop {
			rw.errorf("after the last instances: image %d (%s, painted %s); want %s", vp.index, got, vp.last.req.item.SOP, sop)
		}
		rw.checkOverlay(vp, "Im 26/60", "")
	})
	rw.key(fyne.KeyQ)
	rw.waitUntil("the worklist's state cell", 5*time.Second, func() bool { _, ok := rw.stateCell(uid); return ok })
	rw.do(func() {
		if c, _ := rw.stateCell(uid); strings.Contains(c.text, "incomplete") || c.color == colWarning {
			rw.errorf("worklist state once ready: %q in %v; want no warning", c.text, c.color)
		}
	})

	// A complete study (imported by hand) asks too, without a warning; here
	// Ctrl+Enter comes from the viewer, not a report field.
	store([]string{filepath.Join(rw.samples, "mr_small_explicit_le.dcm")})
	var mr cache.Study
	rw.reloadWorklist()
	rw.do(func() {
		for _, s := range rw.ws.worklist.view.Rows {
			if s.UID != uid {
				mr.StudyInstanceUID = s.UID
			}
		}
		rw.ws.worklist.selectRow(rw.ws.worklist.view.IndexOf(mr.StudyInstanceUID))
	})
	rw.key(fyne.KeyReturn)
	rw.waitShown()
	rw.do(func() {
		p.findings.SetText("Normal.")
		rw.ws.focusViewer()
	})
	rw.shortcut(&desktop.CustomShortcut{KeyName: fyne.KeyReturn, Modifier: fyne.KeyModifierControl})
	rw.checkSignDialog("A signature cannot be taken back", "")
	rw.do(func() {
		if pr, _ := rw.topOverlayPrompt(); pr != nil && strings.Contains(pr.Text(), "incomplete") {
			rw.errorf("the signing dialog of a complete study warns: %q", pr.Text())
		}
	})
	rw.key(fyne.KeyReturn)
	rw.waitUntil("the report signed", 20*time.Second, func() bool { return p.signing == nil })
	rw.do(func() {
		if p.rep.State != report.StateSigned || p.study.StudyInstanceUID != mr.StudyInstanceUID {
			rw.errorf("signing the complete study: %s on %s", p.rep.State, p.study.StudyInstanceUID)
		}
	})
}

// instanceSOP is the SOP Instance UID the cache stored for copy i of
// cachetest.MakeSeries (its UID ends in 10000+i).
func instanceSOP(rw *realWindow, i int) string {
	ins, err := rw.cache.AllInstances()
	if err != nil {
		rw.fatalf("%v", err)
	}
	for _, in := range ins {
		if strings.HasSuffix(in.SOPInstanceUID, fmt.Sprintf("%05d", 10000+i)) {
			return in.SOPInstanceUID
		}
	}
	rw.fatalf("no instance %d stored", i)
	return ""
}

// checkOverlay checks that the viewport's overlay shows position and, in
// amber, incomplete ("" when the overlay must say nothing is missing).
func (rw *realWindow) checkOverlay(vp *viewport, position, incomplete string) {
	if _, ok := findText(vp, position); !ok {
		rw.errorf("the overlay does not say %q: %v", position, textsUnder(vp))
	}
	t, ok := findText(vp, "incomplete")
	switch {
	case incomplete == "" && ok:
		rw.errorf("the overlay of a ready study says %q", t.text)
	case incomplete != "" && (!ok || t.text != incomplete || t.color != colWarning):
		rw.errorf("the overlay says %q in %v; want %q in amber %v", t.text, t.color, incomplete, colWarning)
	}
}

// checkSignDialog checks that the signing dialog is up, holds the keyboard
// and says want (and the patient ID when not "").
func (rw *realWindow) checkSignDialog(want, patientID string) {
	// What the cache holds of the study is read first (off the UI goroutine).
	rw.waitUntil("the signing dialog", 10*time.Second, func() bool { pr, _ := rw.topOverlayPrompt(); return pr != nil && !pr.checking })
	rw.do(func() {
		pr, shown := rw.topOverlayPrompt()
		if !strings.Contains(shown, want) || !strings.Contains(shown, patientID) {
			rw.errorf("the signing dialog says %q; want %q and the patient ID %q", shown, want, patientID)
		}
		if rw.win.Canvas().Focused() != pr {
			rw.errorf("the signing dialog does not hold the keyboard (focus on %T)", rw.win.Canvas().Focused())
		}
	})
}

// topOverlayPrompt returns the signing dialog's prompt on top of the window,
// and the text the dialog draws.
func (rw *realWindow) topOverlayPrompt() (*signPrompt, string) {
	var pr *signPrompt
	top := rw.topOverlay()
	walk(top, func(o fyne.CanvasObject) {
		if x, ok := o.(*signPrompt); ok {
			pr = x
		}
	})
	if pr == nil {
		return nil, ""
	}
	var drawn []string
	for _, t := range textsUnder(top) {
		drawn = append(drawn, t.text)
	}
	return pr, strings.Join(strings.Fields(strings.Join(drawn, " ")), " ")
}

// stateCell returns the State column's cell of a study as the worklist draws it.
func (rw *realWindow) stateCell(uid string) (shownText, bool) {
	var out shownText
	found := false
	walk(rw.ws.worklist.table, func(o fyne.CanvasObject) {
		c, ok := o.(*worklistCell)
		if !ok || c.id.Col != worklist.ColState || c.id.Row >= len(c.s.view.Rows) || c.s.view.Rows[c.id.Row].UID != uid {
			return
		}
		out, found = shownText{c.text.Text, c.text.Color}, true
	})
	return out, found
}

// TestOpenWhileThePullerFetches reads a study while the app's own sync loop
// pulls it from a real Orthanc over a slow link: opened at its first durable
// instances, its stack grows to the whole study as the puller's events arrive,
// the image on screen stays the same instance, and the overlay's warning goes
// when the puller says the study is ready.
func TestOpenWhileThePullerFetches(t *testing.T) {
	const reader, n = "Doe^Jane", 200
	h := newHarness(t)
	srv := orthanctest.New(t, orthanctest.Options{})
	src := filepath.Join(samplesDir(t), "ct_small_explicit_le.dcm")
	paths, err := cachetest.MakeSeries(src, t.TempDir(), n)
	if err != nil {
		t.Fatal(err)
	}
	srv.MustUploadFiles(t, paths...)
	assigned, err := srv.CopyStudy(studyUIDOf(t, src), map[string]string{"NameOfPhysiciansReadingStudy": reader, "StudyDate": "20261127"})
	if err != nil {
		t.Fatal(err)
	}
	// The first 1 MB of a retrieve comes at once, the rest at 1.6 MB/s: the
	// study is readable in part for seconds.
	target, _ := url.Parse(srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(r *http.Response) error {
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/related") {
			r.Body = &slowBody{r: r.Body, fast: 1 << 20}
		}
		return nil
	}
	front := httptest.NewServer(proxy)
	defer front.Close()
	client, err := tsync.New(tsync.Config{BaseURL: front.URL + "/dicom-web"})
	if err != nil {
		t.Fatal(err)
	}
	l := newSyncLoop(h.cache, time.Hour, func(context.Context) (*tsync.Link, error) {
		return &tsync.Link{Client: client, Reader: reader, Display: srv.DICOMwebURL}, nil
	})
	h.ws.sync = l // the workstation closes it
	h.ws.bridge.forwardLatest(l.wake, l.take, h.ws.applyStatus)
	l.start()

	waitFor(t, 60*time.Second, "the study's first instances in the worklist", func() bool {
		h.q.runPending()
		i := h.ws.worklist.view.IndexOf(assigned)
		return i >= 0 && h.ws.worklist.view.Rows[i].Cached
	})
	h.ws.worklist.selectRow(h.ws.worklist.view.IndexOf(assigned))
	h.ws.worklist.table.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	h.settle()
	for range 3 {
		h.key(fyne.KeyDown)
	}
	vp := h.ws.viewer.active
	if vp.study != assigned {
		t.Fatalf("Enter opened %s; want %s", vp.study, assigned)
	}
	// The stack may list the slices not here yet (placeholders, once the
	// archive's listing is in): the images are those not missing.
	first, sop := len(vp.st.Items)-vp.st.CountMissing(), vp.st.Items[vp.index].SOP
	complete := func() bool { c, known := h.ws.viewer.completenessOf(assigned); return known && c.Complete() }
	// What the cache holds is read off the UI goroutine: until it answers
	// the overlay says it is not known.
	waitFor(t, 20*time.Second, "the study's completeness read", func() bool {
		h.q.runPending()
		_, known := h.ws.viewer.completenessOf(assigned)
		return known
	})
	if first >= n || !hasOverlay(vp, "incomplete") {
		t.Fatalf("opened with %d of %d images, overlay %v; want part of the study, said incomplete", first, n, overlayLines(vp))
	}

	waitFor(t, 60*time.Second, "the whole study in the stack and the study ready", func() bool {
		h.q.runPending()
		return len(vp.st.Items) == n && vp.st.CountMissing() == 0 && complete()
	})
	h.settle()
	if got := vp.st.Items[vp.index].SOP; got != sop || vp.last.req.item.SOP != sop {
		t.Errorf("after the download: image %d is %s (painted %s); want %s, the image the reader was on", vp.index, got, vp.last.req.item.SOP, sop)
	}
	if hasOverlay(vp, "incomplete") {
		t.Errorf("the overlay of the ready study still warns: %v", overlayLines(vp))
	}
	t.Logf("opened at %d of %d images; grew to %d with the image kept at index %d", first, n, len(vp.st.Items), vp.index)
}

// hasOverlay reports whether a line of the viewport's overlay contains s.
func hasOverlay(vp *viewport, s string) bool {
	for _, corner := range overlayLines(vp) {
		for _, l := range corner {
			if strings.Contains(l.text, s) {
				return true
			}
		}
	}
	return false
}
