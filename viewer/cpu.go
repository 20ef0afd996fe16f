package viewer

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"runtime"
	"sync"
)

// CPURenderer is the reference Renderer: pure Go, exact, and fast enough to be
// the renderer on machines with software GL or none. For integer frames of up to
// 16 bits it builds an 8-bit lookup table over the whole stored range once per
// Display (so a window drag costs one table plus one pass over the pixels) and
// fills the target in row bands on all cores.
//
// The zero value is ready to use. A CPURenderer is not safe for concurrent use.
type CPURenderer struct {
	frame *Frame

	key   pipelineKey // the display parameters lut was built for
	built bool
	lut   [3][]uint8 // per stored value (offset lutLo): grey in [0]; palette R,G,B
	lutLo int

	// The frame's stored value range, found once at Upload, bounds the tables:
	// a 16-bit CT frame needs a few thousand entries, not 65536.
	lo, hi int

	// For colour frames, every pixel converted once to display RGBA (4 bytes a
	// pixel) for the RGBShift it was made with, so that a scaled view gathers
	// bytes instead of converting each target pixel.
	colour      []uint8
	colourOK    bool
	colourShift int

	cols []int32 // column table of the last axis-aligned render
}

// pipelineKey is the part of a Display that the lookup tables depend on.
type pipelineKey struct {
	slope, intercept float64
	modalityLUT      *LUT
	window           Window
	voiLUT           *LUT
	invert           bool
	palette          *Palette
	shift            int
}

func keyOf(d *Display) pipelineKey {
	return pipelineKey{d.Slope, d.Intercept, d.ModalityLUT, d.Window, d.VOILUT, d.Invert, d.Palette, d.RGBShift}
}

// errNoFrame is returned by Render before any Upload.
var errNoFrame = errors.New("viewer: render: no frame uploaded")

// Upload keeps f for the following Render calls.
func (r *CPURenderer) Upload(f *Frame) error {
	if f == nil || f.Len() == 0 {
		return errors.New("viewer: upload: empty frame")
	}
	if err := f.Check(); err != nil {
		return fmt.Errorf("viewer: upload: %w", err)
	}
	r.frame = f
	r.built = false
	r.colourOK = false
	if lo, n, ok := lutRange(f); ok {
		if f.Color == Monochrome || f.Color == PaletteIndex {
			a, b := f.MinMax()
			r.lo, r.hi = int(a), int(b)
		} else {
			r.lo, r.hi = lo, lo+n-1
		}
	}
	return nil
}

// Close drops the uploaded frame.
func (r *CPURenderer) Close() error {
	r.frame = nil
	r.built = false
	r.lut = [3][]uint8{}
	r.colour, r.colourOK, r.cols = nil, false, nil
	return nil
}

// lutRange returns the range of stored values a table must cover, and whether the
// frame is small-integer data that a table can serve at all.
func lutRange(f *Frame) (lo, n int, ok bool) {
	if f.IsFloat() || f.BitsStored < 1 || f.BitsStored > 16 {
		return 0, 0, false
	}
	n = 1 << f.BitsStored
	if f.Signed {
		lo = -n / 2
	}
	return lo, n, true
}

// buildLUT makes the tables for d when the frame allows them.
func (r *CPURenderer) buildLUT(d *Display) {
	k := keyOf(d)
	if r.built && r.key == k {
		return
	}
	r.key, r.built = k, true
	r.lut = [3][]uint8{}
	f := r.frame
	if _, _, ok := lutRange(f); !ok {
		return
	}
	lo, n := r.lo, r.hi-r.lo+1
	r.lutLo = lo
	switch f.Color {
	case Monochrome:
		t := make([]uint8, n)
		for i := range t {
			t[i] = d.Grey8(float64(lo + i))
		}
		r.lut[0] = t
	case PaletteIndex:
		if d.Palette == nil {
			return
		}
		for c := range r.lut {
			r.lut[c] = make([]uint8, n)
		}
		for i := 0; i < n; i++ {
			r.lut[0][i], r.lut[1][i], r.lut[2][i] = d.Palette.Palette8(float64(lo + i))
		}
	}
}

