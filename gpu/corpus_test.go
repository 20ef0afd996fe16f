package gpu

import (
	"fmt"
	"image"
	"image/draw"
	"math"
	"os"
	"path/filepath"
	"testing"

	"teleread/viewer"

	"teleread/internal/corpustest"
)

// corpusEntry is a corpus MANIFEST.json entry (internal/corpustest loads
// the corpus for every package's tests).
type corpusEntry = corpustest.Entry

// corpus returns the test corpus directory ($TELEREAD_CORPUS, or
// testdata/corpus in the module) and its renderable entries. Missing, the
// test skips, or fails under CI=true.
func corpus(tb testing.TB) (string, []corpusEntry) {
	tb.Helper()
	dir, entries := corpustest.Load(tb)
	var out []corpusEntry
	for _, e := range entries {
		if e.Reference.Status == "ok" && (e.Expectation.Render == "reference" || e.Expectation.Render == "error_or_reference") {
			out = append(out, e)
		}
	}
	return dir, out
}

// openFrame0 decodes frame 0 of a corpus file with its default display.
func openFrame0(tb testing.TB, path string) (*viewer.Frame, *viewer.Display) {
	tb.Helper()
	im, err := viewer.Open(path)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	defer im.Close()
	f, err := im.Frame(0)
	if err != nil {
		tb.Fatalf("frame 0: %v", err)
	}
	d, err := viewer.DefaultDisplay(im, f)
	if err != nil {
		tb.Fatalf("default display: %v", err)
	}
	return f, d
}

// newTarget returns the image type a viewer renders f into: Gray for grey frames.
func newTarget(f *viewer.Frame, w, h int) draw.Image {
	if f.Color == viewer.Monochrome {
		return image.NewGray(image.Rect(0, 0, w, h))
	}
	return image.NewRGBA(image.Rect(0, 0, w, h))
}

// displayBytes lays a rendering out like the references: grey one byte a pixel,
// colour R, G, B.
func displayBytes(img image.Image) []byte {
	switch m := img.(type) {
	case *image.Gray:
		return m.Pix
	case *image.RGBA:
		out := make([]byte, 0, len(m.Pix)/4*3)
		for i := 0; i < len(m.Pix); i += 4 {
			out = append(out, m.Pix[i], m.Pix[i+1], m.Pix[i+2])
		}
		return out
	}
	panic(fmt.Sprintf("unexpected image %T", img))
}

// maxBias bounds the mean signed difference between two renderings of an
// image. A per-sample tolerance of 1 lets a rounding error that moves every
// sample the same way through; honest rounding differences fall on both sides
// and average out far below this.
const maxBias = 0.05

// displayTolerance is how far a display sample may be from the reference (or
// the CPU's rendering): 0 where the reference involves no arithmetic to round
// (RGB passed through or shifted, palette look-ups), 1 where a window, a LUT
// scaling or the YBR equations are computed in floating point and rounded
// (the corpus README's exact_within_1, and DESIGN's "within 1" of the CPU).
func displayTolerance(e *corpusEntry) int {
	switch e.Reference.Display.Pipeline.Method {
	case "rgb_passthrough", "palette_color_lut":
		return 0
	}
	return 1
}

// bias returns the mean of a[i]-b[i].
func bias(a, b []byte) float64 {
	if len(a) == 0 {
		return 0
	}
	var sum int
	for i := range a {
		sum += int(a[i]) - int(b[i])
	}
	return float64(sum) / float64(len(a))
}

// maxDiff returns the largest |a[i]-b[i]|, how many differ and the first index
// that differs by more than tol (-1 when none).
func maxDiff(a, b []byte, tol int) (max, differ, first int) {
	first = -1
	for i := range a {
		d := int(a[i]) - int(b[i])
		if d < 0 {
			d = -d
		}
		if d > 0 {
			differ++
		}
		if d > max {
			max = d
		}
		if d > tol && first < 0 {
			first = i
		}
	}
	return max, differ, first
}

