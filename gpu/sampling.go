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
// where the CPU renderer puts them. Where float32 arithmetic is exact for the
// view (exactAxis: 1:1, integer and half-pixel pans, power-of-two zooms, as in
// every window drag at 1:1 or a power-of-two fit) the shader computes the same
// entries from the fragment position instead, sparing two texture fetches per
// pixel, which a software rasteriser feels.

// samplingKey identifies the tables: they change with the view, the frame size
// and the target size, never with the window.
type samplingKey struct {
	view       viewer.View
	cols, rows int
	w, h       int
}

// axis is one sampling table as a line: entry i samples image position
// origin + i*step along an image axis of size pixels, for n target positions.
type axis struct {
	origin, step float64
	size, n      int
}

// samplingAxes returns the column and row axes of key (one table entry per
// target column and per target row) and whether the column axis runs along
// image y (odd quarter turns).
func samplingAxes(k samplingKey) (col, row axis, swap bool) {
	v := &k.view
	ox, oy := v.ImagePoint(0.5, 0.5, k.cols, k.rows, k.w, k.h)
	x1, y1 := v.ImagePoint(1.5, 0.5, k.cols, k.rows, k.w, k.h)
	x2, y2 := v.ImagePoint(0.5, 1.5, k.cols, k.rows, k.w, k.h)
	dxx, dxy := x1-ox, y1-oy
	dyx, dyy := x2-ox, y2-oy
	swap = ((v.Rotation%4)+4)%4%2 == 1
	// Even turns: image x = ox + tx*dxx (+ ty*dyx, which is 0), y = oy + ty*dyy.
	// Odd turns: image x = ox + ty*dyx, y = oy + tx*dxy.
	col = axis{origin: ox, step: dxx, size: k.cols, n: k.w}
	row = axis{origin: oy, step: dyy, size: k.rows, n: k.h}
	if swap {
		col = axis{origin: oy, step: dxy, size: k.rows, n: k.w}
		row = axis{origin: ox, step: dyx, size: k.cols, n: k.h}
	}
	return col, row, swap
}

// samplingTables returns the tables for key: 4 floats per target column and per
// target row (nearest pixel or -1 outside the image, x0 = floor(p-0.5), the
// weights 1-a and a with a = p-0.5-x0, as viewer computes them),
// and whether the column table holds image y (odd quarter turns).
func samplingTables(k samplingKey) (col, row []float32, swap bool) {
	c, r, swap := samplingAxes(k)
	col, row = make([]float32, 4*c.n), make([]float32, 4*r.n)
	fill(col, c.origin, c.step, c.size)
	fill(row, r.origin, r.step, r.size)
	return col, row, swap
}

// exactAxis reports whether float32 arithmetic computes every entry of a
// exactly as fill does in float64: origin and step are multiples of one power
// of two 2^-e and every value the shader forms (origin + i*step, that minus 0.5,
// its floor and fraction) stays below 2^23 units of 2^-(e+1). Then all of them
// are exact in float32's 24-bit significand, whatever the order of operations
// or a fused multiply-add. The identity view, integer pans, power-of-two zooms
// and fits between sizes with a power-of-two ratio are exact; other zooms read
// the tables.
func exactAxis(a axis) bool {
	const lim = 1 << 23
	if a.n >= lim || a.size >= lim {
		return false
	}
	for e := 0; e <= 16; e++ {
		sc := math.Ldexp(1, e+1) // units of 2^-(e+1): room for the -0.5
		o, s := a.origin*sc, a.step*sc
		if o != math.Trunc(o) || s != math.Trunc(s) {
			continue // also NaN; infinities fail the bound below
		}
		last := math.Abs(o) + float64(a.n)*math.Abs(s) + sc
		return last < lim && float64(a.size)*sc < lim
	}
	return false
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
