package app

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"teleread/app/internal/format"
	"teleread/app/internal/reading"
	"teleread/cache"
	"teleread/viewer"
)

// Layouts of the viewport grid.
var layouts = []struct {
	name       string
	cols, rows int
}{{"1x1", 1, 1}, {"1x2", 2, 1}, {"2x2", 2, 2}}

// screenHost is what the viewer screen needs of the window around it: the
// report panel's host, dialogs, the status bar, the other screens, the
// window's tool and shortcuts, and the sync service's slices.
type screenHost interface {
	reportHost
	showModal(dialog.Dialog)
	updateStatus()
	showWorklist()
	showTags()
	showHelp()
	// activeTool is what a left-button drag does; useTool changes it (the
	// toolbar's choice).
	activeTool() tool
	useTool(tool)
	typedKey(*fyne.KeyEvent)
	typedRune(rune)
	// sliceSource fetches what the cache lacks of a study being read.
	sliceSource() sliceSource
}

// viewerScreen is one study open for reading: series thumbnails, the viewport
// grid, the toolbar and the report panel.
type viewerScreen struct {
	host      screenHost
	store     *cache.Cache // the studies read (the stacks' items open their instances through it)
	study     cache.Study
	stacks    []*reading.Stack
	viewports []*viewport
	// complete is what the cache holds of the studies shown (the open one and
	// its prior), kept up to date by sync events (partial.go).
	complete map[string]cache.Completeness
	// checking is the studies whose first completeness read is under way.
	checking map[string]bool
	// gen counts the studies opened, so that an answer for an earlier one
	// is dropped. listed and listing are the open study's series as the
	// archive lists them and those being asked for; sliceErr says why a
	// slice the cache lacks could not be fetched (missing.go).
	gen      int
	listed   map[string][]reading.Listed
	listing  map[string]bool
	sliceErr map[string]error
	fetcher  *sliceFetcher
	reader   *studyReader // reads a study shown again after a sync event (partial.go)
	active   *viewport
	layout   int

	// stackReads are the studies whose stacks are being read for the
	// comparison (prior.go), by UID.
	stackReads map[string]bool
	// placing says slice positions are being read for the link (whenPlaced,
	// prior.go); placeWaiting wait for that read to end.
	placing      bool
	placeWaiting []placeRequest

	// The most recent cached prior of the study's patient (same Patient ID), its
	// stacks once compared, and the comparison's state (viewport 0 the study,
	// viewport 1 the prior). other is a study the worklist lists as a prior but
	// under another Patient ID: never paired, its series offered only once the
	// reader asked to compare, each shown only after confirming.
	prior       *cache.Study
	priorStacks []*reading.Stack
	other       *cache.Study
	otherStacks []*reading.Stack
	showOther   bool
	comparing   bool
	linked      bool
	following   bool
	link        reading.Link
	compareBtn  *widget.Button
	linkBtn     *widget.Button

	grid      *fyne.Container
	thumbs    *fyne.Container
	toolbar   *fyne.Container
	toolSel   *widget.Select
	presetSel *widget.Select
	cineBtn   *widget.Button
	speedSel  *widget.Select
	modeSel   *widget.Select
	report    *reportPanel
	split     *container.Split
	content   fyne.CanvasObject
}

func newViewerScreen(host screenHost, store *cache.Cache, now func() time.Time, newRenderer NewRendererFunc, metrics *Metrics) *viewerScreen {
	s := &viewerScreen{host: host, store: store, linked: true,
		listed: map[string][]reading.Listed{}, listing: map[string]bool{}, sliceErr: map[string]error{}, stackReads: map[string]bool{}}
	s.fetcher = newSliceFetcher(store, func(r sliceResult) { ui(func() { s.sliceFetched(r) }) })
	s.reader = newStudyReader(store, func(r studyReading) { ui(func() { s.studyRead(r) }) })
	for range 4 {
		vp := newViewport(s, newRenderer, metrics)
		vp.changed = s.syncToolbar
		s.viewports = append(s.viewports, vp)
	}
	s.grid = container.NewGridWithColumns(1)
	s.thumbs = container.NewVBox()
	s.report = newReportPanel(host, store, now)
	s.buildToolbar()
	thumbScroll := container.NewVScroll(s.thumbs)
	thumbScroll.SetMinSize(fyne.NewSize(132, 100))
	left := container.NewBorder(nil, nil, thumbScroll, nil, s.grid)
	s.split = container.NewHSplit(left, s.report.content)
	s.split.Offset = 0.76
	s.content = container.NewBorder(s.toolbar, nil, nil, nil, s.split)
	s.setLayout(0)
	s.setActive(s.viewports[0])
	return s
}

