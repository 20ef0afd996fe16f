package app

import (
	"context"
	"fmt"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"

	"teleread/cache"
)

// Scenarios in a real window: the workstation runs in a child process of the
// test binary (Fyne's GL driver must own the main thread; see TestMain) under
// the display of the test (Xvfb in `make test`), and a scenario drives it from
// another goroutine through the app's own event paths: key events routed as the
// driver routes them, shortcuts, sync events through the bridge. Each
// scenario's failures come back in the child's output.

// guiScenarioEnv names the scenario the child runs.
const guiScenarioEnv = "TELEREAD_GUI_SCENARIO"

// guiScenarios are the scenarios by name.
var guiScenarios = map[string]func(*realWindow){
	"partial-study": partialStudyScenario,
	"missing-slice": missingSliceScenario,
	"sealed-index":  sealedIndexScenario,
}

// runInRealWindow runs a scenario in a child process and fails t with the
// child's output when the scenario reports a failure. It returns the child's
// home (the cache is its "cache" folder). env is added to the child's
// environment (NAME=value).
func runInRealWindow(t *testing.T, name string, env ...string) string {
	t.Helper()
	if os.Getenv("DISPLAY") == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("DISPLAY is not set: run the GUI tests under xvfb-run -a")
		}
		t.Skip("DISPLAY is not set (run under xvfb-run -a)")
	}
	samples, err := filepath.Abs(samplesDir(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	home := t.TempDir()
	cmd := ownDisplay(ctx)
	cmd.Env = append(os.Environ(), guiScenarioEnv+"="+name, "TELEREAD_GUI_SAMPLES="+samples,
		"TELEREAD_GUI_HOME="+home, "HOME="+t.TempDir(), "FYNE_SCALE=1", "LANG=en_US.UTF-8")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" {
			t.Log(l)
		}
	}
	if err != nil {
		t.Fatalf("scenario %s in a real window: %v", name, err)
	}
	return home
}

// ownDisplay is the command that runs this test binary's window scenario
// (the child) on an X display of its own. Under `make test` every package's
// tests share one virtual display, so another package's window could take
// the keyboard focus or lie under the pointer while the scenario types and
// drags with xdotool: Enter and a window drag were lost that way under CI.
func ownDisplay(ctx context.Context) *exec.Cmd {
	return exec.CommandContext(ctx, "xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", os.Args[0], "-test.run=^$")
}

// realWindow is the child's side: the workstation in a real window, and the
// scenario's failures.
type realWindow struct {
	ws      *workstation
	win     fyne.Window
	cache   *cache.Cache
	samples string
	scratch string

	failed []string
}

// runGUIScenario is the child: it opens the workstation in a real window on an
// empty cache, runs the scenario once the window is up, and quits.
func runGUIScenario(name string) error {
	scenario := guiScenarios[name]
	if scenario == nil {
		return fmt.Errorf("no scenario %q", name)
	}
	home := os.Getenv("TELEREAD_GUI_HOME")
	c, err := cache.Open(filepath.Join(home, "cache"))
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
	rw := &realWindow{ws: ws, win: w, cache: c, samples: os.Getenv("TELEREAD_GUI_SAMPLES"), scratch: filepath.Join(home, "scratch")}
	started := make(chan struct{})
	a.Lifecycle().SetOnStarted(func() { close(started) })
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer fyne.Do(a.Quit)
		<-started
		if err := waitWorklistShown(ws); err != nil {
			rw.errorf("%v", err)
			return
		}
		defer func() {
			if r := recover(); r != nil && r != errScenarioStopped {
				panic(r)
			}
		}()
		scenario(rw)
	}()
	w.ShowAndRun()
	<-done
	if len(rw.failed) > 0 {
		return fmt.Errorf("%d failures:\n%s", len(rw.failed), strings.Join(rw.failed, "\n"))
	}
	return nil
}

// waitWorklistShown waits in a real window until the worklist shows the
// answer to every reload asked for (rows are read off the UI goroutine).
func waitWorklistShown(ws *workstation) error {
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		ok := false
		fyne.DoAndWait(func() { ok = ws.rows.settled() })
		if ok {
			return nil
		}
	}
	return fmt.Errorf("the worklist was never read")
}

// errScenarioStopped ends a scenario at a failure it cannot go on from.
var errScenarioStopped = fmt.Errorf("scenario stopped")

