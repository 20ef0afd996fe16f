package gpu

import (
	"errors"
	"fmt"
	"image"
	"image/draw"
	"math"
	"unsafe"

	"teleread/viewer"
)

// Renderer draws frames on a Context's GL thread: the GPU viewer.Renderer.
// Upload puts the frame's stored values into a texture once (reusing the
// texture when the next frame has the same size and format); Render only sets
// the Display's uniforms, runs the shader into a framebuffer of the target's
// size and reads it back. The shader is the program specialised for the
// Display's pipeline (frame kind, modality and VOI stage, interpolation,
// sampling), compiled once per Context on first use. LUTs (modality, VOI,
// palette) are uploaded when a Display brings a different one.
//
// A Renderer is not safe for concurrent use; use one per view.
type Renderer struct {
	ctx    *Context
	frame  *viewer.Frame
	closed bool

	// GL objects, touched only on the render thread.
	img    texture
	imgFmt texFormat
	imgW   int
	imgH   int
	luts   [numUnits]lutTexture // indexed by unit; unitImage unused
	tgt    target

	axes    [2]texture // sampling tables: per target column, per target row
	axesLen [2]int
	axesKey samplingKey

	pix  []byte    // readback buffer, reused
	conv []float32 // float64 frames converted for upload, reused
}

var _ viewer.Renderer = (*Renderer)(nil)

// lutTexture is a LUT uploaded for one texture unit, remembered by the LUT it
// came from so that the same LUT is not uploaded again.
type lutTexture struct {
	src *viewer.LUT
	n   int
	tex texture
}

// NewRenderer returns a Renderer drawing on c.
func (c *Context) NewRenderer() *Renderer { return &Renderer{ctx: c} }

var errNoFrame = errors.New("gpu: render: no frame uploaded")

// frameFormat returns the texture format for f's samples and the bytes to
// upload. Integer samples are uploaded as they are; float64 ones as float32.
func (r *Renderer) frameFormat(f *viewer.Frame) (texFormat, []byte, error) {
	n := f.Len()
	short := func(have int) error {
		return fmt.Errorf("gpu: upload: %d samples for a %dx%dx%d frame", have, f.Rows, f.Cols, f.Samples)
	}
	bytesOf := func(p unsafe.Pointer, have, size int) ([]byte, error) {
		if have < n {
			return nil, short(have)
		}
		return unsafe.Slice((*byte)(p), n*size), nil
	}
	var (
		ft  texFormat
		b   []byte
		err error
	)
	switch {
	case f.U8 != nil:
		ft = fmtR8UI
		b, err = bytesOf(unsafe.Pointer(unsafe.SliceData(f.U8)), len(f.U8), 1)
	case f.I8 != nil:
		ft = fmtR8I
		b, err = bytesOf(unsafe.Pointer(unsafe.SliceData(f.I8)), len(f.I8), 1)
	case f.U16 != nil:
		ft = fmtR16UI
		b, err = bytesOf(unsafe.Pointer(unsafe.SliceData(f.U16)), len(f.U16), 2)
	case f.I16 != nil:
		ft = fmtR16I
		b, err = bytesOf(unsafe.Pointer(unsafe.SliceData(f.I16)), len(f.I16), 2)
	case f.U32 != nil:
		ft = fmtR32UI
		b, err = bytesOf(unsafe.Pointer(unsafe.SliceData(f.U32)), len(f.U32), 4)
	case f.I32 != nil:
		ft = fmtR32I
		b, err = bytesOf(unsafe.Pointer(unsafe.SliceData(f.I32)), len(f.I32), 4)
	case f.F32 != nil:
		ft = fmtR32F
		b, err = bytesOf(unsafe.Pointer(unsafe.SliceData(f.F32)), len(f.F32), 4)
	case f.F64 != nil:
		if len(f.F64) < n {
			return 0, nil, short(len(f.F64))
		}
		// GL 3.3 has no double textures; float32 keeps 24 bits, enough for a display.
		if cap(r.conv) < n {
			r.conv = make([]float32, n)
		}
		r.conv = r.conv[:n]
		for i, v := range f.F64[:n] {
			r.conv[i] = float32(v)
		}
		ft = fmtR32F
		b, err = bytesOf(unsafe.Pointer(unsafe.SliceData(r.conv)), n, 4)
	default:
		return 0, nil, errors.New("gpu: upload: frame holds no samples")
	}
	if err != nil {
		return 0, nil, err
	}
	if f.Samples == 3 {
		if ft == fmtR32F {
			return 0, nil, fmt.Errorf("gpu: upload: %w: float colour samples", viewer.ErrUnsupported)
		}
		ft += fmtRGB8UI - fmtR8UI // the RGB formats follow the same order
	}
	return ft, b, nil
}

