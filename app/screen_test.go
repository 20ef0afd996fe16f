package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/test"

	"teleread/cache"
	"teleread/viewer"
	"teleread/viewer/dataset"
)

// The screen test runs the workstation in a child process of the test binary
// (Fyne's GL driver must own the main thread) on a cache the parent filled,
// and drives it with real X input events (xdotool): keys and mouse drags go
// through X, GLFW and Fyne's driver as a reader's would.
const screenChildEnv = "TELEREAD_SCREEN_CHILD"

// Study UIDs of the series the parent writes for the screen test.
const (
	screenCur   = "1.2.826.0.1.3680043.10.6.1"
	screenPrior = "1.2.826.0.1.3680043.10.6.2"
)

// screenReport is what the child writes beside its screenshots. Rectangles are
// in screenshot pixels (x0, y0, x1, y1).
type screenReport struct {
	// The defect sequence: CT compared with its prior (K), Q, an ultrasound
	// study opened, F6.
	Compared     bool
	ComparedRect [2][4]int   // left and right viewports while comparing
	Overlay      [2][]string // their corner texts while comparing
	EmptyRect    [4]int      // the right viewport after F6
	EmptyHold    bool        // it holds a series (it must not)
	EmptyTexts   [][4]int    // the texts drawn in it (its hint)
	EmptyHint    string
	EmptyCorners []string
	USRect       [4]int
	USOverlay    []string

	// What is painted: the CT after a window drag and after I (invert); each
	// screenshot is compared with the CPU renderer's picture of the same view.
	ViewRect     [4]int
	Skip         map[string][][4]int // by screenshot: overlay texts and border in the viewport, not image
	WindowBefore [2]float64
	WindowAfter  [2]float64
	Inverted     bool

	// A length drawn with the mouse (D, then a drag).
	LengthFrom, LengthTo [2]int // screen pixels of the press and release
	LengthText           string
	FitScale             float64 // device pixels per image pixel (the fitted view)
	PixelSpacing         [2]float64
}

