package gpu

import (
	"image"
	"math"
	"os"
	"runtime"
	"testing"

	"teleread/viewer"
)

// mainThread stands in for the toolkit's main loop: one locked goroutine that
// runs what it is given, as fyne.DoAndWait does.
func mainThread() (run func(func()), stop func()) {
	jobs := make(chan func())
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		for {
			select {
			case fn := <-jobs:
				fn()
				done <- struct{}{}
			case <-done:
				return
			}
		}
	}()
	return func(fn func()) { jobs <- fn; <-done }, func() { done <- struct{}{} }
}

// TestWindowed makes the app's context from a hidden GLFW window (needs an X
// display: make test runs under xvfb-run) and renders with it.
func TestWindowed(t *testing.T) {
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no display for GLFW (run under xvfb-run -a)")
		}
		t.Skip("no display for GLFW (run under xvfb-run -a)")
	}
	run, stop := mainThread()
	defer stop()
	c, err := NewWindowed(run)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t.Logf("GLFW context: %s", c.Info())
	f := ctFrame(32)
	d := &viewer.Display{Slope: 1, Window: viewer.Window{Center: 0, Width: 2000}}
	r := c.NewRenderer()
	defer r.Close()
	if err := r.Upload(f); err != nil {
		t.Fatal(err)
	}
	got := image.NewGray(image.Rect(0, 0, 32, 32))
	if err := r.Render(d, got); err != nil {
		t.Fatal(err)
	}
	want, _ := viewer.RenderFrame(f, d)
	if m, _, _ := maxDiff(got.Pix, want.(*image.Gray).Pix, 1); m > 1 {
		t.Errorf("GLFW rendering differs from the CPU by %d", m)
	}
	if b := bias(got.Pix, want.(*image.Gray).Pix); math.Abs(b) >= maxBias {
		t.Errorf("GLFW rendering differs from the CPU by %+.4f on average: a rounding bias", b)
	}
}
