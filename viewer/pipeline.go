package viewer

import "math"

// floorInt returns floor(x) as an int, saturating far outside the int range.
func floorInt(x float64) int {
	f := math.Floor(x)
	switch {
	case f >= 1<<62:
		return 1 << 62
	case f <= -(1 << 62):
		return -(1 << 62)
	case f != f: // NaN
		return 0
	}
	return int(f)
}

// round8 is the 8-bit output of the pipeline: floor(y+0.5) clipped to 0..255.
func round8(y float64) uint8 {
	y = math.Floor(y + 0.5)
	switch {
	case y >= 255:
		return 255
	case y > 0:
		return uint8(y)
	}
	return 0 // also NaN
}

// Apply maps a modality value x to 0..255 (not yet rounded) with the window's
// function, exactly as PS3.3 C.11.2.1.2.1 (Linear), C.11.2.1.3.2 (LinearExact)
// and C.11.2.1.3.1 (Sigmoid) state them with an output range of 0..255.
func (w Window) Apply(x float64) float64 {
	c, wd := w.Center, w.Width
	switch w.Function {
	case Sigmoid:
		return 255 / (1 + math.Exp(-4*(x-c)/wd))
	case LinearExact:
		if x <= c-wd/2 {
			return 0
		}
		if x > c+wd/2 {
			return 255
		}
		return ((x-c)/wd + 0.5) * 255
	}
	if x <= c-0.5-(wd-1)/2 {
		return 0
	}
	if x > c-0.5+(wd-1)/2 {
		return 255
	}
	if wd > 1 {
		return ((x-(c-0.5))/(wd-1) + 0.5) * 255
	}
	return 255
}

// Modality applies the Modality LUT stage to a stored grey value.
func (d *Display) Modality(x float64) float64 {
	if d.ModalityLUT != nil {
		return d.ModalityLUT.Lookup(x)
	}
	s := d.Slope
	if s == 0 {
		s = 1
	}
	return x*s + d.Intercept
}

// VOI applies the VOI stage to a modality value, giving 0..255 before rounding.
func (d *Display) VOI(x float64) float64 {
	if d.VOILUT != nil {
		bits := d.VOILUT.Bits
		if bits < 1 || bits > 16 {
			bits = 16
		}
		return d.VOILUT.Lookup(x) * 255 / float64(int(1)<<bits-1)
	}
	return d.Window.Apply(x)
}

// Grey8 runs the whole grey pipeline on a stored value: modality, VOI,
// floor(y+0.5) clipped to 0..255, then the presentation inversion.
func (d *Display) Grey8(stored float64) uint8 {
	v := round8(d.VOI(d.Modality(stored)))
	if d.Invert {
		v = 255 - v
	}
	return v
}

// Colour8 maps one colour sample (already shifted by RGBShift) of an RGB frame: the
// low 8 bits are the display value.
func colour8(v uint32) uint8 { return uint8(v) }

// YBRToRGB converts one YBR_FULL triple (8-bit) with the PS3.3 C.7.6.3.1.2
// equations, rounded as floor(x+0.5) and clipped.
func YBRToRGB(y, cb, cr float64) (r, g, b uint8) {
	cb -= 128
	cr -= 128
	return round8(y + 1.402*cr), round8(y - 0.344136*cb - 0.714136*cr), round8(y + 1.772*cb)
}

// Palette8 maps a palette index to 8-bit R, G, B: each channel's entry, clipped to
// its table, shifted right by 8 for 16-bit tables and clipped to 255 otherwise.
func (p *Palette) Palette8(idx float64) (r, g, b uint8) {
	return p.Red.entry8(idx), p.Green.entry8(idx), p.Blue.entry8(idx)
}

func (l *LUT) entry8(idx float64) uint8 {
	if len(l.Data) == 0 {
		return 0
	}
	i := floorInt(idx) - l.First
	if i < 0 {
		i = 0
	} else if i >= len(l.Data) {
		i = len(l.Data) - 1
	}
	v := l.Data[i]
	if l.Bits == 16 {
		return uint8(v >> 8)
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}
