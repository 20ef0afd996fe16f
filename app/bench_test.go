package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"teleread/cache"
	"teleread/cache/cachetest"
)

// The app's benchmark (cmd/benchreport's App section) lives with the tests so
// that it does not ship in the application. The window toolkit must own the
// main goroutine, so it runs in the test binary's TestMain: benchreport runs
// `go test -run '^$' teleread/app` with benchEnv set to a JSON benchConfig,
// and the result is written as a JSON benchResult to the config's Out file.

// benchEnv carries the benchmark's configuration to TestMain.
const benchEnv = "TELEREAD_APP_BENCH"

// benchConfig says what the benchmark measures. Zero values are the
// documented defaults.
type benchConfig struct {
	// Corpus is the folder of the corpus files (ct2_jpeg_lossless_sv1.dcm and
	// us_cine_jpeg_ybr422_30f.dcm are used). Required.
	Corpus string `json:"corpus"`
	// Renderer is "auto", "gpu" or "cpu" (see ChooseRenderer); "" is auto.
	Renderer string `json:"renderer"`
	// Slices is the length of the CT series scrolled through; 0 is 300.
	Slices int `json:"slices"`
	// Opens is how often the CT study is opened; 0 is 5. The first open reads
	// the files cold (from the page cache), the others find them decoded.
	Opens int `json:"opens"`
	// Cine is how long the ultrasound clip plays at its own rate; 0 is 10 s.
	Cine time.Duration `json:"cine_ns"`
	// Scratch is where the temporary cache is made; "" is os.TempDir().
	Scratch string `json:"scratch"`
	// Out is the file the result is written to, as JSON.
	Out string `json:"out"`
}

// benchResult is what the app's own instrumentation measured.
type benchResult struct {
	Renderer string `json:"renderer"` // RendererInfo.String()
	// FirstImage is the time from asking to open the cached CT study to its
	// first image painted in the window, for each open in order.
	FirstImage []time.Duration `json:"first_image_ns"`
	// ScrollFPS is the slices painted per second while stepping through the
	// series one slice at a time, each step as soon as the last was painted.
	ScrollFPS    float64 `json:"scroll_fps"`
	ScrollFrames int     `json:"scroll_frames"`
	// Cine: frames shown and dropped (due but never painted) while the clip
	// played for CineSeconds at CineFPS, its own rate.
	CineShown   int     `json:"cine_shown"`
	CineDropped int     `json:"cine_dropped"`
	CineSeconds float64 `json:"cine_seconds"`
	CineFPS     float64 `json:"cine_fps"`
	Window      string  `json:"window"` // window size in device pixels
}

// runBenchChild runs the benchmark benchEnv describes and writes its result.
func runBenchChild(spec string) error {
	var cfg benchConfig
	if err := json.Unmarshal([]byte(spec), &cfg); err != nil {
		return fmt.Errorf("app: bench: %s: %w", benchEnv, err)
	}
	if cfg.Out == "" {
		return fmt.Errorf("app: bench: %s names no out file", benchEnv)
	}
	res, err := bench(cfg)
	if err != nil {
		return err
	}
	b, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("app: bench: %w", err)
	}
	if err := os.WriteFile(cfg.Out, b, 0o644); err != nil {
		return fmt.Errorf("app: bench: %w", err)
	}
	return nil
}

