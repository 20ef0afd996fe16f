package app

import (
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"teleread/app/internal/format"
	"teleread/cache"
)

func init() {
	guiScenarios["open-off-ui"] = openOffUIScenario
	guiScenarios["open-newest-wins"] = openNewestWinsScenario
}

// TestOpenStudyOffUIGoroutine: opening a study reads the cache on a
// goroutine that is not the UI goroutine; while that read is held, the real
// window answers and says the study is opening, showing nothing of it;
// released, the study is shown with its images.
func TestOpenStudyOffUIGoroutine(t *testing.T) {
	runInRealWindow(t, "open-off-ui")
}

// TestOpenNewestStudyWins: the reader opens study A, whose read is slow, then
// study B. B is shown as soon as it is read, while A's read is still held,
// and stays shown after A's read returns: A's patient never reaches the
// screen, and A is not recorded as shown.
func TestOpenNewestStudyWins(t *testing.T) {
	home := runInRealWindow(t, "open-newest-wins")
	evs, err := cache.ReadAudit(filepath.Join(home, "cache"), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var opened []string
	for _, e := range evs {
		if e.Action == cache.AuditOpen {
			opened = append(opened, e.Study)
		}
	}
	// The scenario opened A (ct_small_explicit_le.dcm) and then B
	// (mr_small_explicit_le.dcm).
	const b = "1.3.6.1.4.1.5962.1.2.4.20040826185059.5457"
	if len(opened) != 1 || opened[0] != b {
		t.Errorf("audited opens %q, want only B [%s]", opened, b)
	}
}

// importSample imports a sample file into the real window's cache and
// returns its study.
func (rw *realWindow) importSample(name string) cache.Study {
	src := filepath.Join(rw.samples, name)
	res, err := rw.cache.ImportFile(src)
	if err != nil {
		rw.fatalf("import %s: %v", src, err)
	}
	st, err := rw.cache.StudyByUID(res.StudyInstanceUID)
	if err != nil {
		rw.fatalf("%v", err)
	}
	return st
}

// windowText is every text drawn in the window, one a line (UI goroutine).
func (rw *realWindow) windowText() string {
	var lines []string
	for _, t := range textsUnder(rw.win.Content()) {
		lines = append(lines, t.text)
	}
	return strings.Join(lines, "\n")
}

func openOffUIScenario(rw *realWindow) {
	st := rw.importSample("ct_small_explicit_le.dcm")
	uid, name := st.StudyInstanceUID, format.PersonName(st.PatientName)
	rw.reloadWorklist()
	var uiG uint64
	rw.do(func() { uiG = goroutineID() })

	// The read is held until released, and says where it ran.
	ran := make(chan uint64, 8)
	release := make(chan struct{})
	var once gosync.Once
	free := func() { once.Do(func() { close(release) }) }
	defer free()
	var read func(string) studyOpening
	rw.do(func() { read = rw.ws.opener.reader() })
	rw.ws.opener.setRead(func(u string) studyOpening {
		ran <- goroutineID()
		<-release
		return read(u)
	})

	// Enter on the worklist's row, without waiting: a read on the UI
	// goroutine would hold it.
	fyne.Do(func() {
		rw.ws.worklist.selectRow(rw.ws.worklist.view.IndexOf(uid))
		rw.win.Canvas().Focus(rw.ws.worklist.table)
		rw.ws.worklist.table.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	})
	var readG uint64
	select {
	case readG = <-ran:
	case <-time.After(20 * time.Second):
		rw.fatalf("Enter on the worklist never read the study")
	}
	if readG == uiG {
		rw.errorf("the study was read on the UI goroutine (%d)", uiG)
	}

	// The window answers while the read is held, within a second or two
	// on a loaded machine, and says the study is opening: nothing of it is
	// on screen yet.
	answered := make(chan string, 1)
	go func() {
		fyne.DoAndWait(func() {
			text := rw.windowText()
			if rw.ws.onViewer || !rw.ws.opening() {
				text += "\n(the viewer is shown)"
			}
			answered <- text
		})
	}()
	select {
	case text := <-answered:
		if !strings.Contains(text, "Opening study…") {
			rw.errorf("while the study is read the window does not say it is opening:\n%s", text)
		}
		if strings.Contains(text, name) || strings.Contains(text, "(the viewer is shown)") {
			rw.errorf("the study is on screen before its read returned:\n%s", text)
		}
	case <-time.After(5 * time.Second):
		free() // the UI goroutine is the one held: let it go to end the scenario
		rw.fatalf("the window did not answer for 5 s while the study's read was held")
	}

	free()
	rw.waitShown()
	rw.do(func() {
		s := rw.ws.viewer
		if !rw.ws.onViewer || s.study.StudyInstanceUID != uid {
			rw.fatalf("released, the viewer shows %v, study %s; want %s", rw.ws.onViewer, s.study.StudyInstanceUID, uid)
		}
		if p, ok := s.active.onScreen(); !ok || p.who.StudyUID != uid {
			rw.errorf("released, the active viewport paints no image of the study")
		}
		if text := rw.windowText(); !strings.Contains(text, name) || strings.Contains(text, "Opening study…") {
			rw.errorf("released, the window does not name the patient %q, or still says opening:\n%s", name, text)
		}
	})
}

func openNewestWinsScenario(rw *realWindow) {
	a := rw.importSample("ct_small_explicit_le.dcm")
	b := rw.importSample("mr_small_explicit_le.dcm")
	nameA, nameB := format.PersonName(a.PatientName), format.PersonName(b.PatientName)
	if nameA == "" || nameB == "" || strings.Contains(nameA, nameB) || strings.Contains(nameB, nameA) {
		rw.fatalf("the samples' patient names %q and %q do not tell the studies apart", nameA, nameB)
	}
	rw.reloadWorklist()

	// A's read is held until released; B's is not.
	heldA := make(chan struct{}, 1)
	releaseA := make(chan struct{})
	var once gosync.Once
	freeA := func() { once.Do(func() { close(releaseA) }) }
	defer freeA()
	var read func(string) studyOpening
	rw.do(func() { read = rw.ws.opener.reader() })
	rw.ws.opener.setRead(func(u string) studyOpening {
		res := read(u)
		if u == a.StudyInstanceUID {
			heldA <- struct{}{}
			<-releaseA
		}
		return res
	})
	var gen0 int
	rw.do(func() {
		gen0 = rw.ws.viewer.gen
		rw.ws.openStudy(a.StudyInstanceUID)
	})
	select {
	case <-heldA:
	case <-time.After(20 * time.Second):
		rw.fatalf("A was never read")
	}
	rw.do(func() { rw.ws.openStudy(b.StudyInstanceUID) })

	// B shows while A's read is still held, A never did.
	check := func(when string) {
		rw.do(func() {
			s := rw.ws.viewer
			if s.gen != gen0+1 || s.study.StudyInstanceUID != b.StudyInstanceUID {
				rw.errorf("%s: the viewer was given %d studies, the last %s; want only B (%s)", when, s.gen-gen0, s.study.StudyInstanceUID, b.StudyInstanceUID)
			}
			if s.report.study.StudyInstanceUID != b.StudyInstanceUID {
				rw.errorf("%s: the report panel is of %s, want B", when, s.report.study.StudyInstanceUID)
			}
			for _, vp := range s.viewports[:s.cells()] {
				if p, ok := vp.onScreen(); ok && p.who.StudyUID != b.StudyInstanceUID {
					rw.errorf("%s: a viewport paints an image of %s", when, p.who.StudyUID)
				}
			}
			if p, ok := s.active.onScreen(); !ok || p.who.StudyUID != b.StudyInstanceUID {
				rw.errorf("%s: the active viewport paints no image of B", when)
			}
			text := rw.windowText()
			if !strings.Contains(text, nameB) || strings.Contains(text, nameA) {
				rw.errorf("%s: the window should name B's patient %q and not A's %q:\n%s", when, nameB, nameA, text)
			}
		})
	}
	rw.waitShown()
	check("B read, A's read held")

	// A's read returns: its answer reaches the UI goroutine and is dropped.
	freeA()
	rw.waitUntil("A's answer", 20*time.Second, func() bool { return rw.ws.opener.Idle() })
	rw.waitShown()
	check("after A's read returned")
}

// TestOpenFailureSaysWhyInStatusLine: a study that cannot be read is not
// shown; the worklist stays, and the status line (no dialog) names the
// study and why.
func TestOpenFailureSaysWhyInStatusLine(t *testing.T) {
	h := newHarness(t)
	const gone = "1.2.826.0.1.3680043.10.16.404"
	h.ws.openStudy(gone)
	settleOpen(t, h.ws, h.q)
	if h.ws.onViewer || len(h.ws.body.Objects) != 1 || h.ws.body.Objects[0] != h.ws.worklist.content {
		t.Fatalf("after a failed open the window shows %v (viewer %v), want the worklist", h.ws.body.Objects, h.ws.onViewer)
	}
	if msg := h.ws.status.message.Text; !strings.Contains(msg, gone) || !strings.Contains(msg, "not found") {
		t.Errorf("the status line says %q, want the study and that it is not found", msg)
	}
	if top := h.win.Canvas().Overlays().Top(); top != nil {
		t.Errorf("a dialog is on screen after a failed open: %T", top)
	}
}

// TestEscWhileOpeningGoesBackToWorklist: Esc while a study is read goes
// back to the worklist, and the study read afterwards is not shown.
func TestEscWhileOpeningGoesBackToWorklist(t *testing.T) {
	h := newHarness(t)
	uid := h.ws.worklist.view.Rows[0].UID
	release := make(chan struct{})
	var once gosync.Once
	free := func() { once.Do(func() { close(release) }) }
	defer free()
	read := h.ws.opener.reader()
	h.ws.opener.setRead(func(u string) studyOpening {
		<-release
		return read(u)
	})
	h.ws.openStudy(uid)
	if !h.ws.opening() || h.ws.body.Objects[0] != h.ws.openingView {
		t.Fatal("the window does not say the study is opening while it is read")
	}
	h.ws.typedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if h.ws.opening() || h.ws.body.Objects[0] != h.ws.worklist.content {
		t.Fatal("Esc while opening did not go back to the worklist")
	}
	free()
	deadline := time.Now().Add(20 * time.Second)
	for h.q.runPending(); !h.ws.opener.Idle(); h.q.runPending() {
		if time.Now().After(deadline) {
			t.Fatal("the read never answered")
		}
		time.Sleep(time.Millisecond)
	}
	if h.ws.onViewer || h.ws.body.Objects[0] != h.ws.worklist.content || h.ws.viewer.study.StudyInstanceUID == uid {
		t.Errorf("the study read after Esc is shown (viewer %v, study %s)", h.ws.onViewer, h.ws.viewer.study.StudyInstanceUID)
	}
}

// TestComparePriorReadOffUIGoroutine: K reads the prior's stacks off the
// UI goroutine (here the test's, which runs the queued UI work): the
// comparison starts once they are read, the status line saying so meanwhile.
func TestComparePriorReadOffUIGoroutine(t *testing.T) {
	const cur, prior = "1.2.826.0.1.3680043.10.16.1", "1.2.826.0.1.3680043.10.16.2"
	h := newHarness(t)
	dir := t.TempDir()
	writeSeries(t, dir, seriesSpec{"cur", "TLR-OPEN-1", cur, cur + ".1", "20260110", "CT CHEST", steps(0, 5, 3)})
	writeSeries(t, dir, seriesSpec{"prior", "TLR-OPEN-1", prior, prior + ".1", "20250110", "CT CHEST", steps(0, 5, 3)})
	if sum := h.cache.ImportPaths([]string{dir}, nil); sum.Imported != 6 {
		t.Fatalf("import: %+v", sum)
	}
	h.reloadWorklist()
	h.openStudy(cur)
	s := h.ws.viewer
	h.ws.typedKey(&fyne.KeyEvent{Name: fyne.KeyK})
	if s.comparing || !s.readingStacks() {
		t.Fatalf("K read the prior on the UI goroutine: comparing %v at once", s.comparing)
	}
	if msg := h.ws.status.message.Text; !strings.Contains(msg, "reading its images") {
		t.Errorf("while the prior is read the status line says %q", msg)
	}
	h.settleAll()
	if !s.comparing || s.viewports[1].study != prior {
		t.Errorf("the prior read, comparing %v, right viewport %q; want %s", s.comparing, s.viewports[1].study, prior)
	}
}

// TestDraftFollowsTheReaderBetweenStudies: the text typed in one study's
// report is there when the reader comes back to it after opening another
// straight from the viewer (no autosave waited for): the draft is written
// before the study's report is read again.
func TestDraftFollowsTheReaderBetweenStudies(t *testing.T) {
	h := newHarness(t)
	rows := h.ws.worklist.view.Rows
	if len(rows) < 2 {
		t.Fatalf("%d sample studies, want two", len(rows))
	}
	a, b := rows[0].UID, rows[1].UID
	h.openStudy(a)
	const text = "Typed just before leaving."
	h.ws.viewer.report.findings.SetText(text)
	h.openStudy(b)
	if got := h.ws.viewer.report.findings.Text; got == text {
		t.Fatalf("study %s shows the findings typed in %s", b, a)
	}
	h.openStudy(a)
	if got := h.ws.viewer.report.findings.Text; got != text {
		t.Errorf("back in %s the findings are %q, want %q", a, got, text)
	}
}
