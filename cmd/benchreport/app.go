package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// appResult is the app benchmark's JSON result (app/bench_test.go's
// benchResult).
type appResult struct {
	Renderer     string          `json:"renderer"`
	FirstImage   []time.Duration `json:"first_image_ns"`
	ScrollFPS    float64         `json:"scroll_fps"`
	ScrollFrames int             `json:"scroll_frames"`
	CineShown    int             `json:"cine_shown"`
	CineDropped  int             `json:"cine_dropped"`
	CineSeconds  float64         `json:"cine_seconds"`
	CineFPS      float64         `json:"cine_fps"`
	Window       string          `json:"window"`
}

// benchApp reports issue 7's figures from the app's own instrumentation in a
// real window (Xvfb under `make bench`): time from opening a cached CT study to
// its first image painted, stack-scroll frames per second through a 300-slice
// series, and cine frames dropped in 10 s of the corpus ultrasound clip at its
// own rate, with the renderer and GL driver used. The benchmark lives in the
// app's tests (test code does not ship in the application) and the window
// toolkit must own the main goroutine, so it runs as the app package's test
// binary (`go test`), whose TestMain runs it and writes the figures as JSON.
func benchApp(b *bench) error {
	if testing.Testing() {
		// Building and running the app's test binary with a real window and
		// 10 s of cine is too slow for benchreport's own tests.
		return errors.New("the app's benchmark runs only from benchreport itself (it builds the app's tests)")
	}
	out := filepath.Join(b.tmp, "app-bench.json")
	spec, err := json.Marshal(map[string]any{
		"corpus":  filepath.Join(b.corpus, "files"),
		"slices":  b.instances,
		"scratch": b.tmp,
		"out":     out,
	})
	if err != nil {
		return err
	}
	cmd := exec.Command("go", "test", "-count=1", "-run", "^$", "teleread/app")
	cmd.Dir = filepath.Dir(filepath.Dir(b.corpus)) // the module root (corpus is testdata/corpus)
	if moduleRoot(cmd.Dir) == "" {
		cmd.Dir = "" // a -corpus elsewhere: go run in the repository
	}
	cmd.Env = append(os.Environ(), "TELEREAD_APP_BENCH="+string(spec))
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go test teleread/app: %v: %s", err, tail(msg, 2000))
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return fmt.Errorf("app benchmark result: %w", err)
	}
	var res appResult
	if err := json.Unmarshal(data, &res); err != nil {
		return fmt.Errorf("app benchmark result: %w", err)
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	fmt.Fprintf(b.out, "renderer: %s; window %s\n", res.Renderer, res.Window)
	if len(res.FirstImage) > 0 {
		fmt.Fprintf(b.out, "  open cached CT study -> first image painted: first open %s, median of %d opens %s (goal < 100 ms)\n",
			ms(res.FirstImage[0]), len(res.FirstImage), ms(median(res.FirstImage)))
	}
	fmt.Fprintf(b.out, "  stack scroll through %d slices: %.1f slices painted per second over %d (goal >= 60)\n",
		b.instances, res.ScrollFPS, res.ScrollFrames)
	fmt.Fprintf(b.out, "  cine us_cine_jpeg_ybr422_30f at its own %.1f fps for %.1f s: %d frames shown, %d dropped (goal 0)\n",
		res.CineFPS, res.CineSeconds, res.CineShown, res.CineDropped)
	return nil
}

// tail is the end of b, at most n bytes.
func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
