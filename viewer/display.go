package viewer

// VOIFunction is the VOI LUT Function (0028,1056) applied with a window.
type VOIFunction int

const (
	// Linear is PS3.3 C.11.2.1.2.1, the default; it needs Width >= 1.
	Linear VOIFunction = iota
	// LinearExact is PS3.3 C.11.2.1.3.2; it needs Width > 0 (Width 0 maps
	// values <= Center to 0 and the rest to 255).
	LinearExact
	// Sigmoid is PS3.3 C.11.2.1.3.1; it needs Width > 0.
	Sigmoid
)

// String returns the DICOM defined term of the function.
func (f VOIFunction) String() string {
	switch f {
	case LinearExact:
		return "LINEAR_EXACT"
	case Sigmoid:
		return "SIGMOID"
	}
	return "LINEAR"
}

// ParseVOIFunction maps a VOI LUT Function value to a VOIFunction; anything
// unknown or empty is Linear, the PS3.3 default.
func ParseVOIFunction(s string) VOIFunction {
	switch s {
	case "LINEAR_EXACT":
		return LinearExact
	case "SIGMOID":
		return Sigmoid
	}
	return Linear
}

// Window is a VOI window: Window Center (0028,1050) and Width (0028,1051) in
// modality units, with the function that maps them to 0..255.
type Window struct {
	Center, Width float64
	Function      VOIFunction
}

// Valid reports whether the window can be applied: Width >= 1 for Linear,
// Width > 0 for LinearExact and Sigmoid (PS3.3 C.11.2.1.2 and C.11.2.1.3).
func (w Window) Valid() bool {
	if w.Function == Linear {
		return w.Width >= 1
	}
	return w.Width > 0
}

// LUT is a DICOM lookup table (Modality LUT, VOI LUT, or one palette channel):
// input value First maps to Data[0], values below First to Data[0] and values past
// the end to the last entry (PS3.3 C.11.1.1, C.11.2.1.1).
type LUT struct {
	First int      // first input value mapped (2nd value of the LUT Descriptor)
	Bits  int      // bits per entry (3rd value of the LUT Descriptor)
	Data  []uint16 // the entries
}

// Lookup returns the entry for input x, rounded as floor(x+0.5) and clipped to the table.
func (l *LUT) Lookup(x float64) float64 {
	if len(l.Data) == 0 {
		return 0
	}
	i := floorInt(x+0.5) - l.First
	if i < 0 {
		i = 0
	} else if i >= len(l.Data) {
		i = len(l.Data) - 1
	}
	return float64(l.Data[i])
}

// Palette is the Red/Green/Blue Palette Color LUTs of a PALETTE COLOR image
// (PS3.3 C.7.6.3.1.5-6), segmented tables already expanded. An index i maps to
// Red.Data[clip(i-First)] etc.; 16-bit entries are shifted right by 8 for display,
// 8-bit entries are used as they are.
type Palette struct {
	Red, Green, Blue LUT
}

// Interpolation says how a Renderer samples the image when the view scales it.
type Interpolation int

const (
	// Nearest takes the nearest stored value (no new values are invented).
	Nearest Interpolation = iota
	// Bilinear interpolates the stored values (modality units for grey) of the four
	// nearest pixels, then applies the pipeline to the result. Palette indices are
	// always sampled nearest.
	Bilinear
)

// View places the image in the render target.
//
// A target pixel (tx, ty) is sampled at its centre: with s the scale, the point
// p = ((tx+0.5, ty+0.5) - targetCentre - Pan) / s is turned back by Rotation, flipped,
// and moved to the image centre, giving the image position (x, y); Nearest takes pixel
// (floor(x), floor(y)). Points outside the image are black. The zero View fits the
// image into the target (scale min(W/cols, H/rows) after rotation) and centres it, so
// rendering into a target of the image's own size is the identity.
type View struct {
	Zoom          float64 // target pixels per image pixel; 0 fits the image to the target
	PanX, PanY    float64 // offset of the image centre from the target centre, in target pixels
	Rotation      int     // quarter turns clockwise (taken modulo 4)
	FlipH, FlipV  bool    // mirror left-right / top-bottom (applied before the rotation)
	Interpolation Interpolation
}

// Display holds every parameter that turns a Frame into display values; the CPU
// and GPU renderers both read it, so both produce the same pixels.
//
// Grey frames (PS3.3 C.11): Modality LUT when ModalityLUT is set (input clipped to its
// range), else x*Slope+Intercept; then VOI: VOILUT when set (output scaled by
// 255/(2^Bits-1)), else Window; then floor(y+0.5) clipped to 0..255; then 255-y when
// Invert. Palette frames: Palette. RGB frames: v >> RGBShift. YBRFull frames: v >>
// RGBShift, then the C.7.6.3.1.2 equations, floor(x+0.5), clipped.
type Display struct {
	// Modality LUT stage (grey only).
	Slope, Intercept float64 // Rescale Slope / Intercept; Slope 0 is taken as 1
	ModalityLUT      *LUT    // first Modality LUT Sequence item; overrides Slope/Intercept

	// VOI stage (grey only).
	Window Window // used when VOILUT is nil
	VOILUT *LUT   // a VOI LUT Sequence item; overrides Window

	// Presentation stage (grey only): MONOCHROME1, or Presentation LUT Shape INVERSE.
	Invert bool

	// Colour.
	Palette  *Palette // PALETTE COLOR frames
	RGBShift int      // RGB / YBR frames: right shift that brings Bits Stored to 8

	View View
}

// Preset is a named window, one of the file's Window Center/Width pairs.
type Preset struct {
	Name   string // Window Center & Width Explanation, or "Window N" when none
	Window Window
}