// Render draws the uploaded frame with d into dst.
func (r *CPURenderer) Render(d *Display, dst draw.Image) error {
	f := r.frame
	if f == nil {
		return errNoFrame
	}
	if f.Color == PaletteIndex && d.Palette == nil {
		return fmt.Errorf("viewer: render: %w: palette colour frame without a palette", ErrInvalid)
	}
	r.buildLUT(d)
	b := dst.Bounds()
	if b.Empty() {
		return nil
	}
	m := newMapping(f, &d.View, b.Dx(), b.Dy())
	if m.identity() && f.Color == Monochrome && r.lut[0] != nil {
		if r.renderGreyIdentity(dst, b) {
			return nil
		}
	}
	if m.separable() && (!m.linear || f.Color == PaletteIndex) {
		r.renderSeparable(d, m, dst, b)
		return nil
	}
	parallelRows(b.Dy(), b.Dx(), func(y0, y1 int) {
		idx := make([]int32, b.Dx())
		px := make([]uint8, 4*b.Dx())
		for y := y0; y < y1; y++ {
			if m.linear && f.Color != PaletteIndex {
				r.rowBilinear(d, m, y, px)
			} else {
				m.row(y, idx)
				r.rowNearest(d, idx, px)
			}
			PutRow(dst, b, y, px, f.Color == Monochrome)
		}
	})
	return nil
}

// parallelRows splits rows into bands, one per core, when the image is big enough
// to pay for the goroutines.
func parallelRows(rows, cols int, fn func(y0, y1 int)) {
	workers := runtime.GOMAXPROCS(0)
	if workers > rows {
		workers = rows
	}
	if workers <= 1 || rows*cols < 1<<16 {
		fn(0, rows)
		return
	}
	var wg sync.WaitGroup
	band := (rows + workers - 1) / workers
	for y := 0; y < rows; y += band {
		y1 := min(y+band, rows)
		wg.Add(1)
		go func(y0, y1 int) {
			defer wg.Done()
			fn(y0, y1)
		}(y, y1)
	}
	wg.Wait()
}

// PutRow writes row y (relative to b) of RGBA pixels (grey: R=G=B) into dst:
// grey frames as their R value, colour into a Gray target through
// color.GrayModel. The GPU renderer writes its read-back rows with it, so both
// renderers fill every kind of target the same way.
func PutRow(dst draw.Image, b image.Rectangle, y int, px []uint8, grey bool) {
	w := b.Dx()
	switch t := dst.(type) {
	case *image.Gray:
		o := t.PixOffset(b.Min.X, b.Min.Y+y)
		row := t.Pix[o : o+w]
		if grey {
			for x := range row {
				row[x] = px[4*x]
			}
			return
		}
		for x := range row {
			row[x] = color.GrayModel.Convert(color.RGBA{px[4*x], px[4*x+1], px[4*x+2], 255}).(color.Gray).Y
		}
	case *image.RGBA:
		o := t.PixOffset(b.Min.X, b.Min.Y+y)
		copy(t.Pix[o:o+4*w], px)
	case *image.NRGBA:
		o := t.PixOffset(b.Min.X, b.Min.Y+y)
		copy(t.Pix[o:o+4*w], px)
	default:
		for x := 0; x < w; x++ {
			dst.Set(b.Min.X+x, b.Min.Y+y, color.RGBA{px[4*x], px[4*x+1], px[4*x+2], px[4*x+3]})
		}
	}
}