// Upload makes f the frame that Render draws, uploading its stored values.
func (r *Renderer) Upload(f *viewer.Frame) error {
	if r.closed {
		return ErrClosed
	}
	if f == nil || f.Rows <= 0 || f.Cols <= 0 {
		return errors.New("gpu: upload: empty frame")
	}
	if err := f.Check(); err != nil {
		return fmt.Errorf("gpu: upload: %w", err)
	}
	switch {
	case f.Samples == 1 && (f.Color == viewer.Monochrome || f.Color == viewer.PaletteIndex):
	case f.Samples == 3 && (f.Color == viewer.RGB || f.Color == viewer.YBRFull):
	default:
		return fmt.Errorf("gpu: upload: %w: %s frame with %d samples per pixel", viewer.ErrInvalid, f.Color, f.Samples)
	}
	ft, data, err := r.frameFormat(f)
	if err != nil {
		return err
	}
	if lim := r.ctx.info.MaxTexture; lim > 0 && (f.Cols > lim || f.Rows > lim) {
		return tooLarge("frame", f.Cols, f.Rows, lim)
	}
	err = r.ctx.do(func(dev device) error {
		if r.img != 0 && r.imgFmt == ft && r.imgW == f.Cols && r.imgH == f.Rows {
			return dev.UpdateTexture(r.img, ft, f.Cols, f.Rows, data)
		}
		if r.img != 0 {
			dev.DeleteTexture(r.img)
			r.img = 0
		}
		t, err := dev.NewTexture(ft, f.Cols, f.Rows, data)
		if err != nil {
			return err
		}
		r.img, r.imgFmt, r.imgW, r.imgH = t, ft, f.Cols, f.Rows
		return nil
	})
	if err != nil {
		r.frame = nil
		return fmt.Errorf("gpu: upload: %w", err)
	}
	r.frame = f
	return nil
}

