package viewer

import (
	"errors"
	"fmt"
	"math"
)

// ErrROIValues is returned (wrapped) when an ROI's values do not match its image size.
var ErrROIValues = errors.New("roi values do not match the image size")

// MeasureLength returns the length of the line from a to b under cal: in mm where the
// calibration covers both ends, otherwise in pixels with the reason (see
// Calibration.Distance).
func MeasureLength(cal Calibration, a, b ImagePoint) Distance { return cal.Distance(a, b) }

// AngleResult is an angle measurement.
type AngleResult struct {
	Degrees float64 // 0..180
	// Physical is true when the angle was taken in physical space (mm on both axes),
	// which differs from the on-screen angle where rows and columns are spaced
	// differently. False means it was taken in pixel space; Note says why.
	Physical bool
	Note     string
}

// MeasureAngle returns the angle at vertex between the rays to a and b. With a
// calibration whose two axes share a unit (Pixel Spacing, or an ultrasound region in
// cm on both axes that holds all three points) the angle is taken in physical space,
// so anisotropic pixels do not bend it; otherwise in pixels. A ray of zero length
// gives 0 degrees and a Note.
func MeasureAngle(cal Calibration, a, vertex, b ImagePoint) AngleResult {
	s := cal.ScaleFor(a, vertex, b)
	sx, sy := 1.0, 1.0
	r := AngleResult{Note: s.Note}
	if s.Calibrated() {
		sx, sy, r.Physical = s.PerPixelX, s.PerPixelY, true
	}
	ux, uy := (a.X-vertex.X)*sx, (a.Y-vertex.Y)*sy
	vx, vy := (b.X-vertex.X)*sx, (b.Y-vertex.Y)*sy
	if (ux == 0 && uy == 0) || (vx == 0 && vy == 0) {
		r.Note = "an arm of the angle has zero length"
		return r
	}
	// atan2 of cross and dot products stays accurate near 0 and 180 degrees, where
	// acos of a normalised dot product loses half its digits.
	r.Degrees = math.Abs(math.Atan2(ux*vy-uy*vx, ux*vx+uy*vy)) * 180 / math.Pi
	return r
}

// Ellipse is an axis-aligned elliptical region of interest in image coordinates
// (see ImagePoint): centre and semi-axes along X and Y, in pixels.
type Ellipse struct {
	Center ImagePoint
	RX, RY float64
}

// EllipseFromCorners returns the ellipse inscribed in the rectangle with opposite
// corners a and b, as drawn by dragging.
func EllipseFromCorners(a, b ImagePoint) Ellipse {
	return Ellipse{
		Center: ImagePoint{(a.X + b.X) / 2, (a.Y + b.Y) / 2},
		RX:     math.Abs(b.X-a.X) / 2, RY: math.Abs(b.Y-a.Y) / 2,
	}
}

// ValueFunc returns the modality value (for CT, HU) of pixel (x, y) of one frame;
// ok false leaves the pixel out of the statistics (pixel padding, a masked value).
// A callback lets the statistics run on any frame type without copying it.
type ValueFunc func(x, y int) (v float64, ok bool)

// ROIStats are statistics of the modality values of the pixels in a region.
type ROIStats struct {
	Count    int     // pixels whose centre lies inside the region and whose value counted
	Mean, SD float64 // SD is the population standard deviation (divides by Count)
	Min, Max float64
	Area     float64 // area of the drawn ellipse (π·rx·ry), in AreaUnit
	AreaUnit string  // "mm²" when calibrated, else "px²"
	Note     string  // why the area is in pixels, or a caveat on the calibration
}

