package app

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"teleread/app/internal/worklist"
	tsync "teleread/sync"
	"teleread/viewer"
)

func TestWorklistShowsCachedStudies(t *testing.T) {
	h := newHarness(t)
	studies, err := h.cache.Studies()
	if err != nil {
		t.Fatal(err)
	}
	if got := len(h.ws.worklist.view.Rows); got != len(studies) || got == 0 {
		t.Fatalf("worklist rows = %d, cached studies = %d", got, len(studies))
	}
	tests := []struct {
		name   string
		filter string
		want   func(r worklist.Row) bool
	}{
		{"by modality", "CT", func(r worklist.Row) bool { return strings.Contains(r.Modalities, "CT") }},
		{"by state", "ready", func(r worklist.Row) bool { return r.State == "ready" }},
		{"nothing", "no-such-patient-xyz", func(worklist.Row) bool { return false }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.ws.worklist.filter.SetText(tc.filter)
			want := 0
			for _, r := range h.ws.worklist.view.All {
				if tc.want(r) || (tc.filter == "CT" && strings.Contains(strings.ToLower(r.Description+r.PatientName), "ct")) {
					want++
				}
			}
			if got := len(h.ws.worklist.view.Rows); got != want {
				t.Errorf("filter %q: %d rows, want %d", tc.filter, got, want)
			}
		})
	}
	h.ws.worklist.filter.SetText("")
}

func TestWorklistStatFirstAndOverdue(t *testing.T) {
	h := newHarness(t)
	rows := h.ws.worklist.view.Rows
	last := rows[len(rows)-1].UID
	assigned := h.now.Add(-30 * time.Minute).Format(time.RFC3339Nano)
	// What sync writes when the archive assigns a STAT study.
	if _, err := h.cache.DB().Exec(`INSERT INTO worklist (study_uid, priority, state, state_since, assigned_at) VALUES (?, 0, 'ready', ?, ?)`,
		last, assigned, assigned); err != nil {
		t.Fatal(err)
	}
	focused := h.win.Canvas().Focused()
	h.ws.applyStatus(StatusEvent{StudyChanged: last})
	settleWorklist(t, h.ws, h.q)
	first := h.ws.worklist.view.Rows[0]
	if first.UID != last || worklist.PriorityName(first.Priority) != "STAT" {
		t.Fatalf("first row = %s priority %d, want the STAT study %s", first.UID, first.Priority, last)
	}
	// 30 minutes is past a STAT study's quarter of the one-hour target.
	if txt := first.Cell(worklist.ColSince, h.now, tsync.DefaultTurnaround); !strings.HasPrefix(txt, "⚠") {
		t.Errorf("since-assigned cell %q lacks the overdue mark", txt)
	}
	if h.win.Canvas().Focused() != focused {
		t.Error("a worklist update moved the keyboard focus")
	}
	// Sorting by patient, then reversed.
	h.ws.worklist.sortBy(worklist.ColPatient)
	asc := h.ws.worklist.view.Rows[0].PatientName
	h.ws.worklist.sortBy(worklist.ColPatient)
	desc := h.ws.worklist.view.Rows[0].PatientName
	if strings.ToLower(asc) > strings.ToLower(desc) {
		t.Errorf("sort by patient: first %q ascending, %q descending", asc, desc)
	}
}

func TestEnterOpensStudyAndQReturns(t *testing.T) {
	h := newHarness(t)
	vp := h.openStudyWith("CT")
	if !h.ws.onViewer || vp.st == nil || !vp.hasLast {
		t.Fatal("Enter did not open the study in the viewer")
	}
	if fi := h.ws.cfg.Metrics.FirstImage(); len(fi) != 0 {
		// The test driver never paints, so nothing may claim a painted image.
		t.Errorf("first-image time recorded without a paint: %v", fi)
	}
	h.key(fyne.KeyQ)
	if h.ws.onViewer {
		t.Error("Q did not return to the worklist")
	}
}

func TestWindowDragChangesWindow(t *testing.T) {
	h := newHarness(t)
	vp := h.openStudyWith("CT")
	before := vp.currentWindow()
	test.Drag(h.win.Canvas(), h.viewportCentre(), 64, -32)
	h.settle()
	after := vp.currentWindow()
	step := before.Width / 256
	if want := before.Width + 64*step; abs(after.Width-want) > 1e-6 {
		t.Errorf("width after a 64-unit right drag = %g, want %g", after.Width, want)
	}
	if want := before.Center - 32*step; abs(after.Center-want) > 1e-6 {
		t.Errorf("centre after a 32-unit upward drag = %g, want %g", after.Center, want)
	}
	if got := vp.last.display.Window; got != after {
		t.Errorf("rendered with window %+v, want %+v", got, after)
	}
	if !strings.Contains(strings.Join(cornerTexts(vp, 3), " "), "W "+ftoa0(after.Width)) {
		t.Errorf("overlay %q does not show the new width", cornerTexts(vp, 3))
	}
	// Escape goes back to the file's window.
	h.key(fyne.KeyEscape)
	if vp.window != nil || vp.currentWindow() != before {
		t.Errorf("Escape left window %+v, want the file's %+v", vp.currentWindow(), before)
	}
}

