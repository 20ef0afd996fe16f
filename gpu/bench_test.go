package gpu

import (
	"image"
	"image/draw"
	"strconv"
	"testing"

	"teleread/viewer"
)

// renderers returns the GPU (headless) and CPU renderers side by side.
func benchRenderer(b *testing.B, name string) viewer.Renderer {
	if name == "cpu" {
		return &viewer.CPURenderer{}
	}
	c := headless(b)
	b.Logf("GL renderer: %s", c.Info())
	return c.NewRenderer()
}

// benchWindowLevel measures one window/level change of a size² CT frame drawn
// into a target² viewport: new window uniforms (GPU) or a new table (CPU).
func benchWindowLevel(b *testing.B, size, target int) {
	f := ctFrame(size)
	for _, name := range []string{"gpu", "cpu"} {
		b.Run(name, func(b *testing.B) {
			r := benchRenderer(b, name)
			defer r.Close()
			if err := r.Upload(f); err != nil {
				b.Fatal(err)
			}
			dst := image.NewRGBA(image.Rect(0, 0, target, target))
			d := &viewer.Display{Slope: 1, Intercept: -1024, Window: viewer.Window{Center: 40, Width: 400}}
			if err := r.Render(d, dst); err != nil { // compiles the program
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				d.Window.Center = float64(40 + i%50)
				if err := r.Render(d, dst); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWindowLevel512 is the W/L re-render of a 512² CT frame (floor on
// software GL: 5 ms; goal on a GPU: 0.5 ms).
func BenchmarkWindowLevel512(b *testing.B) { benchWindowLevel(b, 512, 512) }

// BenchmarkWindowLevel2048To1024 draws a 2048² frame into a 1024² viewport.
func BenchmarkWindowLevel2048To1024(b *testing.B) { benchWindowLevel(b, 2048, 1024) }

// BenchmarkWindowLevel2048 draws a 2048² frame into a 2048² viewport (goal on a
// GPU: 2 ms).
func BenchmarkWindowLevel2048(b *testing.B) { benchWindowLevel(b, 2048, 2048) }

// BenchmarkUpload measures putting a new 512² and 2048² 16-bit frame into the
// renderer (a texture update on the GPU).
func BenchmarkUpload(b *testing.B) {
	for _, size := range []int{512, 2048} {
		f := ctFrame(size)
		for _, name := range []string{"gpu", "cpu"} {
			b.Run(name+"/"+strconv.Itoa(size), func(b *testing.B) {
				r := benchRenderer(b, name)
				defer r.Close()
				b.SetBytes(int64(size * size * 2))
				for i := 0; i < b.N; i++ {
					if err := r.Upload(f); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// rgbClip is a synthetic 8-bit RGB clip whose frame n has every sample n.
type rgbClip struct{ w, h, frames int }

func (c *rgbClip) Frame(n int) (*viewer.Frame, error) {
	f := &viewer.Frame{Index: n, Rows: c.h, Cols: c.w, Samples: 3, Color: viewer.RGB, BitsStored: 8, U8: make([]uint8, c.w*c.h*3)}
	for i := range f.U8 {
		f.U8[i] = uint8(n)
	}
	return f, nil
}

// BenchmarkCine640x480RGB plays a 640x480 RGB clip frame by frame as the app's
// cine does: decode (building the frame), upload and render into a 640x480
// target. Floor on software GL: 60 frames/s.
func BenchmarkCine640x480RGB(b *testing.B) {
	clip := &rgbClip{w: 640, h: 480, frames: 30}
	d := &viewer.Display{}
	b.Run("gpu", func(b *testing.B) {
		c := headless(b)
		b.Logf("GL renderer: %s", c.Info())
		r := c.NewRenderer()
		defer r.Close()
		dst := image.NewRGBA(image.Rect(0, 0, 640, 480))
		for i := 0; i < b.N; i++ {
			f, _ := clip.Frame(i % clip.frames)
			if err := r.Upload(f); err != nil {
				b.Fatal(err)
			}
			if err := r.Render(d, dst); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
	})
	b.Run("cpu", func(b *testing.B) {
		var r viewer.CPURenderer
		var dst draw.Image = image.NewRGBA(image.Rect(0, 0, 640, 480))
		for i := 0; i < b.N; i++ {
			f, _ := clip.Frame(i % clip.frames)
			if err := r.Upload(f); err != nil {
				b.Fatal(err)
			}
			if err := r.Render(d, dst); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
	})
}