func subsample(b []byte, rows, cols, spp, step int) []byte {
	var out []byte
	for r := 0; r < rows; r += step {
		for c := 0; c < cols; c += step {
			o := (r*cols + c) * spp
			out = append(out, b[o:o+spp]...)
		}
	}
	return out
}

// writeGot keeps a failing rendering for a look and names it in the log.
func writeGot(tb testing.TB, name string, got []byte) {
	tb.Helper()
	dir := filepath.Join(os.TempDir(), "teleread-gpu-golden")
	if err := os.MkdirAll(dir, 0o755); err == nil {
		p := filepath.Join(dir, name)
		if os.WriteFile(p, got, 0o644) == nil {
			tb.Logf("output written to %s", p)
		}
	}
}

// TestCorpusMatchesCPU renders frame 0 of every corpus file with its default
// display on the GPU and on the CPU: equal where the reference involves no
// rounding, within 1 elsewhere, never biased; and as close to the reference
// display wherever the CPU rendering is.
func TestCorpusMatchesCPU(t *testing.T) {
	dir, entries := corpus(t)
	c := headless(t)
	r := c.NewRenderer()
	defer r.Close()
	for _, e := range entries {
		t.Run(e.ID, func(t *testing.T) {
			f, d := openFrame0(t, filepath.Join(dir, e.File))
			cpu, err := viewer.RenderFrame(f, d)
			if err != nil {
				t.Fatalf("cpu render: %v", err)
			}
			if err := r.Upload(f); err != nil {
				t.Fatalf("upload: %v", err)
			}
			gpu := newTarget(f, f.Cols, f.Rows)
			if err := r.Render(d, gpu); err != nil {
				t.Fatalf("render: %v", err)
			}
			tol := displayTolerance(&e)
			got, want := displayBytes(gpu), displayBytes(cpu)
			if m, n, first := maxDiff(got, want, tol); m > tol {
				t.Errorf("GPU differs from CPU by up to %d (allowed %d; %d samples differ), first beyond at %d: got %d want %d",
					m, tol, n, first, got[first], want[first])
				writeGot(t, e.ID+".display0.gpu.u8.raw", got)
			} else if b := bias(got, want); math.Abs(b) >= maxBias {
				t.Errorf("GPU differs from CPU by %+.4f on average (%d samples differ): a rounding bias", b, n)
				writeGot(t, e.ID+".display0.gpu.u8.raw", got)
			} else if n > 0 {
				t.Logf("GPU within %d of CPU: %d samples differ, bias %+.4f", tol, n, b)
			}

			ref := e.Reference.Display.File
			step := 1
			if e.Reference.Display.SubsampledFile != "" {
				ref, step = e.Reference.Display.SubsampledFile, e.Reference.Display.SubsampleStep
			}
			refB, err := os.ReadFile(filepath.Join(dir, ref))
			if err != nil {
				t.Fatal(err)
			}
			spp := len(want) / (f.Rows * f.Cols)
			if step > 1 {
				got, want = subsample(got, f.Rows, f.Cols, spp, step), subsample(want, f.Rows, f.Cols, spp, step)
			}
			if len(got) != len(refB) {
				t.Fatalf("display has %d bytes, reference %d", len(got), len(refB))
			}
			cpuMax, _, _ := maxDiff(want, refB, tol)
			if cpuMax > tol || math.Abs(bias(want, refB)) >= maxBias {
				t.Logf("CPU differs from the reference by up to %d (expectation %q): GPU not held to it", cpuMax, e.Expectation.Display)
				return
			}
			if m, n, first := maxDiff(got, refB, tol); m > tol {
				t.Errorf("GPU differs from the reference display by up to %d (allowed %d; %d samples differ), first beyond at %d: got %d want %d",
					m, tol, n, first, got[first], refB[first])
			} else if b := bias(got, refB); math.Abs(b) >= maxBias {
				t.Errorf("GPU differs from the reference display by %+.4f on average: a rounding bias", b)
			}
		})
	}
}