func TestPresetKeys(t *testing.T) {
	h := newHarness(t)
	vp := h.openStudyWith("CT")
	file := len(vp.last.presets)
	tests := []struct {
		key  fyne.KeyName
		want viewer.Window
	}{
		{fyne.KeyName(string(rune('1' + file))), viewer.Window{Center: 40, Width: 80}},         // brain
		{fyne.KeyName(string(rune('1' + file + 3))), viewer.Window{Center: -600, Width: 1500}}, // lung
	}
	if file > 0 {
		tests = append(tests, struct {
			key  fyne.KeyName
			want viewer.Window
		}{fyne.Key1, vp.last.presets[0].Window})
	}
	for _, tc := range tests {
		h.key(tc.key)
		if got := vp.currentWindow(); got.Center != tc.want.Center || got.Width != tc.want.Width {
			t.Errorf("key %s: window %g/%g, want %g/%g", tc.key, got.Center, got.Width, tc.want.Center, tc.want.Width)
		}
	}
}

func TestViewShortcuts(t *testing.T) {
	h := newHarness(t)
	vp := h.openStudyWith("CT")
	tests := []struct {
		name  string
		key   fyne.KeyName
		check func() bool
	}{
		{"invert", fyne.KeyI, func() bool { return vp.invert && vp.last.req.invert }},
		{"rotate right", fyne.KeyR, func() bool { return vp.view.Rotation == 1 }},
		{"rotate left", fyne.KeyL, func() bool { return vp.view.Rotation == 0 }},
		{"flip horizontal", fyne.KeyH, func() bool { return vp.view.FlipH }},
		{"flip vertical", fyne.KeyV, func() bool { return vp.view.FlipV }},
		{"actual size", fyne.KeyA, func() bool { return vp.view.Zoom == 1 }},
		{"fit", fyne.KeyF, func() bool { return vp.view.Zoom == 0 }},
		{"length tool", fyne.KeyD, func() bool { return h.ws.tool == toolLength }},
		{"window tool", fyne.KeyW, func() bool { return h.ws.tool == toolWindow }},
		{"reset", fyne.KeyEscape, func() bool { return !vp.invert && vp.view == viewer.View{} }},
	}
	for _, tc := range tests {
		h.key(tc.key)
		if !tc.check() {
			t.Errorf("%s (%s): state not changed", tc.name, tc.key)
		}
	}
	before := vp.scale()
	vp.TypedRune('+')
	h.settle()
	if got := vp.scale(); abs(got-before*1.25) > 1e-9 {
		t.Errorf("+ zoomed to %g, want %g", got, before*1.25)
	}
}

func TestScrollAndArrowKeysChangeImage(t *testing.T) {
	h := newHarness(t)
	vp := h.openStudyWith("XA") // 96 frames: a long stack
	n := len(vp.st.Items)
	if n < 10 {
		t.Fatalf("XA stack has %d images", n)
	}
	steps := []struct {
		name string
		do   func()
		want int
	}{
		{"wheel down", func() { test.Scroll(h.win.Canvas(), h.viewportCentre(), 0, -10) }, 1},
		{"arrow down", func() { h.key(fyne.KeyDown) }, 2},
		{"arrow up", func() { h.key(fyne.KeyUp) }, 1},
		{"page down", func() { h.key(fyne.KeyPageDown) }, 11},
		{"end", func() { h.key(fyne.KeyEnd) }, n - 1},
		{"wheel down at the end", func() { test.Scroll(h.win.Canvas(), h.viewportCentre(), 0, -10) }, n - 1},
		{"home", func() { h.key(fyne.KeyHome) }, 0},
		{"right: next frame", func() { h.key(fyne.KeyRight) }, 1},
		{"left twice wraps to the last frame", func() { h.key(fyne.KeyLeft); h.key(fyne.KeyLeft) }, n - 1},
	}
	for _, s := range steps {
		s.do()
		h.settle()
		if vp.index != s.want || vp.last.req.index != s.want {
			t.Errorf("%s: index %d (shown %d), want %d", s.name, vp.index, vp.last.req.index, s.want)
		}
	}
	if txt := strings.Join(cornerTexts(vp, 2), " "); !strings.Contains(txt, "frame "+itoa(n)+"/"+itoa(n)) {
		t.Errorf("overlay %q does not show the frame", txt)
	}
}

