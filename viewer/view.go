package viewer

import "math"

// mapping is a View resolved for one frame and target size: the affine map from
// target pixel centres to image positions (see View).
type mapping struct {
	w, h   int // target size
	cols   int
	rows   int
	ox, oy float64 // image position of target pixel (0,0)'s centre
	dxx    float64 // image position change per target column (x, y)
	dxy    float64
	dyx    float64 // ... per target row
	dyy    float64
	linear bool
}

// Scale returns the target pixels per image pixel that v gives for an image of
// cols x rows drawn into a w x h target.
func (v *View) Scale(cols, rows, w, h int) float64 {
	if v.Zoom > 0 {
		return v.Zoom
	}
	rw, rh := float64(cols), float64(rows)
	if v.quarterTurns()%2 == 1 {
		rw, rh = rh, rw
	}
	return math.Min(float64(w)/rw, float64(h)/rh)
}

func (v *View) quarterTurns() int { return ((v.Rotation % 4) + 4) % 4 }

// ImagePoint returns the image position (in pixels, 0..cols, 0..rows) shown at
// target position (tx, ty) of a w x h target; the inverse of the View.
func (v *View) ImagePoint(tx, ty float64, cols, rows, w, h int) (x, y float64) {
	s := v.Scale(cols, rows, w, h)
	px := (tx - float64(w)/2 - v.PanX) / s
	py := (ty - float64(h)/2 - v.PanY) / s
	for k := v.quarterTurns(); k > 0; k-- {
		px, py = py, -px // undo one clockwise quarter turn
	}
	if v.FlipH {
		px = -px
	}
	if v.FlipV {
		py = -py
	}
	return px + float64(cols)/2, py + float64(rows)/2
}

func newMapping(f *Frame, v *View, w, h int) *mapping {
	m := &mapping{w: w, h: h, cols: f.Cols, rows: f.Rows, linear: v.Interpolation == Bilinear}
	m.ox, m.oy = v.ImagePoint(0.5, 0.5, f.Cols, f.Rows, w, h)
	x1, y1 := v.ImagePoint(1.5, 0.5, f.Cols, f.Rows, w, h)
	x2, y2 := v.ImagePoint(0.5, 1.5, f.Cols, f.Rows, w, h)
	m.dxx, m.dxy = x1-m.ox, y1-m.oy
	m.dyx, m.dyy = x2-m.ox, y2-m.oy
	return m
}

// identity reports whether target pixel (x, y) shows image pixel (x, y) exactly.
func (m *mapping) identity() bool {
	return m.w == m.cols && m.h == m.rows && m.ox == 0.5 && m.oy == 0.5 &&
		m.dxx == 1 && m.dxy == 0 && m.dyx == 0 && m.dyy == 1
}

// source returns the image position sampled by target pixel (x, y).
func (m *mapping) source(x, y int) (float64, float64) {
	fx, fy := float64(x), float64(y)
	return m.ox + fx*m.dxx + fy*m.dyx, m.oy + fx*m.dxy + fy*m.dyy
}

// row fills idx with the pixel index (row*cols+col) that each target pixel of row
// y shows by nearest sampling, -1 outside the image.
func (m *mapping) row(y int, idx []int32) {
	sx, sy := m.source(0, y)
	if m.dxx == 1 && m.dxy == 0 && sy >= 0 && sy < float64(m.rows) && sx == math.Floor(sx)+0.5 {
		// Unscaled, unrotated row: consecutive pixels.
		r := int(sy)
		c := int(math.Floor(sx))
		base := int32(r * m.cols)
		for x := range idx {
			if cc := c + x; cc >= 0 && cc < m.cols {
				idx[x] = base + int32(cc)
			} else {
				idx[x] = -1
			}
		}
		return
	}
	for x := range idx {
		px, py := sx+float64(x)*m.dxx, sy+float64(x)*m.dxy
		if px < 0 || py < 0 || px >= float64(m.cols) || py >= float64(m.rows) {
			idx[x] = -1
			continue
		}
		idx[x] = int32(int(py)*m.cols + int(px))
	}
}

// separable reports whether the pixel index that nearest sampling gives target
// pixel (x, y) splits into a part that depends only on x and one that depends
// only on y: any scale, pan and flip, with or without a quarter turn. Then one
// table of the x parts serves every row (see offsets and base).
func (m *mapping) separable() bool {
	return (m.dxy == 0 && m.dyx == 0) || (m.dxx == 0 && m.dyy == 0)
}

// turned reports whether a separable mapping has a quarter turn: target columns
// then run along image rows.
func (m *mapping) turned() bool { return !(m.dxy == 0 && m.dyx == 0) }

// offsets fills t (one entry per target column) with the x part of the pixel
// index of each target column, -1 where the column falls outside the image. The
// positions are computed exactly as row computes them, so that base(y)+t[x] is
// row's index. Only for a separable mapping.
func (m *mapping) offsets(t []int32) {
	// Along a target row, row varies px by dxx and py by dxy from the row's
	// start, and for a separable mapping the start's varying part is exactly the
	// origin (the other term is a product with zero).
	for x := range t {
		if m.turned() {
			py := m.oy + float64(x)*m.dxy
			if py < 0 || py >= float64(m.rows) {
				t[x] = -1
				continue
			}
			t[x] = int32(int(py) * m.cols)
			continue
		}
		px := m.ox + float64(x)*m.dxx
		if px < 0 || px >= float64(m.cols) {
			t[x] = -1
			continue
		}
		t[x] = int32(int(px))
	}
}

// base returns the y part of the pixel index of target row y, -1 where the row
// falls outside the image. Only for a separable mapping.
func (m *mapping) base(y int) int {
	sx, sy := m.source(0, y)
	if m.turned() {
		if sx < 0 || sx >= float64(m.cols) {
			return -1
		}
		return int(sx)
	}
	if sy < 0 || sy >= float64(m.rows) {
		return -1
	}
	return int(sy) * m.cols
}
