package gpu

import (
	"math"
	"unsafe"

	"teleread/viewer"
)

// A View only ever turns the image by quarter turns, so an image coordinate
// depends on the target column alone or on the target row alone. The renderer
// therefore computes, in float64 and with exactly viewer's arithmetic, one table
// entry per target column and one per target row, and the shader only looks them
// up: float32 shader arithmetic would put some samples across a pixel edge from
// where the CPU renderer puts them.

// samplingKey identifies the tables: they change with the view, the frame size
// and the target size, never with the window.
type samplingKey struct {
	view       viewer.View
	cols, rows int
	w, h       int
}

// samplingTables returns the tables for key: 4 floats per target column and per
// target row (nearest pixel or -1 outside the image, x0 = floor(p-0.5), the
// weights 1-a and a with a = p-0.5-x0, as viewer computes them),
// and whether the column table holds image y (odd quarter turns).
func samplingTables(k samplingKey) (col, row []float32, swap bool) {
	v := &k.view
	ox, oy := v.ImagePoint(0.5, 0.5, k.cols, k.rows, k.w, k.h)
	x1, y1 := v.ImagePoint(1.5, 0.5, k.cols, k.rows, k.w, k.h)
	x2, y2 := v.ImagePoint(0.5, 1.5, k.cols, k.rows, k.w, k.h)
	dxx, dxy := x1-ox, y1-oy
	dyx, dyy := x2-ox, y2-oy
	swap = ((v.Rotation%4)+4)%4%2 == 1
	col, row = make([]float32, 4*k.w), make([]float32, 4*k.h)
	// Even turns: image x = ox + tx*dxx (+ ty*dyx, which is 0), y = oy + ty*dyy.
	// Odd turns: image x = ox + ty*dyx, y = oy + tx*dxy.
	o1, s1, n1 := ox, dxx, k.cols // column table
	o2, s2, n2 := oy, dyy, k.rows // row table
	if swap {
		o1, s1, n1 = oy, dxy, k.rows
		o2, s2, n2 = ox, dyx, k.cols
	}
	fill(col, o1, s1, n1)
	fill(row, o2, s2, n2)
	return col, row, swap
}

func fill(t []float32, o, step float64, n int) {
	for i := 0; i < len(t)/4; i++ {
		p := o + float64(i)*step
		if p < 0 || p >= float64(n) || math.IsNaN(p) {
			t[4*i] = -1
			continue
		}
		f := p - 0.5
		f0 := math.Floor(f)
		a := f - f0
		t[4*i], t[4*i+1], t[4*i+2], t[4*i+3] = float32(math.Floor(p)), float32(f0), float32(1-a), float32(a)
	}
}

// samplingTextures returns the table textures for k, uploading them when the
// key differs from the last one. It runs on the render thread.
func (r *Renderer) samplingTextures(dev device, k samplingKey) (col, row texture, err error) {
	if r.axes[0] != 0 && r.axesKey == k {
		return r.axes[0], r.axes[1], nil
	}
	c, rw, _ := samplingTables(k)
	data := [2][]float32{c, rw}
	for i, t := range data {
		b := unsafe.Slice((*byte)(unsafe.Pointer(&t[0])), 4*len(t))
		n := len(t) / 4
		if r.axes[i] != 0 && r.axesLen[i] == n {
			if err := dev.UpdateTexture(r.axes[i], fmtRGBA32F, n, 1, b); err != nil {
				return 0, 0, err
			}
			continue
		}
		if r.axes[i] != 0 {
			dev.DeleteTexture(r.axes[i])
			r.axes[i] = 0
		}
		tex, err := dev.NewTexture(fmtRGBA32F, n, 1, b)
		if err != nil {
			return 0, 0, err
		}
		r.axes[i], r.axesLen[i] = tex, n
	}
	r.axesKey = k
	return r.axes[0], r.axes[1], nil
}