// bench opens the workstation in a real window (an X display, Xvfb on a
// server) on a temporary cache holding a Slices-long CT series made from the
// corpus CT and the corpus ultrasound clip, then opens the CT study, scrolls
// through it, and plays the clip, timing each from the app's own Metrics. It
// must be called from the main goroutine and only once per process (the
// window toolkit's rule).
func bench(cfg benchConfig) (benchResult, error) {
	var res benchResult
	if cfg.Slices <= 0 {
		cfg.Slices = 300
	}
	if cfg.Opens <= 0 {
		cfg.Opens = 5
	}
	if cfg.Cine <= 0 {
		cfg.Cine = 10 * time.Second
	}
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return res, errors.New("app: bench: no display (run under xvfb-run -a)")
	}
	ct := filepath.Join(cfg.Corpus, "ct2_jpeg_lossless_sv1.dcm")
	us := filepath.Join(cfg.Corpus, "us_cine_jpeg_ybr422_30f.dcm")
	tmp, err := os.MkdirTemp(cfg.Scratch, "teleread-appbench-")
	if err != nil {
		return res, fmt.Errorf("app: bench: %w", err)
	}
	defer os.RemoveAll(tmp)
	paths, err := cachetest.MakeSeries(ct, filepath.Join(tmp, "series"), cfg.Slices)
	if err != nil {
		return res, fmt.Errorf("app: bench: %w", err)
	}
	c, err := cache.Open(filepath.Join(tmp, "home"))
	if err != nil {
		return res, fmt.Errorf("app: bench: %w", err)
	}
	defer c.Close()
	if sum := c.ImportPaths(append(paths, us), nil); sum.Imported != len(paths)+1 {
		return res, fmt.Errorf("app: bench: imported %d of %d files (%v)", sum.Imported, len(paths)+1, sum.Rejected)
	}
	newRenderer, info, closeGL, err := ChooseRenderer(cfg.Renderer)
	if err != nil {
		return res, err
	}
	defer closeGL()
	res.Renderer = info.String()

	a := fyneapp.NewWithID(AppID + ".bench")
	a.Settings().SetTheme(newTheme())
	w := a.NewWindow("Teleread benchmark")
	appCfg := Config{Cache: c, Preferences: a.Preferences(), NewRenderer: newRenderer, Renderer: info}
	if err := appCfg.defaults(); err != nil {
		return res, err
	}
	ws, err := newWorkstation(appCfg, a, w)
	if err != nil {
		return res, err
	}
	defer ws.close()
	w.Resize(fyne.NewSize(1600, 960))
	started := make(chan struct{})
	a.Lifecycle().SetOnStarted(func() { close(started) })
	var runErr error
	go func() {
		<-started
		runErr = benchScript(ws, cfg, &res)
		fyne.Do(a.Quit)
	}()
	w.ShowAndRun()
	return res, runErr
}

func benchScript(ws *workstation, cfg benchConfig, res *benchResult) error {
	do := fyne.DoAndWait
	m := ws.cfg.Metrics
	if err := waitWorklistShown(ws); err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond) // the window maps and paints the worklist
	do(func() {
		sz, sc := ws.win.Canvas().Size(), ws.win.Canvas().Scale()
		res.Window = fmt.Sprintf("%dx%d", int(sz.Width*sc), int(sz.Height*sc))
	})
	studyWith := func(mod string) (uid string) {
		do(func() {
			for _, r := range ws.worklist.view.Rows {
				if strings.Contains(r.Modalities, mod) && uid == "" {
					uid = r.UID
				}
			}
		})
		return uid
	}
	shown := func() bool {
		ok := false
		do(func() {
			vp := ws.viewer.active
			ok = !ws.opening() && vp != nil && vp.hasLast && vp.last.req.seq == vp.seq
		})
		return ok
	}
	waitShown := func() error {
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if shown() {
				return nil
			}
		}
		return errors.New("app: bench: the viewport never showed its picture")
	}
	ctUID, usUID := studyWith("CT"), studyWith("US")
	if ctUID == "" || usUID == "" {
		return errors.New("app: bench: the CT or US study is not on the worklist")
	}

	// Time to first image: open, wait for the paint, back to the worklist.
	for i := 0; i < cfg.Opens; i++ {
		n := len(m.FirstImage())
		do(func() { ws.openStudy(ctUID) })
		for deadline := time.Now().Add(20 * time.Second); len(m.FirstImage()) == n; time.Sleep(200 * time.Microsecond) {
			if time.Now().After(deadline) {
				return errors.New("app: bench: the CT study's first image was never painted")
			}
		}
		if err := waitShown(); err != nil {
			return err
		}
		if i < cfg.Opens-1 {
			do(ws.showWorklist)
			time.Sleep(100 * time.Millisecond)
		}
	}
	res.FirstImage = m.FirstImage()

	// Stack scroll: one slice per step, the next step as soon as it is painted.
	m.ResetScroll()
	for i := 1; i < cfg.Slices; i++ {
		_, before := m.ScrollRate()
		do(func() { ws.viewer.active.step(1) })
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Microsecond) {
			if _, n := m.ScrollRate(); n > before {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("app: bench: slice %d was never painted", i)
			}
		}
	}
	res.ScrollFPS, res.ScrollFrames = m.ScrollRate()

	// Cine at the file's own rate.
	do(func() { ws.openStudy(usUID) })
	if err := waitShown(); err != nil {
		return err
	}
	do(func() {
		ws.viewer.active.toggleCine()
		res.CineFPS = ws.viewer.active.cineRate
	})
	start := time.Now()
	time.Sleep(cfg.Cine)
	res.CineShown, res.CineDropped = m.Cine()
	res.CineSeconds = time.Since(start).Seconds()
	do(func() { ws.viewer.active.toggleCine() })
	return nil
}
