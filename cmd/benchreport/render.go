package main

import (
	"fmt"
	"image"
	"image/draw"
	"time"

	"teleread/viewer"
)

// Issue 3's goals for a CPU window/level re-render.
const (
	render512Goal  = 2 * time.Millisecond
	render2048Goal = 30 * time.Millisecond
)

// ctFrame decodes frame 0 of the corpus' 512x512 JPEG lossless CT and returns
// it with its default display.
func (b *bench) ctFrame() (*viewer.Frame, *viewer.Display, error) {
	p, err := b.corpusFile("ct2_jpeg_lossless_sv1")
	if err != nil {
		return nil, nil, err
	}
	im, err := viewer.Open(p)
	if err != nil {
		return nil, nil, err
	}
	defer im.Close()
	f, err := im.Frame(0)
	if err != nil {
		return nil, nil, err
	}
	d, err := viewer.DefaultDisplay(im, f)
	if err != nil {
		return nil, nil, err
	}
	return f, d, nil
}

// tileFrame makes a size x size grey frame by tiling f: real CT values at a
// radiograph's size, for which the corpus has no uncompressed CT.
func tileFrame(f *viewer.Frame, size int) (*viewer.Frame, error) {
	if f.Samples != 1 || f.Color != viewer.Monochrome || f.Rows < 1 || f.Cols < 1 {
		return nil, fmt.Errorf("tile: want a grey frame")
	}
	out := &viewer.Frame{Rows: size, Cols: size, Samples: 1, Color: viewer.Monochrome, BitsStored: f.BitsStored, Signed: f.Signed}
	at := func(y, x int) int { return (y%f.Rows)*f.Cols + x%f.Cols }
	switch {
	case f.I16 != nil:
		out.I16 = make([]int16, size*size)
		for y := range size {
			for x := range size {
				out.I16[y*size+x] = f.I16[at(y, x)]
			}
		}
	case f.U16 != nil:
		out.U16 = make([]uint16, size*size)
		for y := range size {
			for x := range size {
				out.U16[y*size+x] = f.U16[at(y, x)]
			}
		}
	default:
		return nil, fmt.Errorf("tile: want 16-bit samples")
	}
	return out, nil
}

// wlTime is the median time of a window/level re-render of the uploaded frame
// into dst with r: the window centre moves on every call, as in a drag.
func (b *bench) wlTime(r viewer.Renderer, d *viewer.Display, dst draw.Image) (time.Duration, error) {
	dd := *d
	base := dd.Window
	if !base.Valid() {
		base = viewer.Window{Center: 40, Width: 400}
	}
	i := 0
	return b.perOp(func() error {
		i++
		dd.VOILUT = nil
		dd.Window = base
		dd.Window.Center = base.Center + float64(i%64)
		return r.Render(&dd, dst)
	})
}

// benchRender times the CPU renderer's window/level re-render of a 512x512 CT
// frame and of a 2048x2048 frame tiled from it.
func benchRender(b *bench) error {
	f, d, err := b.ctFrame()
	if err != nil {
		return err
	}
	big, err := tileFrame(f, 2048)
	if err != nil {
		return err
	}
	t := newTable("W/L re-render (CPU renderer)", "time", "goal", "")
	for _, c := range []struct {
		name string
		f    *viewer.Frame
		dst  draw.Image
		goal time.Duration
	}{
		{"512x512 CT into 512x512 grey", f, image.NewGray(image.Rect(0, 0, 512, 512)), render512Goal},
		{"2048x2048 (tiled CT) into 2048x2048 grey", big, image.NewGray(image.Rect(0, 0, 2048, 2048)), render2048Goal},
		{"2048x2048 (tiled CT) into 1024x1024 grey", big, image.NewGray(image.Rect(0, 0, 1024, 1024)), 0},
	} {
		var r viewer.CPURenderer
		if err := r.Upload(c.f); err != nil {
			t.add(c.name, na(err), "", "")
			continue
		}
		dt, err := b.wlTime(&r, d, c.dst)
		if err != nil {
			t.add(c.name, na(err), "", "")
			continue
		}
		goal, v := "", ""
		if c.goal > 0 {
			goal, v = "< "+ms(c.goal), verdict(dt < c.goal)
		}
		t.add(c.name, ms(dt), goal, v)
	}
	t.print(b.out)
	fmt.Fprintf(b.out, "  Frame 0 of ct2_jpeg_lossless_sv1 (512x512, %d bits stored) with its default display; the window centre moves\n", f.BitsStored)
	fmt.Fprintln(b.out, "  on every render, so each one rebuilds the lookup table as a drag does. The 2048x2048 frame tiles it 4x4.")
	return nil
}
