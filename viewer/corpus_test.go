package viewer

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"testing"

	"teleread/internal/corpustest"
)

// manifestEntry is a corpus MANIFEST.json entry (internal/corpustest loads
// the corpus for every package's tests).
type manifestEntry = corpustest.Entry

// goldenCorpusDir finds the test corpus ($TELEREAD_CORPUS, or testdata/corpus
// beside the module). Missing, the test skips, or fails under CI=true.
func goldenCorpusDir(tb testing.TB) string {
	tb.Helper()
	return corpustest.Dir(tb)
}

func loadManifest(tb testing.TB, dir string) []manifestEntry {
	tb.Helper()
	return corpustest.Manifest(tb, dir)
}

// writeGot keeps what a failing golden comparison produced, under a stable temp
// path, and names it in the test log.
func writeGot(tb testing.TB, name string, got []byte) {
	tb.Helper()
	dir := filepath.Join(os.TempDir(), "teleread-viewer-golden")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Logf("cannot keep output: %v", err)
		return
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, got, 0o644); err != nil {
		tb.Logf("cannot keep output: %v", err)
		return
	}
	tb.Logf("output written to %s", p)
}

// refSamples reads frame f of a reference .npy array as float64.
func refSamples(dir string, e *manifestEntry, f int) ([]float64, error) {
	return corpustest.Samples(dir, e, f)
}

// diffStats summarises |got-want| over equally long slices.
type diffStats struct {
	max           float64
	mean          float64 // mean |got-want|
	bias          float64 // mean got-want: a systematic rounding error shows here, not in max
	within2, in4  float64 // fractions of samples within 2 and 4
	differ, first int
}

func compare(got, want []float64) diffStats {
	s := diffStats{first: -1}
	var sum, signed float64
	var n2, n4 int
	for i := range want {
		signed += got[i] - want[i]
		d := math.Abs(got[i] - want[i])
		if d != 0 {
			s.differ++
			if s.first < 0 {
				s.first = i
			}
		}
		if d <= 2 {
			n2++
		}
		if d <= 4 {
			n4++
		}
		s.max = math.Max(s.max, d)
		sum += d
	}
	if len(want) > 0 {
		s.mean = sum / float64(len(want))
		s.bias = signed / float64(len(want))
		s.within2 = float64(n2) / float64(len(want))
		s.in4 = float64(n4) / float64(len(want))
	}
	return s
}

func frameValues(f *Frame) []float64 {
	out := make([]float64, f.Len())
	for i := range out {
		out[i] = f.At(i)
	}
	return out
}

// renderNative renders f with d at the frame's own size and returns the display
// bytes laid out like the references (grey: one byte a pixel; colour: R, G, B).
func renderNative(t *testing.T, f *Frame, d *Display) []byte {
	t.Helper()
	img, err := RenderFrame(f, d)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return displayBytes(img)
}

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
	return nil
}

// TestCorpus checks every corpus file against its references, as its expectation
// says: stored values of every frame (hash or tolerance), the display of frame 0
// with DefaultDisplay (exact, or within 1 where the reference rounds, see
// displayTolerance; never biased, see maxBias), and errors where an error is
// expected.
func TestCorpus(t *testing.T) {
	dir := goldenCorpusDir(t)
	for _, e := range loadManifest(t, dir) {
		t.Run(e.ID, func(t *testing.T) {
			path := filepath.Join(dir, e.File)
			switch e.Expectation.Render {
			case "no_pixel_data":
				im, err := Open(path)
				if err == nil {
					im.Close()
					t.Fatalf("Open succeeded, want ErrNoPixelData")
				}
				if !errors.Is(err, ErrNoPixelData) {
					t.Fatalf("Open: %v, want ErrNoPixelData", err)
				}
				return
			case "error":
				if err := renderFrame0(path); err == nil {
					t.Fatalf("rendering frame 0 succeeded, want an error (broken file)")
				} else {
					t.Logf("error as expected: %v", err)
				}
				return
			case "error_or_reference":
				if err := renderFrame0(path); err != nil {
					t.Logf("error (allowed): %v", err)
					return
				}
			}
			if e.Reference.Status != "ok" {
				return
			}
			checkEntry(t, dir, path, &e)
		})
	}
}

// renderFrame0 opens, decodes and renders frame 0 the way the CLI does.
func renderFrame0(path string) error {
	im, err := Open(path)
	if err != nil {
		return err
	}
	defer im.Close()
	f, err := im.Frame(0)
	if err != nil {
		return err
	}
	d, err := DefaultDisplay(im, f)
	if err != nil {
		return err
	}
	_, err = RenderFrame(f, d)
	return err
}

