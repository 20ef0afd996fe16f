package gpu

import (
	"image"
	"sync/atomic"
	"testing"
	"time"

	"teleread/viewer"
)

// rgbClip is a synthetic 8-bit RGB clip whose frame n has every sample n, so the
// frame drawn can be read back from the pixels.
type rgbClip struct {
	w, h, frames int
	decoded      atomic.Int64
}

func (c *rgbClip) Frame(n int) (*viewer.Frame, error) {
	c.decoded.Add(1)
	f := &viewer.Frame{Index: n, Rows: c.h, Cols: c.w, Samples: 3, Color: viewer.RGB, BitsStored: 8, U8: make([]uint8, c.w*c.h*3)}
	for i := range f.U8 {
		f.U8[i] = uint8(n)
	}
	return f, nil
}

func TestCineShowsTimedFrames(t *testing.T) {
	c, dev := fakeContext(t)
	clip := &rgbClip{w: 8, h: 8, frames: 30}
	timing, err := viewer.UniformCine(clip.frames, 40*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	p := c.NewCine(clip, timing, CineOptions{Ring: 4})
	dst := image.NewRGBA(image.Rect(0, 0, 8, 8))
	tests := []struct {
		elapsed time.Duration
		want    int
	}{
		{0, 0}, {39 * time.Millisecond, 0}, {40 * time.Millisecond, 1}, {85 * time.Millisecond, 2},
		{205 * time.Millisecond, 5}, // frames 3 and 4 passed: dropped
		{1199 * time.Millisecond, 29}, {1200 * time.Millisecond, 0}, {1210 * time.Millisecond, 0},
	}
	for _, tt := range tests {
		n, err := p.Show(tt.elapsed, &viewer.Display{}, dst)
		if err != nil {
			t.Fatal(err)
		}
		if n != tt.want {
			t.Errorf("Show(%v) = frame %d, want %d", tt.elapsed, n, tt.want)
		}
	}
	shown, dropped := p.Stats()
	// 0,0,1,2 then 5 (3,4 dropped), 29 (6..28 dropped: 23), 0, 0.
	if shown != len(tests) || dropped != 2+23 {
		t.Errorf("shown %d dropped %d, want %d and 25", shown, dropped, len(tests))
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	inspect(c, func() {
		if tx, tg, _ := dev.live(); tx != 0 || tg != 0 {
			t.Errorf("after Close: %d textures and %d targets alive", tx, tg)
		}
		if n := dev.newTex[fmtRGB8UI]; n > 4 {
			t.Errorf("%d frame textures made for a ring of 4", n)
		}
	})
}

// TestCineGL plays a clip on real GL and checks the pixels of each frame shown.
func TestCineGL(t *testing.T) {
	c := headless(t)
	clip := &rgbClip{w: 64, h: 48, frames: 12}
	timing, _ := viewer.UniformCine(clip.frames, 10*time.Millisecond)
	p := c.NewCine(clip, timing, CineOptions{})
	defer p.Close()
	dst := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for i := 0; i < 30; i++ {
		n, err := p.Show(time.Duration(i)*10*time.Millisecond, &viewer.Display{}, dst)
		if err != nil {
			t.Fatal(err)
		}
		if n != i%12 || dst.Pix[0] != uint8(n) || dst.Pix[len(dst.Pix)-2] != uint8(n) {
			t.Fatalf("step %d: frame %d, pixels %d/%d", i, n, dst.Pix[0], dst.Pix[len(dst.Pix)-2])
		}
	}
	if _, dropped := p.Stats(); dropped != 0 {
		t.Errorf("%d frames dropped stepping one frame at a time", dropped)
	}
}