func (s *viewerScreen) close() {
	s.fetcher.close()
	s.reader.close()
	for _, vp := range s.viewports {
		vp.close()
	}
}

// leave is the reader going to another study (UI goroutine): cine stops
// and the report typed so far is handed to the draft saver, which writes
// it before the next study's report is read.
func (s *viewerScreen) leave() {
	for _, vp := range s.viewports {
		vp.stopCine()
	}
	s.report.leave()
}

// open shows a study read from the cache (readStudy): its image series as
// thumbnails, the first series in the first viewport (the next ones in the
// others), its report. All of it changes here, at once, on the UI
// goroutine: nothing of the study shown before stays beside it.
func (s *viewerScreen) open(o studyOpening) {
	st := o.study
	s.study = st
	s.stacks = o.stacks
	s.complete = map[string]cache.Completeness{}
	if o.compKnown {
		s.complete[st.StudyInstanceUID] = o.comp // the overlay and the listing know it from the first paint
	}
	s.gen++
	s.listed, s.listing, s.sliceErr = map[string][]reading.Listed{}, map[string]bool{}, map[string]error{}
	s.stackReads = map[string]bool{}
	s.placing, s.placeWaiting = false, nil
	s.comparing, s.linked, s.link, s.priorStacks, s.prior = false, true, reading.Link{}, nil, o.prior
	s.other, s.otherStacks, s.showOther = o.other, nil, false
	for i, vp := range s.viewports {
		if i < len(s.stacks) && i < s.cells() {
			vp.setStack(st.StudyInstanceUID, s.stacks[i])
		} else if len(s.stacks) > 0 && i == 0 {
			vp.setStack(st.StudyInstanceUID, s.stacks[0])
		} else {
			vp.clear()
		}
	}
	s.buildThumbs()
	s.setActive(s.viewports[0])
	s.syncCompareButtons()
	s.report.open(st, o.report, o.reportErr)
	s.listMissing(s.stacks)
}

func (s *viewerScreen) cells() int { return layouts[s.layout].cols * layouts[s.layout].rows }

// setLayout shows 1x1, 1x2 or 2x2 viewports.
func (s *viewerScreen) setLayout(i int) {
	s.layout = i
	l := layouts[i]
	objs := make([]fyne.CanvasObject, 0, 4)
	for k := 0; k < l.cols*l.rows; k++ {
		objs = append(objs, s.viewports[k])
		// An empty viewport gets the next series not shown yet.
		if vp := s.viewports[k]; vp.st == nil && k < len(s.stacks) {
			vp.setStack(s.study.StudyInstanceUID, s.stacks[k])
		}
	}
	s.grid.Layout = layout.NewGridLayoutWithColumns(l.cols)
	s.grid.Objects = objs
	s.grid.Refresh()
	if s.active != nil && indexOf(s.viewports[:l.cols*l.rows], s.active) < 0 {
		s.setActive(s.viewports[0])
	}
}

func indexOf(vps []*viewport, v *viewport) int {
	for i, x := range vps {
		if x == v {
			return i
		}
	}
	return -1
}

func (s *viewerScreen) setActive(v *viewport) {
	if s.active == v {
		return
	}
	for _, vp := range s.viewports {
		vp.active = vp == v
		vp.Refresh()
	}
	s.active = v
	s.syncToolbar()
}

// offer shows a series the reader chose (a tap or a drop on a thumbnail) in a
// viewport. A series of another patient than the open study's (by Patient ID)
// is shown only after the reader confirms, and then under a red OTHER PATIENT
// banner.
func (s *viewerScreen) offer(vp *viewport, study string, st *reading.Stack) {
	other := s.studyByUID(study)
	if other == nil {
		// Not a study shown: whose it is was never checked, so it is not shown.
		s.host.note("That series is of no study shown here")
		return
	}
	if other.PatientID == s.study.PatientID {
		s.loadInto(vp, study, st)
		return
	}
	msg := fmt.Sprintf("This series is of another patient:\n\n    %s, ID %s (study of %s)\n\nThe open study is of:\n\n    %s, ID %s\n\nShow it in this viewport?",
		orNone(format.PersonName(other.PatientName), "(no patient name)"), orNone(other.PatientID, "(none)"), orNone(format.Date(other.StudyDate), "(no date)"),
		orNone(format.PersonName(s.study.PatientName), "(no patient name)"), orNone(s.study.PatientID, "(none)"))
	d := dialog.NewConfirm("Another patient", msg, func(yes bool) {
		if yes {
			s.loadInto(vp, study, st)
		}
		s.host.focusViewer()
	}, s.host.window())
	d.SetConfirmText("Show the other patient")
	d.SetDismissText("Cancel")
	s.host.showModal(d)
}

