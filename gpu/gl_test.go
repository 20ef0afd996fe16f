package gpu

import (
	"errors"
	"image"
	"os"
	"testing"

	"teleread/viewer"
)

// headless returns a headless GL context for the test, closed at its end. Without
// one the test skips, or fails under CI=true.
func headless(tb testing.TB) *Context {
	tb.Helper()
	c, err := NewHeadless()
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("no GL context: %v", err)
		}
		tb.Skipf("no GL context: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

func TestHeadlessInfo(t *testing.T) {
	c := headless(t)
	info := c.Info()
	t.Logf("GL: %s (vendor %s), max texture %d, max target %d, software %v",
		info, info.Vendor, info.MaxTexture, info.MaxTarget, c.IsSoftware())
	if info.Renderer == "" || info.Version == "" {
		t.Fatalf("empty GL strings: %+v", info)
	}
	if info.MaxTexture < 1024 {
		t.Errorf("GL_MAX_TEXTURE_SIZE %d", info.MaxTexture)
	}
}

func TestRenderSmall(t *testing.T) {
	c := headless(t)
	f := &viewer.Frame{Rows: 2, Cols: 3, Samples: 1, Color: viewer.Monochrome, BitsStored: 16, Signed: true,
		I16: []int16{-100, 0, 100, 200, 300, 1000}}
	d := &viewer.Display{Slope: 1, Window: viewer.Window{Center: 100, Width: 400}}
	r := c.NewRenderer()
	defer r.Close()
	if err := r.Upload(f); err != nil {
		t.Fatal(err)
	}
	got := image.NewGray(image.Rect(0, 0, 3, 2))
	if err := r.Render(d, got); err != nil {
		t.Fatal(err)
	}
	want, _ := viewer.RenderFrame(f, d)
	if !equalWithin(got.Pix, want.(*image.Gray).Pix, 0) {
		t.Errorf("got %v want %v", got.Pix, want.(*image.Gray).Pix)
	}
}

func equalWithin(a, b []byte, tol int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		d := int(a[i]) - int(b[i])
		if d > tol || d < -tol {
			return false
		}
	}
	return true
}

var _ = errors.Is