// rowNearest fills px (RGBA) from the source sample indices idx (pixel index, -1
// outside the image).
func (r *CPURenderer) rowNearest(d *Display, idx []int32, px []uint8) {
	f := r.frame
	switch f.Color {
	case Monochrome:
		if t := r.lut[0]; t != nil {
			gatherGrey(f, idx, t, r.lutLo, px)
			return
		}
		for x, i := range idx {
			var v uint8
			if i >= 0 {
				v = d.Grey8(f.At(int(i)))
			} else if d.Invert {
				v = 0
			}
			px[4*x], px[4*x+1], px[4*x+2], px[4*x+3] = v, v, v, 255
		}
	case PaletteIndex:
		for x, i := range idx {
			var rr, g, b uint8
			if i >= 0 {
				if r.lut[0] != nil {
					j := int(f.At(int(i))) - r.lutLo
					rr, g, b = r.lut[0][j], r.lut[1][j], r.lut[2][j]
				} else {
					rr, g, b = d.Palette.Palette8(f.At(int(i)))
				}
			}
			px[4*x], px[4*x+1], px[4*x+2], px[4*x+3] = rr, g, b, 255
		}
	case RGB, YBRFull:
		if f.U8 != nil && f.Color == RGB && d.RGBShift == 0 {
			for x, i := range idx {
				if i < 0 {
					px[4*x], px[4*x+1], px[4*x+2], px[4*x+3] = 0, 0, 0, 255
					continue
				}
				s := f.U8[3*int(i) : 3*int(i)+3]
				px[4*x], px[4*x+1], px[4*x+2], px[4*x+3] = s[0], s[1], s[2], 255
			}
			return
		}
		for x, i := range idx {
			var c [3]float64
			if i >= 0 {
				for k := range c {
					c[k] = f.At(3*int(i) + k)
				}
			}
			rr, g, b := colourPixel(f.Color, c, d.RGBShift, i >= 0)
			px[4*x], px[4*x+1], px[4*x+2], px[4*x+3] = rr, g, b, 255
		}
	}
}

// colourPixel turns one colour triple of stored values into display RGB.
func colourPixel(cs ColorSpace, c [3]float64, shift int, inside bool) (r, g, b uint8) {
	if !inside {
		return 0, 0, 0
	}
	var v [3]uint8
	for k := range c {
		v[k] = colour8(uint32(int64(c[k])) >> uint(shift))
	}
	if cs == YBRFull {
		return YBRToRGB(float64(v[0]), float64(v[1]), float64(v[2]))
	}
	return v[0], v[1], v[2]
}

// gatherGrey maps grey stored values through the table t (indexed by value-lo).
func gatherGrey(f *Frame, idx []int32, t []uint8, lo int, px []uint8) {
	switch {
	case f.U8 != nil:
		gather(f.U8, idx, t, lo, px)
	case f.I8 != nil:
		gather(f.I8, idx, t, lo, px)
	case f.U16 != nil:
		gather(f.U16, idx, t, lo, px)
	case f.I16 != nil:
		gather(f.I16, idx, t, lo, px)
	case f.U32 != nil:
		gather(f.U32, idx, t, lo, px)
	case f.I32 != nil:
		gather(f.I32, idx, t, lo, px)
	}
}

func gather[T uint8 | int8 | uint16 | int16 | uint32 | int32](src []T, idx []int32, t []uint8, lo int, px []uint8) {
	px = px[:4*len(idx)]
	for x, i := range idx {
		var v uint8
		if i >= 0 {
			j := int(src[i]) - lo
			if uint(j) < uint(len(t)) {
				v = t[j]
			}
		}
		p := px[4*x : 4*x+4 : 4*x+4]
		p[0], p[1], p[2], p[3] = v, v, v, 255
	}
}

// rowBilinear fills px for target row y by interpolating stored values.
func (r *CPURenderer) rowBilinear(d *Display, m *mapping, y int, px []uint8) {
	f := r.frame
	for x := 0; x < m.w; x++ {
		sx, sy := m.source(x, y)
		px[4*x+3] = 255
		if sx < 0 || sy < 0 || sx >= float64(f.Cols) || sy >= float64(f.Rows) {
			px[4*x], px[4*x+1], px[4*x+2] = 0, 0, 0
			continue
		}
		// Sample centres are at integer+0.5; clamp the 2x2 neighbourhood to the image.
		fx, fy := sx-0.5, sy-0.5
		x0, y0 := int(math.Floor(fx)), int(math.Floor(fy))
		ax, ay := fx-float64(x0), fy-float64(y0)
		x1, y1 := min(x0+1, f.Cols-1), min(y0+1, f.Rows-1)
		x0, y0 = max(x0, 0), max(y0, 0)
		var c [3]float64
		for k := 0; k < f.Samples; k++ {
			at := func(xx, yy int) float64 { return f.At((yy*f.Cols+xx)*f.Samples + k) }
			top := at(x0, y0)*(1-ax) + at(x1, y0)*ax
			bot := at(x0, y1)*(1-ax) + at(x1, y1)*ax
			c[k] = top*(1-ay) + bot*ay
		}
		if f.Color == Monochrome {
			v := d.Grey8(c[0])
			px[4*x], px[4*x+1], px[4*x+2] = v, v, v
			continue
		}
		for k := range c {
			c[k] = math.Floor(c[k] + 0.5)
		}
		px[4*x], px[4*x+1], px[4*x+2] = colourPixel(f.Color, c, d.RGBShift, true)
	}
}

