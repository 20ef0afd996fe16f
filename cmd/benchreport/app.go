package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"teleread/app"
)

// benchApp reports issue 7's figures from the app's own instrumentation in a
// real window (Xvfb under `make bench`): time from opening a cached CT study to
// its first image painted, stack-scroll frames per second through a 300-slice
// series, and cine frames dropped in 10 s of the corpus ultrasound clip at its
// own rate, with the renderer and GL driver used. The window toolkit runs once
// per process, so this section runs the app once, with the renderer "auto"
// picks.
func benchApp(b *bench) error {
	if testing.Testing() {
		// A test runs on a goroutine other than main, where the toolkit's window
		// cannot run; app's own tests drive the real window in a child process.
		return errors.New("the app's window runs only on the main goroutine: run benchreport itself")
	}
	res, err := app.Bench(app.BenchConfig{Corpus: filepath.Join(b.corpus, "files"), Slices: b.instances, Scratch: b.tmp})
	if err != nil {
		return err
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	fmt.Fprintf(b.out, "renderer: %s; window %s\n", res.Renderer, res.Window)
	if len(res.FirstImage) > 0 {
		fmt.Fprintf(b.out, "  open cached CT study -> first image painted: first open %s, median of %d opens %s (goal < 100 ms)\n",
			ms(res.FirstImage[0]), len(res.FirstImage), ms(app.Median(res.FirstImage)))
	}
	fmt.Fprintf(b.out, "  stack scroll through %d slices: %.1f slices painted per second over %d (goal >= 60)\n",
		b.instances, res.ScrollFPS, res.ScrollFrames)
	fmt.Fprintf(b.out, "  cine us_cine_jpeg_ybr422_30f at its own %.1f fps for %.1f s: %d frames shown, %d dropped (goal 0)\n",
		res.CineFPS, res.CineSeconds, res.CineShown, res.CineDropped)
	return nil
}
