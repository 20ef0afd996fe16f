package app

import (
	"fmt"
	"image"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"teleread/cache"
	"teleread/viewer"
)

// Layouts of the viewport grid.
var layouts = []struct {
	name       string
	cols, rows int
}{{"1x1", 1, 1}, {"1x2", 2, 1}, {"2x2", 2, 2}}

// viewerScreen is one study open for reading: series thumbnails, the viewport
// grid, the toolbar and the report panel.
type viewerScreen struct {
	ws        *workstation
	study     cache.Study
	stacks    []*stack
	viewports []*viewport
	active    *viewport
	layout    int

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

func newViewerScreen(ws *workstation) *viewerScreen {
	s := &viewerScreen{ws: ws}
	for range 4 {
		vp := newViewport(ws)
		vp.changed = s.syncToolbar
		s.viewports = append(s.viewports, vp)
	}
	s.grid = container.NewGridWithColumns(1)
	s.thumbs = container.NewVBox()
	s.report = newReportPanel(ws)
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
	for _, vp := range s.viewports {
		vp.close()
	}
}

// open loads a study: its image series as thumbnails, the first series in the
// first viewport (the next ones in the others).
func (s *viewerScreen) open(st cache.Study) error {
	series, err := s.ws.cfg.Cache.SeriesOf(st.StudyInstanceUID)
	if err != nil {
		return err
	}
	s.study = st
	s.stacks = s.stacks[:0]
	for _, se := range series {
		if !imageSeries(se) {
			continue
		}
		ins, err := s.ws.cfg.Cache.InstancesOf(se.SeriesInstanceUID)
		if err != nil {
			return err
		}
		if sk := newStack(se, ins); len(sk.Items) > 0 {
			s.stacks = append(s.stacks, sk)
		}
	}
	for i, vp := range s.viewports {
		if i < len(s.stacks) && i < s.cells() {
			vp.setStack(st.StudyInstanceUID, s.stacks[i])
		} else if len(s.stacks) > 0 && i == 0 {
			vp.setStack(st.StudyInstanceUID, s.stacks[0])
		} else {
			vp.stopCine()
			vp.st = nil
			vp.hasLast = false
			vp.Refresh()
		}
	}
	s.buildThumbs()
	s.setActive(s.viewports[0])
	s.report.open(st)
	return nil
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

// showSeries puts stack i into the active viewport.
func (s *viewerScreen) showSeries(i int) {
	if i < 0 || i >= len(s.stacks) || s.active == nil {
		return
	}
	s.active.setStack(s.study.StudyInstanceUID, s.stacks[i])
	s.syncToolbar()
}

// nextSeries moves the active viewport to the next or previous series.
func (s *viewerScreen) nextSeries(n int) {
	if s.active == nil || s.active.st == nil || len(s.stacks) == 0 {
		return
	}
	cur := 0
	for i, st := range s.stacks {
		if st == s.active.st {
			cur = i
		}
	}
	s.showSeries(min(max(cur+n, 0), len(s.stacks)-1))
}

func (s *viewerScreen) buildToolbar() {
	ws := s.ws
	back := widget.NewButtonWithIcon("Worklist", theme.NavigateBackIcon(), ws.showWorklist)
	var layoutBtns []fyne.CanvasObject
	for i, l := range layouts {
		layoutBtns = append(layoutBtns, widget.NewButton(l.name, func() { s.setLayout(i) }))
	}
	s.toolSel = widget.NewSelect(toolNames, func(name string) {
		for i, n := range toolNames {
			if n == name {
				ws.tool = tool(i)
			}
		}
		ws.focusViewer()
	})
	s.toolSel.SetSelectedIndex(0)
	s.presetSel = widget.NewSelect(nil, func(name string) {
		for i, p := range s.presets() {
			if presetLabel(i, p) == name {
				ws.applyPreset(i)
			}
		}
	})
	s.presetSel.PlaceHolder = "Window presets"
	act := func(f func(v *viewport)) func() {
		return func() {
			if s.active != nil {
				f(s.active)
			}
			ws.focusViewer()
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
	bar := []fyne.CanvasObject{back, widget.NewSeparator()}
	bar = append(bar, layoutBtns...)
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
		widget.NewButton("Tags", ws.showTags),
		widget.NewButtonWithIcon("", theme.HelpIcon(), ws.showHelp),
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
	s.ws.updateStatus()
}

// buildThumbs makes one thumbnail per series; the pictures are rendered off the
// UI goroutine and appear as they are ready.
func (s *viewerScreen) buildThumbs() {
	s.thumbs.Objects = nil
	for i, st := range s.stacks {
		t := newThumb(s, i, st)
		s.thumbs.Objects = append(s.thumbs.Objects, t)
	}
	s.thumbs.Refresh()
}

// thumb is a series thumbnail: its middle image, number, modality, description
// and image count. A tap shows the series in the active viewport.
type thumb struct {
	widget.BaseWidget
	s     *viewerScreen
	index int
	img   *canvas.Image
	label *widget.Label
}

const thumbSize = 120

func newThumb(s *viewerScreen, i int, st *stack) *thumb {
	t := &thumb{s: s, index: i}
	t.img = canvas.NewImageFromImage(blankImage(4, 3))
	t.img.FillMode = canvas.ImageFillContain
	t.img.SetMinSize(fyne.NewSize(thumbSize, thumbSize*0.8))
	desc := st.Series.Description
	if len(desc) > 18 {
		desc = desc[:18] + "…"
	}
	t.label = widget.NewLabel(fmt.Sprintf("S%d %s  %d\n%s", st.Series.SeriesNumber, st.Series.Modality, len(st.Items), desc))
	t.label.TextStyle.Monospace = false
	t.ExtendBaseWidget(t)
	go func() {
		pic := renderThumb(st)
		if pic != nil {
			ui(func() {
				t.img.Image = pic
				t.img.Refresh()
			})
		}
	}()
	return t
}

// renderThumb draws the stack's middle image (first frame of a cine) small.
func renderThumb(st *stack) image.Image {
	it := st.Items[len(st.Items)/2]
	if it.Frames > 1 {
		it = st.Items[0]
	}
	img, err := viewer.Open(it.Path)
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
	t.s.showSeries(t.index)
	t.s.ws.focusViewer()
}

func (t *thumb) CreateRenderer() fyne.WidgetRenderer {
	bg := canvas.NewRectangle(color.NRGBA{R: 0x0c, G: 0x0d, B: 0x10, A: 0xff})
	return widget.NewSimpleRenderer(container.NewStack(bg, container.NewVBox(t.img, t.label)))
}