// errorf records a failure and goes on.
func (rw *realWindow) errorf(format string, args ...any) {
	rw.failed = append(rw.failed, fmt.Sprintf(format, args...))
}

// fatalf records a failure and ends the scenario.
func (rw *realWindow) fatalf(format string, args ...any) {
	rw.errorf(format, args...)
	panic(errScenarioStopped)
}

// do runs fn on the UI goroutine and waits for it.
func (rw *realWindow) do(fn func()) { fyne.DoAndWait(fn) }

// waitUntil polls cond on the UI goroutine until it holds, or ends the
// scenario after d.
func (rw *realWindow) waitUntil(what string, d time.Duration, cond func() bool) {
	for deadline := time.Now().Add(d); ; time.Sleep(10 * time.Millisecond) {
		ok := false
		rw.do(func() { ok = cond() })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			rw.fatalf("timed out after %v waiting for %s", d, what)
		}
	}
}

// reloadWorklist reads the worklist again and waits until it is shown.
func (rw *realWindow) reloadWorklist() {
	rw.do(func() { rw.ws.reloadWorklist() })
	rw.waitUntil("the worklist read again", 20*time.Second, func() bool { return rw.ws.rows.settled() })
}

// openStudy opens a study and waits until it is shown (the cache is read
// off the UI goroutine).
func (rw *realWindow) openStudy(uid string) {
	rw.do(func() { rw.ws.openStudy(uid) })
	rw.waitUntil("the study opened", 20*time.Second, func() bool { return !rw.ws.opening() })
}

// waitShown waits until a study being opened is shown and the active
// viewport has painted its newest request.
func (rw *realWindow) waitShown() {
	rw.waitUntil("the active viewport's picture", 10*time.Second, func() bool {
		vp := rw.ws.viewer.active
		return !rw.ws.opening() && vp != nil && vp.hasLast && vp.last.req.seq == vp.seq
	})
}

// key types a key as the driver delivers it: to the focused object, else to
// the canvas' handler.
func (rw *realWindow) key(name fyne.KeyName) {
	rw.do(func() {
		ev := &fyne.KeyEvent{Name: name}
		c := rw.win.Canvas()
		if f := c.Focused(); f != nil {
			f.TypedKey(ev)
		} else if h := c.OnTypedKey(); h != nil {
			h(ev)
		}
	})
}

// shortcut types a shortcut as the driver delivers it: to the focused object
// when it handles shortcuts, else to the canvas' shortcuts.
func (rw *realWindow) shortcut(s fyne.Shortcut) {
	rw.do(func() {
		c := rw.win.Canvas()
		if f, ok := c.Focused().(fyne.Shortcutable); ok {
			f.TypedShortcut(s)
		} else if sc, ok := c.(fyne.Shortcutable); ok {
			sc.TypedShortcut(s)
		}
	})
}

// walk visits o and every object drawn under it (widgets through their
// renderers), visible ones only.
func walk(o fyne.CanvasObject, fn func(fyne.CanvasObject)) {
	if o == nil || !o.Visible() {
		return
	}
	fn(o)
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			walk(c, fn)
		}
	case fyne.Widget:
		if r := test.WidgetRenderer(x); r != nil {
			for _, c := range r.Objects() {
				walk(c, fn)
			}
		}
	}
}

// shownText is a text drawn on the canvas with its colour.
type shownText struct {
	text  string
	color color.Color
}

// textsUnder returns the texts drawn under o, in drawing order (call on the
// UI goroutine).
func textsUnder(o fyne.CanvasObject) []shownText {
	var out []shownText
	walk(o, func(x fyne.CanvasObject) {
		if t, ok := x.(*canvas.Text); ok && t.Text != "" {
			out = append(out, shownText{t.Text, t.Color})
		}
	})
	return out
}

// findText returns the first drawn text under o containing s.
func findText(o fyne.CanvasObject, s string) (shownText, bool) {
	for _, t := range textsUnder(o) {
		if strings.Contains(t.text, s) {
			return t, true
		}
	}
	return shownText{}, false
}

// topOverlay returns the dialog or pop-up on top of the window, nil when none.
func (rw *realWindow) topOverlay() fyne.CanvasObject { return rw.win.Canvas().Overlays().Top() }