func TestLengthMeasurementIsCalibratedOrWarns(t *testing.T) {
	tests := []struct {
		mod      string
		wantUnit string
	}{
		{"CT", "mm"},
		{"XA", "px — uncalibrated"},
	}
	for _, tc := range tests {
		t.Run(tc.mod, func(t *testing.T) {
			h := newHarness(t)
			vp := h.openStudyWith(tc.mod)
			h.key(fyne.KeyD)
			c := h.viewportCentre()
			test.Drag(h.win.Canvas(), c, 80, 0)
			h.settle()
			ms := vp.measures[vp.index]
			if len(ms) != 1 {
				t.Fatalf("%d measurements after one drag", len(ms))
			}
			if !strings.Contains(ms[0].text, tc.wantUnit) {
				t.Errorf("length %q, want it in %q", ms[0].text, tc.wantUnit)
			}
			// The drawn line is as long as the drag.
			a, b := vp.widgetPoint(ms[0].pts[0]), vp.widgetPoint(ms[0].pts[1])
			if d := b.X - a.X; abs(float64(d)-80) > 1.5 {
				t.Errorf("line drawn %g units long, dragged 80", d)
			}
			h.key(fyne.KeyDelete)
			if len(vp.measures[vp.index]) != 0 {
				t.Error("Delete did not remove the measurement")
			}
		})
	}
}

func TestEllipseROIOnCTInHU(t *testing.T) {
	h := newHarness(t)
	vp := h.openStudyWith("CT")
	h.key(fyne.KeyE)
	c := h.viewportCentre()
	test.Drag(h.win.Canvas(), c.Subtract(fyne.NewPos(30, 30)), 60, 60)
	h.settle()
	ms := vp.measures[vp.index]
	if len(ms) != 1 || !strings.Contains(ms[0].text, "HU") || !strings.Contains(ms[0].text, "mm²") {
		t.Fatalf("ellipse ROI %v, want statistics in HU and area in mm²", ms)
	}
}

func TestCineClockCountsDueFrames(t *testing.T) {
	uni, err := viewer.UniformCine(10, 40*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		timing    viewer.CineTiming
		elapsed   time.Duration
		wantFrame int
		wantSlot  int64
	}{
		{"start", uni, 0, 0, 0},
		{"third frame", uni, 85 * time.Millisecond, 2, 2},
		{"second loop", uni, 410 * time.Millisecond, 0, 10},
		{"sweep back", uni.WithMode(viewer.Sweeping), 420 * time.Millisecond, 8, 10},
		{"sweep next period", uni.WithMode(viewer.Sweeping), 730 * time.Millisecond, 0, 18},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, s := newCineClock(tc.timing).at(tc.elapsed)
			if f != tc.wantFrame || s != tc.wantSlot {
				t.Errorf("at %v: frame %d slot %d, want frame %d slot %d", tc.elapsed, f, s, tc.wantFrame, tc.wantSlot)
			}
		})
	}
}

func TestCinePlaysAtFileTiming(t *testing.T) {
	h := newHarness(t)
	vp := h.openStudyWith("US")
	if !vp.multiFrame() {
		t.Fatal("the US sample is not multi-frame")
	}
	h.key(fyne.KeySpace)
	if !vp.playing() {
		t.Fatal("Space did not start cine")
	}
	timing := viewer.CineTimingOf(vp.last.image.File.DataSet)
	if abs(vp.cineRate-timing.FrameRate()) > 1e-9 {
		t.Errorf("playing at %g fps, file says %g", vp.cineRate, timing.FrameRate())
	}
	seen := map[int]bool{}
	deadline := time.Now().Add(timing.LoopDuration() + time.Second)
	for time.Now().Before(deadline) && len(seen) < 3 {
		h.q.runPending()
		seen[vp.index] = true
		time.Sleep(time.Millisecond)
	}
	if len(seen) < 3 {
		t.Errorf("cine showed %d distinct frames", len(seen))
	}
	h.key(fyne.KeySpace)
	if vp.playing() {
		t.Error("Space did not pause cine")
	}
}

func cornerTexts(vp *viewport, corner int) []string {
	var out []string
	for _, l := range overlayLines(vp)[corner] {
		out = append(out, l.text)
	}
	return out
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func ftoa0(f float64) string { return strings.TrimSpace(fmtFloat0(f)) }