// TestRealWindowViewports drives the app in a real window under Xvfb with X
// input events. The empty viewport of the reader's defect sequence paints
// nothing but its hint; painted viewports name their patient; the pixels on
// screen are the CPU renderer's picture of the view (within 1) after a window
// drag and after inverting; a length drawn with the mouse measures what the
// geometry says.
func TestRealWindowViewports(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("DISPLAY is not set: run the GUI tests under xvfb-run -a")
		}
		t.Skip("DISPLAY is not set (run under xvfb-run -a)")
	}
	for _, tool := range []string{"xwd", "xdotool"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed (Debian packages x11-apps, xdotool)", tool)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
	home, dir, out := t.TempDir(), t.TempDir(), os.Getenv("TELEREAD_SCREENSHOTS")
	if out == "" {
		out = t.TempDir()
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	writeSeries(t, dir, seriesSpec{"cur", "TLR-SCREEN-1", screenCur, screenCur + ".1", "20260110", "CT CHEST", steps(0, 5, 4)})
	writeSeries(t, dir, seriesSpec{"prior", "TLR-SCREEN-1", screenPrior, screenPrior + ".1", "20250110", "CT CHEST", steps(0, 5, 4)})
	copyFile(t, filepath.Join(samplesDir(t), "us_cine_jpeg_ybr422_30f.dcm"), filepath.Join(dir, "us.dcm"))
	c, err := cache.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	if sum := c.ImportPaths([]string{dir}, nil); sum.Imported != 9 || len(sum.Rejected) > 0 {
		c.Close()
		t.Fatalf("import: %+v", sum)
	}
	c.Close()

	// A bound against a hung window, not a measure: a loaded machine is slow.
	ctx, cancel := context.WithTimeout(context.Background(), 240*time.Second)
	defer cancel()
	cmd := ownDisplay(ctx)
	cmd.Env = append(os.Environ(), screenChildEnv+"=1", "TELEREAD_GUI_HOME="+home, "TELEREAD_GUI_OUT="+out,
		"HOME="+t.TempDir(), "FYNE_SCALE=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("app window script: %v\n%s", err, b)
	}
	var rep screenReport
	raw, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	rect := func(r [4]int) image.Rectangle { return image.Rect(r[0], r[1], r[2], r[3]) }

	t.Run("empty viewport after compare, Q, another study, F6", func(t *testing.T) {
		if !rep.Compared {
			t.Fatal("K did not compare the CT with its prior")
		}
		compared := readPNG(t, filepath.Join(out, "compared.png"))
		for i, want := range []string{"2026-01-10", "2025-01-10"} {
			all := strings.Join(rep.Overlay[i], "\n")
			for _, w := range []string{"CompressedSamples, CT1", "ID TLR-SCREEN-1", want, "Se ", "Im "} {
				if !strings.Contains(all, w) {
					t.Errorf("compared viewport %d: the overlay lacks %q:\n%s", i, w, all)
				}
			}
			if n := imagePixels(compared, rect(rep.ComparedRect[i]), nil); n < 1000 {
				t.Errorf("compared viewport %d paints %d image pixels", i, n)
			}
		}
		empty := readPNG(t, filepath.Join(out, "empty.png"))
		if rep.EmptyHold || rep.EmptyHint != "Choose a series" || len(rep.EmptyCorners) > 0 {
			t.Errorf("the right viewport: holds a series %v, hint %q, corner texts %q", rep.EmptyHold, rep.EmptyHint, rep.EmptyCorners)
		}
		var skip []image.Rectangle
		for _, r := range rep.EmptyTexts {
			skip = append(skip, rect(r))
		}
		if n, at := imagePixelsAt(empty, rect(rep.EmptyRect), skip); n > 0 {
			t.Errorf("the empty viewport paints %d image pixels besides its hint, within %v", n, at)
		}
		if len(skip) == 0 || imagePixels(empty, skip[0], nil) == 0 {
			t.Error("the empty viewport's hint is not drawn")
		}
		if n := imagePixels(empty, rect(rep.USRect), nil); n < 1000 {
			t.Errorf("the ultrasound viewport paints %d image pixels", n)
		}
		all := strings.Join(rep.USOverlay, "\n")
		for _, w := range []string{"PLA", "ID 204", "2016-05-03", "Se ", "Im "} {
			if !strings.Contains(all, w) {
				t.Errorf("the ultrasound viewport's overlay lacks %q:\n%s", w, all)
			}
		}
	})

	t.Run("the screen shows the CPU renderer's picture", func(t *testing.T) {
		// Right widens, down raises the level (README).
		if !(rep.WindowAfter[1] > rep.WindowBefore[1]) || !(rep.WindowAfter[0] > rep.WindowBefore[0]) {
			t.Errorf("a drag right and down moved the window from %v to %v (centre, width)", rep.WindowBefore, rep.WindowAfter)
		}
		if !rep.Inverted {
			t.Error("I did not invert the image")
		}
		for _, name := range []string{"ct_window", "ct_invert"} {
			var skip []image.Rectangle
			for _, r := range rep.Skip[name] {
				skip = append(skip, rect(r))
			}
			got := readPNG(t, filepath.Join(out, name+".png"))
			want := readPNG(t, filepath.Join(out, name+"_reference.png"))
			n, worst, at, compared := screenDiff(got, want, rect(rep.ViewRect), skip)
			if compared < 10000 {
				t.Errorf("%s: only %d pixels compared", name, compared)
			}
			if n > 0 {
				t.Errorf("%s: %d of %d pixels on screen differ from the CPU renderer's picture by more than 1 (worst %d at %v)", name, n, compared, worst, at)
			}
		}
	})

	t.Run("a length drawn with the mouse", func(t *testing.T) {
		// The fitted view maps image to screen by one scale, so a length is
		// the pointer's travel divided by it, times the pixel spacing.
		dx := float64(rep.LengthTo[0] - rep.LengthFrom[0])
		dy := float64(rep.LengthTo[1] - rep.LengthFrom[1])
		if rep.FitScale <= 0 || rep.PixelSpacing[0] <= 0 {
			t.Fatalf("no geometry: scale %g, spacing %v", rep.FitScale, rep.PixelSpacing)
		}
		want := math.Hypot(dx/rep.FitScale*rep.PixelSpacing[1], dy/rep.FitScale*rep.PixelSpacing[0])
		m := regexp.MustCompile(`^([0-9.]+) mm`).FindStringSubmatch(rep.LengthText)
		if m == nil {
			t.Fatalf("the length reads %q, want millimetres", rep.LengthText)
		}
		got, _ := strconv.ParseFloat(m[1], 64)
		// One screen pixel of the pointer's position either end, and the
		// display's rounding to 0.1 mm.
		tol := 2*rep.PixelSpacing[0]/rep.FitScale + 0.05
		if math.Abs(got-want) > tol {
			t.Errorf("the length reads %.1f mm, the pointer travelled %.2f mm (±%.2f)", got, want, tol)
		}
	})
}

// screenDiff compares two pictures of a region pixel by pixel, outside the
// skipped rectangles: how many differ by more than 1 in a channel, the worst
// difference and where, and how many were compared. want is the region's own
// picture, its origin at the region's corner.
func screenDiff(got, want image.Image, r image.Rectangle, skip []image.Rectangle) (n, worst int, at image.Point, compared int) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			p := image.Pt(x, y)
			skipped := false
			for _, s := range skip {
				if p.In(s) {
					skipped = true
					break
				}
			}
			if skipped {
				continue
			}
			compared++
			a := color.NRGBAModel.Convert(got.At(x, y)).(color.NRGBA)
			b := color.NRGBAModel.Convert(want.At(x-r.Min.X+want.Bounds().Min.X, y-r.Min.Y+want.Bounds().Min.Y)).(color.NRGBA)
			d := max(absDiff(a.R, b.R), absDiff(a.G, b.G), absDiff(a.B, b.B))
			if d > 1 {
				n++
			}
			if d > worst {
				worst, at = d, p
			}
		}
	}
	return n, worst, at, compared
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