func checkEntry(t *testing.T, dir, path string, e *manifestEntry) {
	im, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer im.Close()
	r := &e.Reference
	if im.NumFrames() != len(r.FrameSHA256) {
		t.Fatalf("NumFrames() = %d, reference has %d", im.NumFrames(), len(r.FrameSHA256))
	}
	lossy := e.Expectation.StoredValues == "approximate"
	var frame0 *Frame
	for n := 0; n < im.NumFrames(); n++ {
		f, err := im.Frame(n)
		if err != nil {
			t.Fatalf("Frame(%d): %v", n, err)
		}
		if n == 0 {
			frame0 = f
		}
		if got := f.Color.String(); got != r.DecodedColorSpace {
			t.Errorf("frame %d colour space %s, want %s", n, got, r.DecodedColorSpace)
		}
		if !lossy {
			sum := sha256.Sum256(f.Bytes())
			if got := hex.EncodeToString(sum[:]); got != r.FrameSHA256[n] {
				msg := ""
				if r.ArrayFile != "" && n < r.ArrayFrames {
					if want, err := refSamples(dir, e, n); err == nil && len(want) == f.Len() {
						s := compare(frameValues(f), want)
						msg = fmt.Sprintf(": %d samples differ, first at %d (got %v want %v), max %v",
							s.differ, s.first, f.At(max(s.first, 0)), want[max(s.first, 0)], s.max)
					}
				}
				t.Errorf("frame %d stored values hash %s, want %s%s", n, got[:12], r.FrameSHA256[n][:12], msg)
				writeGot(t, fmt.Sprintf("%s.frame%d.stored.raw", e.ID, n), f.Bytes())
			}
			continue
		}
		if r.ArrayFile == "" || n >= r.ArrayFrames {
			continue
		}
		want, err := refSamples(dir, e, n)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) != f.Len() {
			t.Fatalf("frame %d has %d samples, reference %d", n, f.Len(), len(want))
		}
		s := compare(frameValues(f), want)
		// README: mean |diff| <= 1 LSB and 99% within 2 LSB; 4:2:2 colour chroma
		// is checked after conversion, in the display comparison.
		ok := s.mean <= 1 && s.within2 >= 0.99
		if r.DecodedColorSpace == "YBR_FULL" {
			ok = s.mean <= 2 && s.in4 >= 0.95
		}
		ok = ok && math.Abs(s.bias) < maxBias
		if !ok {
			t.Errorf("frame %d stored values: mean |diff| %.3f, bias %+.4f, %.4f within 2, %.4f within 4, max %v",
				n, s.mean, s.bias, s.within2, s.in4, s.max)
			writeGot(t, fmt.Sprintf("%s.frame%d.stored.raw", e.ID, n), f.Bytes())
		}
	}
	d, err := DefaultDisplay(im, frame0)
	if err != nil {
		t.Fatalf("DefaultDisplay: %v", err)
	}
	got := renderNative(t, frame0, d)
	ref := r.Display.File
	step := 1
	if r.Display.SubsampledFile != "" {
		ref, step = r.Display.SubsampledFile, r.Display.SubsampleStep
	}
	wantB, err := os.ReadFile(filepath.Join(dir, ref))
	if err != nil {
		t.Fatal(err)
	}
	spp := 1
	if len(r.Display.Shape) == 3 {
		spp = r.Display.Shape[2]
	}
	if step > 1 {
		got = subsample(got, frame0.Rows, frame0.Cols, spp, step)
	}
	if len(got) != len(wantB) {
		t.Fatalf("display has %d bytes, reference %d", len(got), len(wantB))
	}
	gf, wf := make([]float64, len(got)), make([]float64, len(got))
	for i := range got {
		gf[i], wf[i] = float64(got[i]), float64(wantB[i])
	}
	s := compare(gf, wf)
	tol := displayTolerance(e)
	ok := s.max <= tol && math.Abs(s.bias) < maxBias
	if e.Expectation.Display == "approximate" {
		ok = s.mean <= 1.5 && s.in4 >= 0.95 && math.Abs(s.bias) < maxBias
	}
	if !ok {
		t.Errorf("display of frame 0 (%+v): %d samples differ, max %v (allowed %v), mean %.3f, bias %+.4f, %.4f within 4; first at %d",
			*d, s.differ, s.max, tol, s.mean, s.bias, s.in4, s.first)
		writeGot(t, e.ID+".display0.got.u8.raw", got)
	} else if s.differ > 0 {
		t.Logf("display within tolerance: %d samples differ, max %v, mean %.4f, bias %+.4f", s.differ, s.max, s.mean, s.bias)
	}
}

// maxBias bounds the mean signed difference from a reference over an image.
// A per-sample tolerance of 1 lets a rounding error that moves every sample
// the same way through (floor(y+1) instead of floor(y+0.5) shifts nearly
// every pixel by +1); honest rounding differences fall on both sides and
// average out far below this.
const maxBias = 0.05

// displayTolerance is how far a sample of the display of a non-lossy entry
// may be from the reference: 0 where the reference involves no arithmetic to
// round (RGB passed through or shifted, palette look-ups; the corpus README
// says DCMTK matches these exactly), 1 where it computes a window, a VOI or
// modality LUT scaling or the YBR equations in floating point and rounds
// (the README's exact_within_1).
func displayTolerance(e *manifestEntry) float64 {
	switch e.Reference.Display.Pipeline.Method {
	case "rgb_passthrough", "palette_color_lut":
		return 0
	}
	return 1
}

// subsample keeps every step-th row and column (numpy's a[::step, ::step]).
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
