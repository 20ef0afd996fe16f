package gpu

import (
	"image"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"teleread/viewer"
)

// rssKiB reads the process's resident set size from /proc (0 where there is none).
func rssKiB() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			n, _ := strconv.Atoi(strings.Fields(l)[1])
			return n
		}
	}
	return 0
}

// TestMemoryFake renders 10,000 frames (new renderer, upload, render, close)
// and checks that no texture or framebuffer outlives its renderer.
func TestMemoryFake(t *testing.T) {
	c, dev := fakeContext(t)
	f := ctFrame(32)
	d := &viewer.Display{Slope: 1, VOILUT: &viewer.LUT{Bits: 8, Data: []uint16{0, 255}}}
	dst := image.NewGray(image.Rect(0, 0, 32, 32))
	for i := 0; i < 10000; i++ {
		r := c.NewRenderer()
		if err := r.Upload(f); err != nil {
			t.Fatal(err)
		}
		if err := r.Render(d, dst); err != nil {
			t.Fatal(err)
		}
		r.Close()
	}
	inspect(c, func() {
		if tx, tg, _ := dev.live(); tx != 0 || tg != 0 {
			t.Errorf("after 10000 frames: %d textures and %d targets alive", tx, tg)
		}
		if dev.draws != 10000 {
			t.Errorf("%d draws", dev.draws)
		}
	})
}

// TestMemoryGL does the same on real GL and checks that the resident set does
// not grow: the first 1,000 frames warm up the driver, the next 9,000 must not add
// more than a few MiB.
func TestMemoryGL(t *testing.T) {
	c := headless(t)
	f := ctFrame(64)
	d := &viewer.Display{Slope: 1, Window: viewer.Window{Center: 0, Width: 1000}}
	dst := image.NewGray(image.Rect(0, 0, 48, 48))
	var base int
	for i := 0; i < 10000; i++ {
		if i == 1000 {
			runtime.GC()
			base = rssKiB()
		}
		r := c.NewRenderer()
		if err := r.Upload(f); err != nil {
			t.Fatal(err)
		}
		d.Window.Center = float64(i % 100)
		if err := r.Render(d, dst); err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	end := rssKiB()
	t.Logf("RSS after 1000 frames %d KiB, after 10000 %d KiB", base, end)
	if base > 0 && end-base > 16<<10 {
		t.Errorf("RSS grew by %d KiB over 9000 frames", end-base)
	}
}