// Render draws the uploaded frame with d into dst, whose bounds are the viewport.
func (r *Renderer) Render(d *viewer.Display, dst draw.Image) error {
	if r.closed {
		return ErrClosed
	}
	f := r.frame
	if f == nil {
		return errNoFrame
	}
	if f.Color == viewer.PaletteIndex && d.Palette == nil {
		return fmt.Errorf("gpu: render: %w: palette colour frame without a palette", viewer.ErrInvalid)
	}
	b := dst.Bounds()
	if b.Empty() {
		return nil
	}
	w, h := b.Dx(), b.Dy()
	if lim := min(r.ctx.info.MaxTarget, r.ctx.info.MaxTexture); lim > 0 && (w > lim || h > lim) {
		return tooLarge("target", w, h, lim)
	}
	u := resolve(f, d, w, h)
	luts := lutsOf(f, d)
	// Read straight into an RGBA target whose rows are contiguous; else into the
	// renderer's buffer and convert.
	var out []byte
	direct := false
	if t, ok := dst.(*image.RGBA); ok && t.Stride == 4*w {
		o := t.PixOffset(b.Min.X, b.Min.Y)
		out, direct = t.Pix[o:o+4*w*h], true
	} else {
		if cap(r.pix) < 4*w*h {
			r.pix = make([]byte, 4*w*h)
		}
		r.pix = r.pix[:4*w*h]
		out = r.pix
	}
	err := r.ctx.do(func(dev device) error {
		var tex [numUnits]texture
		tex[unitImage] = r.img
		for unit, l := range luts {
			if l == nil {
				continue
			}
			t, err := r.lutTexture(dev, unit, l)
			if err != nil {
				return err
			}
			tex[unit] = t
		}
		var err error
		if !u.Direct {
			k := samplingKey{view: d.View, cols: f.Cols, rows: f.Rows, w: w, h: h}
			if tex[unitAxisCol], tex[unitAxisRow], err = r.samplingTextures(dev, k); err != nil {
				return err
			}
		}
		if r.tgt.fbo == 0 || r.tgt.w != w || r.tgt.h != h {
			if r.tgt.fbo != 0 {
				dev.DeleteTarget(r.tgt)
				r.tgt = target{}
			}
			t, err := dev.NewTarget(w, h)
			if err != nil {
				return err
			}
			r.tgt = t
		}
		p, err := r.ctx.program(dev, variantOf(r.imgFmt.sampler(), &u))
		if err != nil {
			return err
		}
		if err := dev.Draw(p, r.tgt, tex, &u); err != nil {
			return err
		}
		return dev.ReadPixels(r.tgt, out)
	})
	if err != nil {
		return fmt.Errorf("gpu: render: %w", err)
	}
	if !direct {
		putPixels(dst, b, out, f.Color == viewer.Monochrome)
	}
	return nil
}

// lutTexture returns the texture of LUT l for unit, uploading it when the unit
// holds another LUT. It runs on the render thread.
func (r *Renderer) lutTexture(dev device, unit int, l *viewer.LUT) (texture, error) {
	cur := &r.luts[unit]
	if cur.tex != 0 && cur.src == l && cur.n == len(l.Data) {
		return cur.tex, nil
	}
	if cur.tex != 0 {
		dev.DeleteTexture(cur.tex)
		*cur = lutTexture{}
	}
	data := l.Data
	if len(data) == 0 {
		data = []uint16{0} // an empty LUT maps everything to 0, as viewer's Lookup does
	}
	rows := (len(data) + lutWidth - 1) / lutWidth
	buf := make([]uint16, rows*lutWidth)
	copy(buf, data)
	t, err := dev.NewTexture(fmtR16UI, lutWidth, rows, unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), 2*len(buf)))
	if err != nil {
		return 0, err
	}
	*cur = lutTexture{src: l, n: len(l.Data), tex: t}
	return t, nil
}

// lutsOf returns the LUT each texture unit needs for drawing f with d.
func lutsOf(f *viewer.Frame, d *viewer.Display) (l [numUnits]*viewer.LUT) {
	switch f.Color {
	case viewer.Monochrome:
		if d.ModalityLUT != nil {
			l[unitModalityLUT] = d.ModalityLUT
		}
		if d.VOILUT != nil {
			l[unitVOILUT] = d.VOILUT
		}
	case viewer.PaletteIndex:
		l[unitPaletteRed], l[unitPaletteGreen], l[unitPaletteBlue] = &d.Palette.Red, &d.Palette.Green, &d.Palette.Blue
	}
	return l
}

// Close deletes the renderer's textures and framebuffer. A closed Renderer
// cannot be used again.
func (r *Renderer) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.frame = nil
	err := r.ctx.do(func(dev device) error {
		if r.img != 0 {
			dev.DeleteTexture(r.img)
			r.img = 0
		}
		for i, t := range r.axes {
			if t != 0 {
				dev.DeleteTexture(t)
			}
			r.axes[i] = 0
		}
		for i := range r.luts {
			if r.luts[i].tex != 0 {
				dev.DeleteTexture(r.luts[i].tex)
			}
			r.luts[i] = lutTexture{}
		}
		if r.tgt.fbo != 0 {
			dev.DeleteTarget(r.tgt)
			r.tgt = target{}
		}
		return nil
	})
	if errors.Is(err, ErrClosed) {
		return nil // the objects went with the context
	}
	return err
}