// runScreenScript is the child of TestRealWindowViewports.
func runScreenScript(home, out string) error {
	c, err := cache.Open(home)
	if err != nil {
		return err
	}
	defer c.Close()
	a := fyneapp.NewWithID(AppID + ".test")
	a.Settings().SetTheme(newTheme())
	w := a.NewWindow("Teleread")
	cfg := Config{Cache: c, Preferences: a.Preferences()}
	if err := cfg.defaults(); err != nil {
		return err
	}
	ws, err := newWorkstation(cfg, a, w)
	if err != nil {
		return err
	}
	defer ws.close()
	w.Resize(fyne.NewSize(1600, 960))
	started := make(chan struct{})
	a.Lifecycle().SetOnStarted(func() { close(started) })
	var scriptErr error
	go func() {
		defer fyne.Do(a.Quit)
		<-started
		scriptErr = screenScript(ws, out)
	}()
	w.ShowAndRun()
	return scriptErr
}

// xdo runs xdotool.
func xdo(args ...string) error {
	if b, err := exec.Command("xdotool", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("xdotool %s: %v: %s", strings.Join(args, " "), err, b)
	}
	return nil
}

func screenScript(ws *workstation, out string) error {
	do := fyne.DoAndWait
	rep := screenReport{Skip: map[string][][4]int{}}
	if err := waitWorklistShown(ws); err != nil {
		return err
	}
	// Without a window manager the GL viewport can lag the window's first
	// size: a resize to another size once shown sets both (the viewer needs
	// more than 1536 wide, so the viewer never resizes the window again).
	do(func() { ws.win.Resize(fyne.NewSize(1590, 950)) })
	time.Sleep(500 * time.Millisecond)
	do(func() { ws.win.Resize(fyne.NewSize(1600, 960)) })
	time.Sleep(500 * time.Millisecond)
	// Keys go to the window under the pointer (Xvfb has no window manager).
	if err := xdo("mousemove", "700", "940"); err != nil {
		return err
	}
	// until waits, up to 10 s, until cond (run on the UI goroutine) holds:
	// X input reaches the app when the machine gets round to it.
	until := func(cond func() bool) bool {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			ok := false
			do(func() { ok = cond() })
			if ok {
				return true
			}
		}
		return false
	}
	// key types a key and waits until the app shows it took it (the parent
	// checks the outcome).
	key := func(k string, took func() bool) error {
		if err := xdo("key", k); err != nil {
			return err
		}
		until(took)
		return nil
	}
	// settled waits until every shown viewport holding a series shows its
	// newest picture.
	settled := func() error {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			ok := true
			do(func() {
				if !ws.onViewer {
					return
				}
				s := ws.viewer
				for _, vp := range s.viewports[:s.cells()] {
					if vp.st != nil && (!vp.hasLast || vp.last.req.seq != vp.seq) {
						ok = false
					}
				}
			})
			if ok {
				time.Sleep(300 * time.Millisecond) // let the window paint what was accepted
				return nil
			}
		}
		return errors.New("a viewport never showed its picture")
	}
	shot := func(name string) error {
		var w, h int
		do(func() {
			sz, sc := ws.win.Canvas().Size(), ws.win.Canvas().Scale()
			w, h = int(sz.Width*sc), int(sz.Height*sc)
		})
		img, err := screenshotX(w, h)
		if err != nil {
			return err
		}
		f, err := os.Create(filepath.Join(out, name+".png"))
		if err != nil {
			return err
		}
		defer f.Close()
		return png.Encode(f, img)
	}
	scale := func() float32 { return ws.win.Canvas().Scale() }
	rectOf := func(o fyne.CanvasObject, inset float32) [4]int {
		p := fyne.CurrentApp().Driver().AbsolutePositionForObject(o)
		s, sz := scale(), o.Size()
		return [4]int{int(math.Ceil(float64((p.X + inset) * s))), int(math.Ceil(float64((p.Y + inset) * s))),
			int((p.X + sz.Width - inset) * s), int((p.Y + sz.Height - inset) * s)}
	}
	texts := func(vp *viewport) (hint string, corners []string, rects [][4]int) {
		r := test.WidgetRenderer(vp).(*viewportRenderer)
		if r.message.Text != "" {
			rects = append(rects, rectOf(r.message, -2))
		}
		for _, ts := range r.corners {
			for _, t := range ts {
				if t.Text != "" {
					corners = append(corners, t.Text)
					rects = append(rects, rectOf(t, -2))
				}
			}
		}
		if !r.banner.Hidden {
			rects = append(rects, rectOf(r.banner, -2))
		}
		return r.message.Text, corners, rects
	}
	// open selects a study's row (set-up) and opens it with Enter.
	open := func(uid string) error {
		var ok bool
		do(func() {
			i := ws.worklist.view.IndexOf(uid)
			if ok = i >= 0; ok {
				ws.worklist.selectRow(i)
				ws.win.Canvas().Focus(ws.worklist.table)
			}
		})
		if !ok {
			return fmt.Errorf("study %s not in the worklist", uid)
		}
		if err := xdo("key", "Return"); err != nil {
			return err
		}
		if !until(func() bool { return ws.onViewer && ws.viewer.study.StudyInstanceUID == uid }) {
			return fmt.Errorf("Enter did not open %s", uid)
		}
		return settled()
	}

	// The reader's defect sequence.
	if err := open(screenCur); err != nil {
		return err
	}
	if err := key("k", func() bool { return ws.viewer.comparing }); err != nil {
		return err
	}
	if err := settled(); err != nil {
		return err
	}
	do(func() {
		s := ws.viewer
		rep.Compared = s.comparing && s.viewports[1].study == screenPrior
		for i := range 2 {
			_, rep.Overlay[i], _ = texts(s.viewports[i])
			rep.ComparedRect[i] = rectOf(s.viewports[i], borderWidth+4)
		}
	})
	if err := shot("compared"); err != nil {
		return err
	}
	if err := key("q", func() bool { return !ws.onViewer }); err != nil {
		return err
	}
	var us string
	do(func() {
		for _, r := range ws.worklist.view.Rows {
			if strings.Contains(r.Modalities, "US") {
				us = r.UID
			}
		}
	})
	if err := open(us); err != nil {
		return err
	}
	if err := key("F6", func() bool { return ws.viewer.layout == 1 }); err != nil {
		return err
	}
	if err := settled(); err != nil {
		return err
	}
	do(func() {
		s := ws.viewer
		right := s.viewports[1]
		rep.EmptyHold = right.st != nil
		rep.EmptyHint, rep.EmptyCorners, rep.EmptyTexts = texts(right)
		rep.EmptyRect = rectOf(right, borderWidth+4)
		rep.USRect = rectOf(s.viewports[0], borderWidth+4)
		_, rep.USOverlay, _ = texts(s.viewports[0])
	})
	if err := shot("empty"); err != nil {
		return err
	}

	// What is painted: the CT alone, after a window drag and after I.
	if err := key("q", func() bool { return !ws.onViewer }); err != nil {
		return err
	}
	if err := open(screenCur); err != nil {
		return err
	}
	if err := key("F5", func() bool { return ws.viewer.layout == 0 }); err != nil {
		return err
	}
	if err := settled(); err != nil {
		return err
	}
	var cx, cy int
	do(func() {
		vp := ws.viewer.active
		wd := vp.currentWindow()
		rep.WindowBefore = [2]float64{wd.Center, wd.Width}
		r := rectOf(vp, 0)
		cx, cy = (r[0]+r[2])/2, (r[1]+r[3])/2
	})
	// Once more if the window did not move: under a loaded CI machine the
	// X server has dropped a synthetic drag (xdotool's press and moves)
	// whole. A second drag right and down only moves the window further the
	// same way, so what is judged below is unchanged.
	for try := 0; try < 2; try++ {
		if err := drag(cx, cy, cx+120, cy+60); err != nil {
			return err
		}
		until(func() bool { return ws.viewer.active.button == 0 && ws.viewer.active.window != nil })
		if err := settled(); err != nil {
			return err
		}
		moved := false
		do(func() {
			wd := ws.viewer.active.currentWindow()
			moved = wd.Center != rep.WindowBefore[0] || wd.Width != rep.WindowBefore[1]
		})
		if moved {
			break
		}
	}
	reference := func(name string) error {
		var err error
		do(func() {
			vp := ws.viewer.active
			wd := vp.currentWindow()
			rep.WindowAfter = [2]float64{wd.Center, wd.Width}
			rep.Inverted = vp.invert
			rep.ViewRect = rectOf(vp, 0)
			_, _, skip := texts(vp)
			// The border is the viewport's frame, not its image.
			b := rectOf(vp, 0)
			e := int(math.Ceil(borderWidth*float64(scale()))) + 1
			skip = append(skip, [4]int{b[0], b[1], b[2], b[1] + e}, [4]int{b[0], b[3] - e, b[2], b[3]},
				[4]int{b[0], b[1], b[0] + e, b[3]}, [4]int{b[2] - e, b[1], b[2], b[3]})
			rep.Skip[name] = skip
			var img *image.RGBA
			img, err = cpuPicture(vp)
			if err != nil {
				return
			}
			var f *os.File
			if f, err = os.Create(filepath.Join(out, name+"_reference.png")); err != nil {
				return
			}
			defer f.Close()
			err = png.Encode(f, img)
		})
		if err != nil {
			return err
		}
		return shot(name)
	}
	if err := reference("ct_window"); err != nil {
		return err
	}
	if err := key("i", func() bool { return ws.viewer.active.invert }); err != nil {
		return err
	}
	if err := settled(); err != nil {
		return err
	}
	if err := reference("ct_invert"); err != nil {
		return err
	}

	// A length: D, then a drag.
	if err := key("d", func() bool { return ws.tool == toolLength }); err != nil {
		return err
	}
	rep.LengthFrom, rep.LengthTo = [2]int{cx - 100, cy - 40}, [2]int{cx + 90, cy + 70}
	if err := drag(rep.LengthFrom[0], rep.LengthFrom[1], rep.LengthTo[0], rep.LengthTo[1]); err != nil {
		return err
	}
	until(func() bool { vp := ws.viewer.active; return len(vp.measures[vp.index]) > 0 })
	do(func() {
		vp := ws.viewer.active
		if ms := vp.measures[vp.index]; len(ms) > 0 {
			rep.LengthText = ms[len(ms)-1].text
		}
		w, h := vp.targetSize()
		rep.FitScale = math.Min(float64(w)/float64(vp.last.frame.Cols), float64(h)/float64(vp.last.frame.Rows))
		if ps := vp.last.image.File.DataSet.Floats(dataset.PixelSpacing); len(ps) == 2 {
			rep.PixelSpacing = [2]float64{ps[0], ps[1]}
		}
	})
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "report.json"), b, 0o644)
}