// studyByUID returns a study shown by UID: the open one, its prior, the
// other-patient one; nil for any other (the thumbnails offer only these).
func (s *viewerScreen) studyByUID(uid string) *cache.Study {
	for _, st := range []*cache.Study{&s.study, s.prior, s.other} {
		if st != nil && st.StudyInstanceUID == uid {
			return st
		}
	}
	return nil
}

// loadInto shows a series of a study (the open one or its prior) in a
// viewport; a linked comparison keeps it at the place of its partner.
func (s *viewerScreen) loadInto(vp *viewport, study string, st *reading.Stack) {
	var partner *viewport
	fromLeft := false
	if s.comparing && s.linked {
		switch {
		case vp == s.viewports[0] && s.viewports[1].st != nil:
			partner = s.viewports[1]
		case vp == s.viewports[1] && s.viewports[0].st != nil:
			partner, fromLeft = s.viewports[0], true
		}
	}
	switch {
	case partner != nil && partner.st.Placed() && st.Placed():
		vp.setStackAt(study, st, s.link.Follow(partner.st, st, partner.index, fromLeft))
	case partner != nil:
		// The link needs the new series' slice positions: it shows at once
		// and joins its partner's place once they are read.
		vp.setStack(study, st)
		s.whenPlaced([]*reading.Stack{partner.st, st}, func() {
			if vp.st == st && s.comparing && s.linked {
				s.moved(partner)
			}
		})
	default:
		vp.setStack(study, st)
	}
	s.syncToolbar()
}

// nextSeries moves the active viewport to the next or previous series.
func (s *viewerScreen) nextSeries(n int) {
	if s.active == nil || s.active.st == nil || len(s.stacks) == 0 {
		return
	}
	cur := 0
	stacks, study := s.stacks, s.study.StudyInstanceUID
	if s.prior != nil && s.active.study == s.prior.StudyInstanceUID && len(s.priorStacks) > 0 {
		stacks, study = s.priorStacks, s.prior.StudyInstanceUID
	}
	if s.other != nil && s.active.study == s.other.StudyInstanceUID && len(s.otherStacks) > 0 {
		stacks, study = s.otherStacks, s.other.StudyInstanceUID // the reader confirmed this patient
	}
	for i, st := range stacks {
		if st == s.active.st {
			cur = i
		}
	}
	s.loadInto(s.active, study, stacks[min(max(cur+n, 0), len(stacks)-1)])
}