// resolve turns a Display into the shader's uniforms for f drawn into w x h,
// computing every derived constant in float64 as viewer does.
func resolve(f *viewer.Frame, d *viewer.Display, w, h int) uniforms {
	u := uniforms{ImageSize: [2]int32{int32(f.Cols), int32(f.Rows)}}
	v := &d.View
	u.Bilinear = v.Interpolation == viewer.Bilinear
	col, row, swap := samplingAxes(samplingKey{view: *v, cols: f.Cols, rows: f.Rows, w: w, h: h})
	u.SwapAxes = swap
	if exactAxis(col) && exactAxis(row) {
		u.Direct = true
		for i, a := range [2]axis{col, row} {
			u.AxisOrigin[i], u.AxisStep[i], u.AxisSize[i] = float32(a.origin), float32(a.step), float32(a.size)
		}
	}

	switch f.Color {
	case viewer.Monochrome:
		u.Kind = kindGrey
	case viewer.PaletteIndex:
		u.Kind = kindPalette
		for c, l := range []*viewer.LUT{&d.Palette.Red, &d.Palette.Green, &d.Palette.Blue} {
			u.PalFirst[c], u.PalLen[c], u.Pal16[c] = int32(l.First), int32(max(len(l.Data), 1)), l.Bits == 16
			if len(l.Data) == 0 {
				u.PalFirst[c] = 0
			}
		}
		return u
	case viewer.RGB, viewer.YBRFull:
		u.Kind = kindRGB
		if f.Color == viewer.YBRFull {
			u.Kind = kindYBR
		}
		u.ColorShift = int32(d.RGBShift)
		if d.RGBShift < 0 || d.RGBShift > 31 {
			u.ColorShift = 32 // the shader gives 0, as Go's shift does
		}
		return u
	}

	if l := d.ModalityLUT; l != nil {
		u.ModLUT, u.ModFirst, u.ModLUTLen = true, int32(l.First), int32(max(len(l.Data), 1))
	} else {
		s := d.Slope
		if s == 0 {
			s = 1
		}
		u.Slope, u.Intercept = float32(s), float32(d.Intercept)
	}
	if l := d.VOILUT; l != nil {
		bits := l.Bits
		if bits < 1 || bits > 16 {
			bits = 16
		}
		u.VOIMode, u.VOIFirst, u.VOILUTLen = voiLUT, int32(l.First), int32(max(len(l.Data), 1))
		u.VOIMax = float32(int(1)<<bits - 1)
	} else {
		c, wd := d.Window.Center, d.Window.Width
		switch d.Window.Function {
		case viewer.Sigmoid:
			u.VOIMode = voiSigmoid
			u.WinCenter, u.WinWidth = float32(c), float32(wd)
		case viewer.LinearExact:
			u.VOIMode = voiWindow
			u.WinLo, u.WinHi = float32(c-wd/2), float32(c+wd/2)
			u.WinCenter, u.WinWidth = float32(c), float32(wd)
		default:
			u.VOIMode = voiWindow
			u.WinLo, u.WinHi = float32(c-0.5-(wd-1)/2), float32(c-0.5+(wd-1)/2)
			u.WinCenter, u.WinWidth = float32(c-0.5), float32(wd-1)
		}
		if math.IsNaN(c) || math.IsNaN(wd) {
			u.WinLo = math.MaxFloat32 // nothing to apply: black, as the CPU's NaN rounds to 0
		}
	}
	u.Invert = d.Invert
	return u
}

// putPixels writes RGBA rows (target row 0 first) into dst, as viewer's CPU
// renderer writes them.
func putPixels(dst draw.Image, b image.Rectangle, px []byte, grey bool) {
	w := b.Dx()
	for y := 0; y < b.Dy(); y++ {
		viewer.PutRow(dst, b, y, px[4*w*y:4*w*(y+1)], grey)
	}
}