// drag presses the left button at one screen point, moves to another in
// steps and releases it there.
func drag(x0, y0, x1, y1 int) error {
	if err := xdo("mousemove", itoa(x0), itoa(y0)); err != nil {
		return err
	}
	time.Sleep(100 * time.Millisecond)
	if err := xdo("mousedown", "1"); err != nil {
		return err
	}
	time.Sleep(100 * time.Millisecond)
	for k := 1; k <= 6; k++ {
		x, y := x0+(x1-x0)*k/6, y0+(y1-y0)*k/6
		if err := xdo("mousemove", itoa(x), itoa(y)); err != nil {
			return err
		}
		time.Sleep(60 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	return xdo("mouseup", "1")
}

// cpuPicture renders the viewport's image with the viewer's CPU renderer,
// with the viewport's window, inversion, view and size: what the screen must
// show.
func cpuPicture(vp *viewport) (*image.RGBA, error) {
	it := vp.st.Items[vp.index]
	f, d, err := loadItemFrame(it, viewer.RenderOptions{Frame: it.Frame, Window: vp.window})
	if err != nil {
		return nil, err
	}
	d.View = vp.view
	if vp.invert {
		d.Invert = !d.Invert
	}
	w, h := vp.targetSize()
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	var r viewer.CPURenderer
	if err := r.Upload(f); err != nil {
		return nil, err
	}
	if err := r.Render(d, dst); err != nil {
		return nil, err
	}
	return dst, nil
}
