package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"teleread/cache"
	"teleread/sync/orthanctest"
)

// The real-window test runs the workstation in a child process of the test
// binary, because Fyne's GL driver must own the main thread: TestMain hands the
// main goroutine to the child's script when this variable is set.
const guiChildEnv = "TELEREAD_GUI_CHILD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(benchEnv); spec != "" {
		if err := runBenchChild(spec); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if os.Getenv(guiScenarioEnv) == lockedNoSQLName {
		if err := runLockedNoSQL(); err != nil {
			fmt.Fprintf(os.Stderr, "scenario %s: %v\n", lockedNoSQLName, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if name := os.Getenv(guiScenarioEnv); name != "" {
		if err := runGUIScenario(name); err != nil {
			fmt.Fprintf(os.Stderr, "scenario %s: %v\n", name, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if out := os.Getenv(glyphChildEnv); out != "" {
		if err := runGlyphWindow(out); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if os.Getenv(screenChildEnv) != "" {
		if err := runScreenScript(os.Getenv("TELEREAD_GUI_HOME"), os.Getenv("TELEREAD_GUI_OUT")); err != nil {
			fmt.Fprintln(os.Stderr, "screen script:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if os.Getenv(guiChildEnv) != "" {
		if err := runGUIScript(os.Getenv("TELEREAD_GUI_HOME"), os.Getenv("TELEREAD_GUI_OUT"), os.Getenv("TELEREAD_GUI_SAMPLES")); err != nil {
			fmt.Fprintln(os.Stderr, "gui script:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// guiReport is what the child writes beside its screenshots.
type guiReport struct {
	Renderer       string
	FirstImageMS   []float64
	ScrollFPS      float64
	ScrollFrames   int
	CineShown      int
	CineDropped    int
	CineSeconds    float64
	CineNativeFPS  float64
	WindowBefore   [2]float64 // centre, width
	WindowAfter    [2]float64
	Measurement    string
	ReportState    string
	ViewportRegion [4]int  // x0, y0, x1, y1 of the active viewport in screenshot pixels
	CineRenderMS   float64 // decode + render time of the last cine frame
	Archive        string  // the archive the worklist came from
	WorklistRows   int     // rows when every assigned study was ready
	Delivery       string  // the report panel's delivery text at the end
	SRInArchive    bool    // the archive's QIDO-RS finds the signed SR in the study
}

// TestRealWindowScreenshots drives the real app window (under Xvfb in `make
// test`) through the reading loop and checks the screenshots it writes.
func TestRealWindowScreenshots(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("DISPLAY is not set: run the GUI tests under xvfb-run -a")
		}
		t.Skip("DISPLAY is not set (run under xvfb-run -a)")
	}
	if _, err := exec.LookPath("xdotool"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("xdotool is not installed (Debian package xdotool): the window is driven by X input")
		}
		t.Skip("xdotool is not installed (Debian package xdotool)")
	}
	if _, err := exec.LookPath("xwd"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("xwd is not installed (Debian package x11-apps): the screenshots need it")
		}
		t.Skip("xwd is not installed (Debian package x11-apps)")
	}
	dir := samplesDir(t)
	out := os.Getenv("TELEREAD_SCREENSHOTS")
	if out == "" {
		out = t.TempDir()
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	// The app starts on an empty cache with no archive configured: its first
	// run starts the demo archive (a private Orthanc seeded with the samples),
	// pulls the worklist from it and delivers the report to it.
	if _, _, err := orthanctest.Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	home := t.TempDir()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}

	// A bound against a hung window, not a measure: a loaded machine is slow.
	ctx, cancel := context.WithTimeout(context.Background(), 240*time.Second)
	defer cancel()
	cmd := ownDisplay(ctx)
	cmd.Env = append(os.Environ(), guiChildEnv+"=1", "TELEREAD_GUI_HOME="+home, "TELEREAD_GUI_OUT="+out,
		"TELEREAD_GUI_SAMPLES="+abs, "HOME="+t.TempDir(), "FYNE_SCALE=1")
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("app window script: %v\n%s", err, b)
	}
	var rep guiReport
	raw, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	t.Logf("worklist of %d studies from %s; delivery: %s", rep.WorklistRows, rep.Archive, rep.Delivery)
	if !strings.Contains(rep.Archive, "demo archive") || rep.WorklistRows < 5 {
		t.Errorf("the worklist did not fill from the demo archive: %d rows from %q", rep.WorklistRows, rep.Archive)
	}
	if !strings.Contains(rep.Delivery, "delivered to the archive") || !rep.SRInArchive {
		t.Errorf("the signed report was not delivered: %q, in archive %v", rep.Delivery, rep.SRInArchive)
	}
	t.Logf("screenshots in %s; %s; first image %v ms; scroll %.1f frames/s over %d; cine %d shown, %d dropped in %.1f s at %.1f fps (last frame decoded and drawn in %.1f ms)",
		out, rep.Renderer, rep.FirstImageMS, rep.ScrollFPS, rep.ScrollFrames, rep.CineShown, rep.CineDropped, rep.CineSeconds, rep.CineNativeFPS, rep.CineRenderMS)

	shots := map[string]image.Image{}
	for _, name := range []string{"worklist", "ct_default", "ct_window", "us_cine", "measurement", "report"} {
		img := readPNG(t, filepath.Join(out, name+".png"))
		if sd := lumaSD(img, img.Bounds()); sd < 8 {
			t.Errorf("%s.png looks blank (luma SD %.1f)", name, sd)
		}
		shots[name] = img
	}
	vr := image.Rect(rep.ViewportRegion[0], rep.ViewportRegion[1], rep.ViewportRegion[2], rep.ViewportRegion[3])
	diffs := []struct {
		a, b   string
		region image.Rectangle
		what   string
	}{
		{"ct_default", "ct_window", vr, "a window drag changes the CT picture"},
		{"ct_window", "measurement", vr, "the measurement is drawn on the image"},
		{"worklist", "ct_default", shots["worklist"].Bounds(), "the viewer differs from the worklist"},
		{"ct_window", "us_cine", vr, "the ultrasound frame differs from the CT"},
		{"measurement", "report", shots["report"].Bounds(), "the signed report panel differs"},
	}
	for _, d := range diffs {
		if n := changedPixels(shots[d.a], shots[d.b], d.region); n < 400 {
			t.Errorf("%s vs %s: %d pixels differ in %v; want: %s", d.a, d.b, n, d.region, d.what)
		}
	}
	// The CT viewport is mostly image, not black: images are large.
	if sd := lumaSD(shots["ct_window"], vr); sd < 10 {
		t.Errorf("CT viewport luma SD %.1f: no image drawn", sd)
	}
	// Right widens, down raises the level (README).
	if !(rep.WindowAfter[1] > rep.WindowBefore[1]) || !(rep.WindowAfter[0] > rep.WindowBefore[0]) {
		t.Errorf("a drag right and down moved the window from %v to %v (centre, width)", rep.WindowBefore, rep.WindowAfter)
	}
	// The length reads millimetres and the ROI its statistics in HU.
	if !regexp.MustCompile(`^[0-9]+\.[0-9] mm; mean -?[0-9.]+ SD [0-9.]+ HU`).MatchString(rep.Measurement) {
		t.Errorf("measurements drawn with the mouse read %q, want a length in mm and an ROI in HU", rep.Measurement)
	}
	if rep.ReportState != "signed" {
		t.Errorf("report state %q after signing", rep.ReportState)
	}
	if rep.CineShown == 0 || len(rep.FirstImageMS) == 0 {
		t.Errorf("instrumentation empty: %+v", rep)
	}
}

func readPNG(t *testing.T, p string) image.Image {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return img
}

func luma(img image.Image, x, y int) float64 {
	r, g, b, _ := img.At(x, y).RGBA()
	return (0.299*float64(r) + 0.587*float64(g) + 0.114*float64(b)) / 257
}

func lumaSD(img image.Image, r image.Rectangle) float64 {
	r = r.Intersect(img.Bounds())
	var s, s2, n float64
	for y := r.Min.Y; y < r.Max.Y; y += 2 {
		for x := r.Min.X; x < r.Max.X; x += 2 {
			v := luma(img, x, y)
			s, s2, n = s+v, s2+v*v, n+1
		}
	}
	if n == 0 {
		return 0
	}
	m := s / n
	return math.Sqrt(math.Max(0, s2/n-m*m))
}

// changedPixels counts the pixels of r whose luma differs by more than 24 levels.
func changedPixels(a, b image.Image, r image.Rectangle) int {
	r = r.Intersect(a.Bounds()).Intersect(b.Bounds())
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if math.Abs(luma(a, x, y)-luma(b, x, y)) > 24 {
				n++
			}
		}
	}
	return n
}

// runGUIScript is the child: it opens the real window and, from a goroutine,
// walks through the reading loop, writing screenshots and the report.
func runGUIScript(home, out, samples string) error {
	c, err := cache.Open(home)
	if err != nil {
		return err
	}
	defer c.Close()
	a := fyneapp.NewWithID(AppID + ".test")
	a.Settings().SetTheme(newTheme())
	w := a.NewWindow("Teleread")
	cfg := Config{Cache: c, Preferences: a.Preferences(), SamplesDir: samples, SyncInterval: 2 * time.Second}
	if err := cfg.defaults(); err != nil {
		return err
	}
	ws, err := newWorkstation(cfg, a, w)
	if err != nil {
		return err
	}
	defer ws.close()
	ws.startSync()
	w.Resize(fyne.NewSize(1600, 960))
	started := make(chan struct{})
	a.Lifecycle().SetOnStarted(func() { close(started) })
	var scriptErr error
	go func() {
		<-started
		scriptErr = guiScript(ws, out)
		fyne.Do(a.Quit)
	}()
	w.ShowAndRun()
	return scriptErr
}

func guiScript(ws *workstation, out string) error {
	rep := guiReport{Renderer: ws.cfg.Renderer.String()}
	do := fyne.DoAndWait
	if err := waitWorklistShown(ws); err != nil {
		return err
	}
	shot := func(name string) error {
		time.Sleep(300 * time.Millisecond) // let the window paint what was posted
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
	// waitShown waits until the active viewport has painted its newest request.
	waitShown := func() error {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			ok := false
			do(func() {
				vp := ws.viewer.active
				ok = !ws.opening() && vp != nil && vp.hasLast && vp.last.req.seq == vp.seq
			})
			if ok {
				return nil
			}
		}
		return errors.New("viewport never showed its picture")
	}
	open := func(mod string) error {
		var uid string
		do(func() {
			for _, r := range ws.worklist.view.Rows {
				if strings.Contains(r.Modalities, mod) && uid == "" {
					uid = r.UID
				}
			}
			if uid != "" {
				ws.openStudy(uid)
			}
		})
		if uid == "" {
			return fmt.Errorf("no %s study", mod)
		}
		return waitShown()
	}

	do(func() { ws.win.Resize(fyne.NewSize(1600, 960)) })
	// The worklist fills from the demo archive; every assigned study downloads.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		ready, busy := 0, 0
		do(func() {
			for _, r := range ws.worklist.view.Rows {
				if r.State == "ready" {
					ready++
				} else {
					busy++
				}
			}
			rep.Archive = ws.lastStatus.Archive
		})
		if ready >= 5 && busy == 0 {
			rep.WorklistRows = ready
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("worklist: %d ready, %d not after 60 s (archive %q)", ready, busy, rep.Archive)
		}
	}
	do(func() { ws.worklist.selectRow(0) })
	if err := shot("worklist"); err != nil {
		return err
	}
	// CT: the largest CT (512x512) shows best; choose it by description order.
	var ctUID string
	do(func() {
		best := 0
		for _, r := range ws.worklist.view.Rows {
			if strings.Contains(r.Modalities, "CT") {
				st, _ := ws.cfg.Cache.StudyInstances(r.UID)
				if len(st) > 0 && st[0].Rows*st[0].Columns > best {
					best, ctUID = st[0].Rows*st[0].Columns, r.UID
				}
			}
		}
		ws.openStudy(ctUID)
	})
	if err := waitShown(); err != nil {
		return err
	}
	if err := shot("ct_default"); err != nil {
		return err
	}
	// until waits, up to 10 s, until cond (run on the UI goroutine) holds:
	// X input reaches the app when the machine gets round to it.
	until := func(cond func() bool) {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			ok := false
			do(func() { ok = cond() })
			if ok {
				return
			}
		}
	}
	// A window drag with the mouse, through X (xdotool), from the viewport's
	// centre right and down.
	var cx, cy int
	do(func() {
		vp := ws.viewer.active
		w := vp.currentWindow()
		rep.WindowBefore = [2]float64{w.Center, w.Width}
		p := fyne.CurrentApp().Driver().AbsolutePositionForObject(vp)
		s := ws.win.Canvas().Scale()
		rep.ViewportRegion = [4]int{int(p.X * s), int(p.Y * s), int((p.X + vp.Size().Width) * s), int((p.Y + vp.Size().Height) * s)}
		cx, cy = (rep.ViewportRegion[0]+rep.ViewportRegion[2])/2, (rep.ViewportRegion[1]+rep.ViewportRegion[3])/2
	})
	if err := drag(cx, cy, cx+250, cy+120); err != nil {
		return err
	}
	until(func() bool { return ws.viewer.active.button == 0 && ws.viewer.active.window != nil })
	do(func() {
		w := ws.viewer.active.currentWindow()
		rep.WindowAfter = [2]float64{w.Center, w.Width}
	})
	if err := waitShown(); err != nil {
		return err
	}
	if err := shot("ct_window"); err != nil {
		return err
	}
	// A length (D) and an ellipse ROI (E) drawn with the mouse, then back to
	// window/level (W).
	measured := func(n int) func() bool {
		return func() bool { vp := ws.viewer.active; return len(vp.measures[vp.index]) >= n && vp.button == 0 }
	}
	for i, m := range []struct {
		key            string
		tool           tool
		x0, y0, x1, y1 int
	}{{"d", toolLength, cx - 150, cy + 90, cx + 120, cy + 140}, {"e", toolEllipse, cx - 60, cy - 140, cx + 30, cy - 80}} {
		if err := xdo("key", m.key); err != nil {
			return err
		}
		until(func() bool { return ws.tool == m.tool })
		if err := drag(m.x0, m.y0, m.x1, m.y1); err != nil {
			return err
		}
		until(measured(i + 1))
	}
	if err := xdo("key", "w"); err != nil {
		return err
	}
	until(func() bool { return ws.tool == toolWindow })
	do(func() {
		vp := ws.viewer.active
		for _, m := range vp.measures[vp.index] {
			rep.Measurement += m.text + "; "
		}
	})
	if err := shot("measurement"); err != nil {
		return err
	}
	do(func() {
		p := ws.viewer.report
		p.findings.SetText("No acute intracranial haemorrhage. Ventricles and sulci are normal for age. No mass effect or midline shift.")
		p.impression.SetText("No acute intracranial abnormality.")
		p.sign()
	})
	// The signature is stored off the UI goroutine.
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		signing := true
		do(func() { signing = ws.viewer.report.signing != nil })
		if !signing {
			break
		}
	}
	do(func() { rep.ReportState = string(ws.viewer.report.rep.State) })
	// The outbox delivers it to the demo archive; the panel says so.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		do(func() { rep.Delivery = ws.viewer.report.delivery.Text })
		if strings.Contains(rep.Delivery, "delivered to the archive") {
			break
		}
	}
	if err := shot("report"); err != nil {
		return err
	}
	do(func() {
		var sop string
		if docs := ws.viewer.report.rep.Documents; len(docs) > 0 {
			sop = docs[0].SOPInstanceUID
		}
		study := ws.viewer.report.rep.StudyInstanceUID
		if l := ws.sync; l != nil && sop != "" {
			l.mu.Lock()
			link := l.link
			l.mu.Unlock()
			if link != nil {
				obj, err := link.Client.FindInstance(context.Background(), sop)
				rep.SRInArchive = err == nil && obj != nil && obj.StudyUID() == study
			}
		}
	})
	// Stack scroll through the 96-frame XA run, one image per paint.
	if err := open("XA"); err != nil {
		return err
	}
	ws.cfg.Metrics.ResetScroll()
	for i := 0; i < 95; i++ {
		do(func() { ws.viewer.active.step(1) })
		_, before := ws.cfg.Metrics.ScrollRate()
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Microsecond) {
			if _, n := ws.cfg.Metrics.ScrollRate(); n > before {
				break
			}
		}
	}
	rep.ScrollFPS, rep.ScrollFrames = ws.cfg.Metrics.ScrollRate()
	// Ultrasound cine at the file's own rate.
	if err := open("US"); err != nil {
		return err
	}
	do(func() {
		ws.viewer.active.toggleCine()
		rep.CineNativeFPS = ws.viewer.active.cineRate
	})
	start := time.Now()
	time.Sleep(3 * time.Second)
	if err := shot("us_cine"); err != nil {
		return err
	}
	rep.CineShown, rep.CineDropped = ws.cfg.Metrics.Cine()
	rep.CineSeconds = time.Since(start).Seconds()
	do(func() {
		rep.CineRenderMS = float64(ws.viewer.active.last.took.Microseconds()) / 1000
		ws.viewer.active.toggleCine()
	})
	for _, d := range ws.cfg.Metrics.FirstImage() {
		rep.FirstImageMS = append(rep.FirstImageMS, float64(d.Microseconds())/1000)
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "report.json"), b, 0o644)
}