func (s *viewerScreen) buildToolbar() {
	host := s.host
	back := widget.NewButtonWithIcon("Worklist", theme.NavigateBackIcon(), host.showWorklist)
	var layoutBtns []fyne.CanvasObject
	for i, l := range layouts {
		layoutBtns = append(layoutBtns, widget.NewButton(l.name, func() { s.setLayout(i) }))
	}
	s.toolSel = widget.NewSelect(toolNames, func(name string) {
		for i, n := range toolNames {
			if n == name {
				host.useTool(tool(i))
			}
		}
		host.focusViewer()
	})
	s.toolSel.SetSelectedIndex(0)
	s.presetSel = widget.NewSelect(nil, func(name string) {
		for i, p := range s.presets() {
			if presetLabel(i, p) == name {
				s.applyPreset(i)
			}
		}
	})
	s.presetSel.PlaceHolder = "Window presets"
	act := func(f func(v *viewport)) func() {
		return func() {
			if s.active != nil {
				f(s.active)
			}
			host.focusViewer()
		}
	}
	s.cineBtn = widget.NewButtonWithIcon("Play", theme.MediaPlayIcon(), act((*viewport).toggleCine))
	s.speedSel = widget.NewSelect([]string{"x0.25", "x0.5", "x1", "x2", "x4"}, func(v string) {
		var f float64
		fmt.Sscanf(v, "x%g", &f)
		if s.active != nil && f > 0 && f != s.active.cineSpeed {
			s.active.setCineSpeed(f)
		}
	})
	s.speedSel.SetSelected("x1")
	s.modeSel = widget.NewSelect([]string{"loop", "sweep"}, func(v string) {
		m := viewer.Looping
		if v == "sweep" {
			m = viewer.Sweeping
		}
		if s.active != nil && m != s.active.cineMode {
			s.active.setCineMode(m)
		}
	})
	s.modeSel.SetSelected("loop")
	s.compareBtn = widget.NewButtonWithIcon("Compare with prior", theme.ViewRestoreIcon(), s.toggleCompare)
	s.linkBtn = widget.NewButtonWithIcon("Linked", theme.MediaReplayIcon(), s.toggleLink)
	bar := []fyne.CanvasObject{back, widget.NewSeparator()}
	bar = append(bar, layoutBtns...)
	bar = append(bar, s.compareBtn, s.linkBtn)
	bar = append(bar, widget.NewSeparator(), s.toolSel, s.presetSel,
		widget.NewButton("Invert", act((*viewport).toggleInvert)),
		widget.NewButtonWithIcon("", theme.ViewRefreshIcon(), act(func(v *viewport) { v.rotate(1) })),
		widget.NewButton("Flip H", act(func(v *viewport) { v.flip(true) })),
		widget.NewButton("Flip V", act(func(v *viewport) { v.flip(false) })),
		widget.NewButtonWithIcon("Fit", theme.ViewFullScreenIcon(), act((*viewport).fit)),
		widget.NewButton("1:1", act((*viewport).actualSize)),
		widget.NewButtonWithIcon("Reset", theme.ViewRestoreIcon(), act((*viewport).reset)),
		widget.NewSeparator(),
		widget.NewButtonWithIcon("", theme.MediaSkipPreviousIcon(), act(func(v *viewport) { v.stepFrame(-1) })),
		s.cineBtn,
		widget.NewButtonWithIcon("", theme.MediaSkipNextIcon(), act(func(v *viewport) { v.stepFrame(1) })),
		s.speedSel, s.modeSel,
		widget.NewSeparator(),
		widget.NewButton("Tags", host.showTags),
		widget.NewButtonWithIcon("", theme.HelpIcon(), host.showHelp),
	)
	s.toolbar = container.NewHBox(bar...)
}

// presets returns the active image's window presets: the file's windows, then
// the CT presets for CT images.
func (s *viewerScreen) presets() []viewer.Preset {
	if s.active == nil || !s.active.hasLast {
		return nil
	}
	return presetsFor(s.active.last)
}

// syncToolbar makes the toolbar show the active viewport's state.
func (s *viewerScreen) syncToolbar() {
	if s.toolSel == nil || s.active == nil {
		return
	}
	var names []string
	for i, p := range s.presets() {
		names = append(names, presetLabel(i, p))
	}
	s.presetSel.Options = names
	s.presetSel.Refresh()
	if s.active.playing() {
		s.cineBtn.SetText("Pause")
		s.cineBtn.SetIcon(theme.MediaPauseIcon())
	} else {
		s.cineBtn.SetText("Play")
		s.cineBtn.SetIcon(theme.MediaPlayIcon())
	}
	if s.active.multiFrame() {
		s.cineBtn.Enable()
	} else {
		s.cineBtn.Disable()
	}
	s.host.updateStatus()
}

// applyPreset applies preset i of the active image.
func (s *viewerScreen) applyPreset(i int) {
	vp := s.active
	if vp == nil {
		return
	}
	ps := presetsFor(vp.last)
	if i < 0 || i >= len(ps) {
		return
	}
	vp.setWindow(ps[i].Window)
}

// The viewports' view of the screen (viewportHost).
var _ viewportHost = (*viewerScreen)(nil)

func (s *viewerScreen) activeTool() tool           { return s.host.activeTool() }
func (s *viewerScreen) typedKey(ev *fyne.KeyEvent) { s.host.typedKey(ev) }
func (s *viewerScreen) typedRune(r rune)           { s.host.typedRune(r) }

func (s *viewerScreen) openStudy() (studyUID, patientID string) {
	return s.study.StudyInstanceUID, s.study.PatientID
}