// renderGreyIdentity is the common case of a grey frame drawn 1:1 into a Gray or
// RGBA target: one table lookup per pixel straight into the target, no index rows.
func (r *CPURenderer) renderGreyIdentity(dst draw.Image, b image.Rectangle) bool {
	f := r.frame
	var pix []uint8
	var stride, bpp, off int
	switch t := dst.(type) {
	case *image.Gray:
		pix, stride, bpp, off = t.Pix, t.Stride, 1, t.PixOffset(b.Min.X, b.Min.Y)
	case *image.RGBA:
		pix, stride, bpp, off = t.Pix, t.Stride, 4, t.PixOffset(b.Min.X, b.Min.Y)
	default:
		return false
	}
	t, lo := r.lut[0], r.lutLo
	parallelRows(f.Rows, f.Cols, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			row := pix[off+y*stride : off+y*stride+bpp*f.Cols]
			s := y * f.Cols
			switch {
			case f.U8 != nil:
				lookupRow(f.U8[s:s+f.Cols], t, lo, row, bpp)
			case f.I8 != nil:
				lookupRow(f.I8[s:s+f.Cols], t, lo, row, bpp)
			case f.U16 != nil:
				lookupRow(f.U16[s:s+f.Cols], t, lo, row, bpp)
			case f.I16 != nil:
				lookupRow(f.I16[s:s+f.Cols], t, lo, row, bpp)
			case f.U32 != nil:
				lookupRow(f.U32[s:s+f.Cols], t, lo, row, bpp)
			case f.I32 != nil:
				lookupRow(f.I32[s:s+f.Cols], t, lo, row, bpp)
			}
		}
	})
	return true
}

func lookupRow[T uint8 | int8 | uint16 | int16 | uint32 | int32](src []T, t []uint8, lo int, row []uint8, bpp int) {
	if bpp == 1 {
		row = row[:len(src)]
		for x, v := range src {
			j := int(v) - lo
			var o uint8
			if uint(j) < uint(len(t)) {
				o = t[j]
			}
			row[x] = o
		}
		return
	}
	row = row[:4*len(src)]
	for x, v := range src {
		j := int(v) - lo
		var o uint8
		if uint(j) < uint(len(t)) {
			o = t[j]
		}
		p := row[4*x : 4*x+4 : 4*x+4]
		p[0], p[1], p[2], p[3] = o, o, o, 255
	}
}

// buildColour converts every pixel of a colour frame to display RGBA once for
// d.RGBShift, exactly as rowNearest converts one target pixel.
func (r *CPURenderer) buildColour(d *Display) {
	f := r.frame
	if r.colourOK && r.colourShift == d.RGBShift {
		return
	}
	n := f.Rows * f.Cols
	if cap(r.colour) < 4*n {
		r.colour = make([]uint8, 4*n)
	}
	c := r.colour[:4*n]
	parallelRows(f.Rows, f.Cols, func(y0, y1 int) {
		for i := y0 * f.Cols; i < y1*f.Cols; i++ {
			p := c[4*i : 4*i+4 : 4*i+4]
			if f.U8 != nil && f.Color == RGB && d.RGBShift == 0 {
				s := f.U8[3*i : 3*i+3 : 3*i+3]
				p[0], p[1], p[2], p[3] = s[0], s[1], s[2], 255
				continue
			}
			v := [3]float64{f.At(3 * i), f.At(3*i + 1), f.At(3*i + 2)}
			p[0], p[1], p[2] = colourPixel(f.Color, v, d.RGBShift, true)
			p[3] = 255
		}
	})
	r.colour, r.colourOK, r.colourShift = c, true, d.RGBShift
}