// MeasureEllipse returns the statistics of the pixels of a width x height frame whose
// centres lie inside e ((x+0.5-cx)/rx)² + ((y+0.5-cy)/ry)² <= 1), reading values
// through value. The area is the drawn ellipse's, calibrated like a length: in mm²
// when the calibration covers the whole ellipse with mm on both axes. An ROI that
// holds no counted pixel has Count 0 and zero statistics.
func MeasureEllipse(cal Calibration, e Ellipse, width, height int, value ValueFunc) ROIStats {
	var st ROIStats
	rx, ry := math.Abs(e.RX), math.Abs(e.RY)
	s := cal.ScaleFor(
		ImagePoint{e.Center.X - rx, e.Center.Y}, ImagePoint{e.Center.X + rx, e.Center.Y},
		ImagePoint{e.Center.X, e.Center.Y - ry}, ImagePoint{e.Center.X, e.Center.Y + ry},
	)
	st.Note = s.Note
	if s.Calibrated() && s.UnitX == UnitMM {
		st.Area, st.AreaUnit = math.Pi*rx*s.PerPixelX*ry*s.PerPixelY, "mm²"
	} else {
		st.Area, st.AreaUnit = math.Pi*rx*ry, "px²"
		if s.Calibrated() {
			st.Note = "area in pixels: region units are not lengths"
		}
	}
	if rx == 0 || ry == 0 || value == nil || math.IsNaN(rx+ry+e.Center.X+e.Center.Y) || math.IsInf(rx+ry+e.Center.X+e.Center.Y, 0) {
		return st
	}
	x0 := clampInt(math.Floor(e.Center.X-rx), 0, width)
	x1 := clampInt(math.Ceil(e.Center.X+rx), 0, width)
	y0 := clampInt(math.Floor(e.Center.Y-ry), 0, height)
	y1 := clampInt(math.Ceil(e.Center.Y+ry), 0, height)
	// Welford's running mean and squared deviations: one pass, stable for HU values
	// far from zero.
	var mean, m2 float64
	for y := y0; y < y1; y++ {
		dy := (float64(y) + 0.5 - e.Center.Y) / ry
		for x := x0; x < x1; x++ {
			dx := (float64(x) + 0.5 - e.Center.X) / rx
			if dx*dx+dy*dy > 1 {
				continue
			}
			v, ok := value(x, y)
			if !ok || math.IsNaN(v) {
				continue
			}
			st.Count++
			if st.Count == 1 || v < st.Min {
				st.Min = v
			}
			if st.Count == 1 || v > st.Max {
				st.Max = v
			}
			d := v - mean
			mean += d / float64(st.Count)
			m2 += d * (v - mean)
		}
	}
	if st.Count > 0 {
		st.Mean = mean
		st.SD = math.Sqrt(m2 / float64(st.Count))
	}
	return st
}

// MeasureEllipseValues is MeasureEllipse over a flat row-major slice of modality
// values (values[y*width+x]); NaN values are left out.
func MeasureEllipseValues(cal Calibration, e Ellipse, values []float64, width, height int) (ROIStats, error) {
	if width < 0 || height < 0 || (height > 0 && width > len(values)/height) || width*height != len(values) {
		return ROIStats{}, fmt.Errorf("viewer: measure ellipse: %d values for %dx%d: %w", len(values), width, height, ErrROIValues)
	}
	return MeasureEllipse(cal, e, width, height, func(x, y int) (float64, bool) {
		return values[y*width+x], true
	}), nil
}

func clampInt(v float64, lo, hi int) int {
	if v < float64(lo) {
		return lo
	}
	if v > float64(hi) {
		return hi
	}
	return int(v)
}

// ModalityValues returns a ValueFunc reading the modality values (for CT, HU) of a
// grey frame: stored value through d's Modality LUT stage (d nil: stored values).
// Stored values equal to one of padding (Pixel Padding Value) are left out, as are
// pixels outside the frame. Colour frames have no modality values: nothing counts.
func ModalityValues(f *Frame, d *Display, padding ...float64) ValueFunc {
	return func(x, y int) (float64, bool) {
		if f == nil || f.Samples != 1 || x < 0 || y < 0 || x >= f.Cols || y >= f.Rows || y*f.Cols+x >= f.Len() {
			return 0, false
		}
		s := f.At(y*f.Cols + x)
		for _, p := range padding {
			if s == p {
				return 0, false
			}
		}
		if d == nil {
			return s, true
		}
		return d.Modality(s), true
	}
}
