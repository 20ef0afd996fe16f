package viewer

import (
	"fmt"
	"strings"

	"teleread/viewer/dataset"
)

// fgItems returns the functional group items that apply to frame n: its
// Per-Frame Functional Groups item, then the Shared one.
func fgItems(d *dataset.DataSet, n int) []*dataset.DataSet {
	var out []*dataset.DataSet
	if pf := d.Items(dataset.PerFrameFunctionalGroupsSequence); n >= 0 && n < len(pf) {
		out = append(out, pf[n])
	}
	if sh := d.Items(dataset.SharedFunctionalGroupsSequence); len(sh) > 0 {
		out = append(out, sh[0])
	}
	return out
}

// find returns the data set holding attribute t for frame n: the top level, or the
// first item of macro seq in the frame's per-frame then shared functional groups.
func find(d *dataset.DataSet, seq, t dataset.Tag, n int) *dataset.DataSet {
	if d.Has(t) {
		return d
	}
	for _, g := range fgItems(d, n) {
		if items := g.Items(seq); len(items) > 0 && items[0].Has(t) {
			return items[0]
		}
	}
	return nil
}

// DefaultDisplay returns the display parameters a frame is first shown with, exactly
// as the corpus references choose them: the Modality LUT Sequence or rescale (from the
// Pixel Value Transformation functional group for Enhanced objects); the first window
// (top level, else the Frame VOI LUT functional group); else the first VOI LUT
// Sequence item; else LINEAR_EXACT over the frame's modality value range.
// MONOCHROME1 and Presentation LUT Shape INVERSE invert (once). Colour frames get
// their palette or RGB shift.
func DefaultDisplay(img *Image, f *Frame) (*Display, error) {
	d := img.File.DataSet
	disp := &Display{Slope: 1}
	switch f.Color {
	case PaletteIndex:
		p, err := readPalette(d, img.PixelRepresentation == 1)
		if err != nil {
			return nil, fmt.Errorf("viewer: display of %s: %w", img.File.Name, err)
		}
		disp.Palette = p
		return disp, nil
	case RGB, YBRFull:
		if img.BitsStored > 8 {
			disp.RGBShift = img.BitsStored - 8
		}
		return disp, nil
	}
	signed := img.PixelRepresentation == 1
	if items := d.Items(dataset.ModalityLUTSequence); len(items) > 0 {
		l, err := readLUT(items[0], signed)
		if err != nil {
			return nil, fmt.Errorf("viewer: display of %s: modality LUT: %w", img.File.Name, err)
		}
		disp.ModalityLUT = l
	} else {
		if s := find(d, dataset.PixelValueTransformationSequence, dataset.RescaleSlope, f.Index); s != nil {
			if v, ok := s.Float(dataset.RescaleSlope); ok {
				disp.Slope = v
			}
		}
		if s := find(d, dataset.PixelValueTransformationSequence, dataset.RescaleIntercept, f.Index); s != nil {
			disp.Intercept, _ = s.Float(dataset.RescaleIntercept)
		}
	}
	disp.Invert = img.Monochrome1() || strings.EqualFold(d.String(dataset.PresentationLUTShape), "INVERSE")

	if w, ok := firstWindow(d, f.Index); ok && w.Valid() {
		disp.Window = w
		return disp, nil
	}
	if items := d.Items(dataset.VOILUTSequence); len(items) > 0 {
		if l, err := readLUT(items[0], signed); err == nil && len(l.Data) > 0 {
			disp.VOILUT = l
			return disp, nil
		}
	}
	lo, hi := modalityRange(disp, f)
	if hi > lo {
		disp.Window = Window{Center: (lo + hi) / 2, Width: hi - lo, Function: LinearExact}
	} else {
		// One value everywhere: LINEAR_EXACT with width 0 shows it as 0.
		disp.Window = Window{Center: lo, Width: 0, Function: LinearExact}
	}
	return disp, nil
}

// modalityRange returns the smallest and largest modality value of the frame.
func modalityRange(disp *Display, f *Frame) (lo, hi float64) {
	if disp.ModalityLUT == nil {
		a, b := f.MinMax()
		a, b = disp.Modality(a), disp.Modality(b)
		return min(a, b), max(a, b)
	}
	n := f.Len()
	for i := 0; i < n; i++ {
		v := disp.Modality(f.At(i))
		if i == 0 || v < lo {
			lo = v
		}
		if i == 0 || v > hi {
			hi = v
		}
	}
	return lo, hi
}

// firstWindow returns the first Window Center/Width pair for frame n with its VOI
// LUT Function.
func firstWindow(d *dataset.DataSet, n int) (Window, bool) {
	ws := windows(d, n)
	if len(ws) == 0 {
		return Window{}, false
	}
	return ws[0].Window, true
}

// windows returns every Window Center/Width pair for frame n, named.
func windows(d *dataset.DataSet, n int) []Preset {
	cs := find(d, dataset.FrameVOILUTSequence, dataset.WindowCenter, n)
	ws := find(d, dataset.FrameVOILUTSequence, dataset.WindowWidth, n)
	if cs == nil || ws == nil {
		return nil
	}
	centers, widths := cs.Floats(dataset.WindowCenter), ws.Floats(dataset.WindowWidth)
	fn := Linear
	if s := find(d, dataset.FrameVOILUTSequence, dataset.VOILUTFunction, n); s != nil {
		fn = ParseVOIFunction(strings.ToUpper(s.String(dataset.VOILUTFunction)))
	}
	var names []string
	if s := find(d, dataset.FrameVOILUTSequence, dataset.WindowCenterWidthExplanation, n); s != nil {
		names = s.Strings(dataset.WindowCenterWidthExplanation)
	}
	var out []Preset
	for i := 0; i < len(centers) && i < len(widths); i++ {
		name := fmt.Sprintf("Window %d", i+1)
		if i < len(names) && names[i] != "" {
			name = names[i]
		}
		out = append(out, Preset{Name: name, Window: Window{Center: centers[i], Width: widths[i], Function: fn}})
	}
	return out
}

// Presets returns the image's windows (frame 0's, for Enhanced objects) named by
// Window Center & Width Explanation, leaving out those that cannot be applied.
func Presets(img *Image) []Preset {
	var out []Preset
	for _, p := range windows(img.File.DataSet, 0) {
		if p.Window.Valid() {
			out = append(out, p)
		}
	}
	return out
}