// renderSeparable draws a nearest-sampled view whose pixel indices split into a
// column part and a row part (see mapping.separable): one table of column parts
// serves every row, a target row showing the same image pixels as the row above
// it is a copy of that row, and grey (through the table) and colour (through the
// converted frame) rows are written straight into an RGBA target. The values are
// those of rowNearest for the same sample indices.
func (r *CPURenderer) renderSeparable(d *Display, m *mapping, dst draw.Image, b image.Rectangle) {
	f := r.frame
	w := b.Dx()
	if cap(r.cols) < w {
		r.cols = make([]int32, w)
	}
	offs := r.cols[:w]
	m.offsets(offs)
	rgba, _ := dst.(*image.RGBA)
	colour := (f.Color == RGB || f.Color == YBRFull) && f.Samples == 3 && f.Rows*f.Cols <= 2*w*b.Dy()
	if colour && rgba != nil {
		r.buildColour(d)
	}
	direct := rgba != nil && (colour || (f.Color == Monochrome && r.lut[0] != nil))
	parallelRows(b.Dy(), w, func(y0, y1 int) {
		var idx []int32
		var px []uint8
		if !direct {
			idx, px = make([]int32, w), make([]uint8, 4*w)
		}
		prev := -2
		var prevRow []uint8
		for y := y0; y < y1; y++ {
			base := m.base(y)
			if direct {
				o := rgba.PixOffset(b.Min.X, b.Min.Y+y)
				row := rgba.Pix[o : o+4*w : o+4*w]
				switch {
				case base == prev:
					copy(row, prevRow)
				case base < 0:
					fillOutside(row)
				case f.Color == Monochrome:
					scaleGreyRow(f, base, offs, r.lut[0], r.lutLo, row)
				default:
					scaleColourRow(r.colour, base, offs, row)
				}
				prev, prevRow = base, row
				continue
			}
			for x, c := range offs {
				if c < 0 || base < 0 {
					idx[x] = -1
				} else {
					idx[x] = int32(base) + c
				}
			}
			r.rowNearest(d, idx, px)
			PutRow(dst, b, y, px, f.Color == Monochrome)
		}
	})
}

// fillOutside paints an RGBA row black (the colour outside the image).
func fillOutside(row []uint8) {
	for x := 0; x+4 <= len(row); x += 4 {
		p := row[x : x+4 : x+4]
		p[0], p[1], p[2], p[3] = 0, 0, 0, 255
	}
}

// scaleGreyRow writes the grey pixels base+offs[x] (offs[x] < 0: outside the
// image) through the table t into an RGBA row.
func scaleGreyRow(f *Frame, base int, offs []int32, t []uint8, lo int, row []uint8) {
	switch {
	case f.U8 != nil:
		scaleRow(f.U8[base:], offs, t, lo, row)
	case f.I8 != nil:
		scaleRow(f.I8[base:], offs, t, lo, row)
	case f.U16 != nil:
		scaleRow(f.U16[base:], offs, t, lo, row)
	case f.I16 != nil:
		scaleRow(f.I16[base:], offs, t, lo, row)
	case f.U32 != nil:
		scaleRow(f.U32[base:], offs, t, lo, row)
	case f.I32 != nil:
		scaleRow(f.I32[base:], offs, t, lo, row)
	}
}

func scaleRow[T uint8 | int8 | uint16 | int16 | uint32 | int32](src []T, offs []int32, t []uint8, lo int, row []uint8) {
	row = row[:4*len(offs)]
	last, v := int32(-2), uint8(0)
	for x, c := range offs {
		if c != last {
			last, v = c, 0
			if c >= 0 {
				if j := int(src[c]) - lo; uint(j) < uint(len(t)) {
					v = t[j]
				}
			}
		}
		p := row[4*x : 4*x+4 : 4*x+4]
		p[0], p[1], p[2], p[3] = v, v, v, 255
	}
}

// scaleColourRow writes the converted colour pixels base+offs[x] (RGBA; offs[x]
// < 0: outside the image) into an RGBA row.
func scaleColourRow(colour []uint8, base int, offs []int32, row []uint8) {
	row = row[:4*len(offs)]
	src := colour[4*base:]
	for x, c := range offs {
		p := row[4*x : 4*x+4 : 4*x+4]
		if c < 0 {
			p[0], p[1], p[2], p[3] = 0, 0, 0, 255
			continue
		}
		s := src[4*c : 4*c+4 : 4*c+4]
		p[0], p[1], p[2], p[3] = s[0], s[1], s[2], s[3]
	}
}
