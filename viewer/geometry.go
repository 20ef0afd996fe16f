package viewer

import (
	"fmt"
	"math"
	"strings"

	"teleread/viewer/dataset"
)

// Geometry attributes that dataset does not name.
var (
	tagPixelMeasuresSequence       = dataset.T(0x0028, 0x9110)
	tagPixelSpacingCalibrationType = dataset.T(0x0028, 0x0A02)
	tagRegionSpatialFormat         = dataset.T(0x0018, 0x6012)
	tagRegionDataType              = dataset.T(0x0018, 0x6014)
	tagRegionLocationMinX0         = dataset.T(0x0018, 0x6018)
	tagRegionLocationMinY0         = dataset.T(0x0018, 0x601A)
	tagRegionLocationMaxX1         = dataset.T(0x0018, 0x601C)
	tagRegionLocationMaxY1         = dataset.T(0x0018, 0x601E)
	tagPhysicalUnitsXDirection     = dataset.T(0x0018, 0x6024)
	tagPhysicalUnitsYDirection     = dataset.T(0x0018, 0x6026)
	tagPhysicalDeltaX              = dataset.T(0x0018, 0x602C)
	tagPhysicalDeltaY              = dataset.T(0x0018, 0x602E)
)

// ImagePoint is a position in an image, in pixels: X runs along a row (columns), Y
// down the rows. Pixel (c, r) covers [c, c+1) x [r, r+1), so its centre is
// (c+0.5, r+0.5); this is the convention View uses to map the screen to the image.
type ImagePoint struct{ X, Y float64 }

// PhysicalUnit is an ultrasound region's Physical Units X/Y Direction code
// (PS3.3 C.8.5.5.1.15), extended with UnitMM for Pixel Spacing.
type PhysicalUnit int

// Physical units of PS3.3 C.8.5.5.1.15; UnitMM and UnitPixel are not DICOM codes.
const (
	UnitNone        PhysicalUnit = 0x0
	UnitPercent     PhysicalUnit = 0x1
	UnitDB          PhysicalUnit = 0x2
	UnitCM          PhysicalUnit = 0x3
	UnitSecond      PhysicalUnit = 0x4
	UnitHertz       PhysicalUnit = 0x5
	UnitDBPerSecond PhysicalUnit = 0x6
	UnitCMPerSecond PhysicalUnit = 0x7
	UnitCM2         PhysicalUnit = 0x8
	UnitCM2PerSec   PhysicalUnit = 0x9
	UnitCM3         PhysicalUnit = 0xA
	UnitCM3PerSec   PhysicalUnit = 0xB
	UnitDegree      PhysicalUnit = 0xC
	UnitMM          PhysicalUnit = 0x100 // Pixel Spacing and ultrasound cm shown as mm
	UnitPixel       PhysicalUnit = 0x101 // uncalibrated
)

// String returns the unit's symbol.
func (u PhysicalUnit) String() string {
	switch u {
	case UnitNone:
		return "none"
	case UnitPercent:
		return "%"
	case UnitDB:
		return "dB"
	case UnitCM:
		return "cm"
	case UnitSecond:
		return "s"
	case UnitHertz:
		return "Hz"
	case UnitDBPerSecond:
		return "dB/s"
	case UnitCMPerSecond:
		return "cm/s"
	case UnitCM2:
		return "cm²"
	case UnitCM2PerSec:
		return "cm²/s"
	case UnitCM3:
		return "cm³"
	case UnitCM3PerSec:
		return "cm³/s"
	case UnitDegree:
		return "°"
	case UnitMM:
		return "mm"
	case UnitPixel:
		return "px"
	}
	return fmt.Sprintf("unit(%#x)", int(u))
}

// SpacingSource says where a Calibration's pixel spacing came from.
type SpacingSource int

const (
	// SpacingNone: no usable spacing; measurements are in pixels.
	SpacingNone SpacingSource = iota
	// SpacingPixel: Pixel Spacing (0028,0030), in the patient (or calibrated).
	SpacingPixel
	// SpacingImager: Imager Pixel Spacing (0018,1164), at the detector: objects away
	// from the detector are magnified, so lengths are larger than in the patient.
	SpacingImager
	// SpacingUltrasound: the Sequence of Ultrasound Regions (0018,6011).
	SpacingUltrasound
)

// USRegion is one item of the Sequence of Ultrasound Regions (PS3.3 C.8.5.5).
// Bounds are pixel indices, inclusive at both ends, as the standard has them.
type USRegion struct {
	X0, Y0, X1, Y1 int
	UnitsX, UnitsY PhysicalUnit
	DeltaX, DeltaY float64 // physical units per pixel along X and Y (the sign is the axis direction)
	SpatialFormat  int     // Region Spatial Format: 1 2D, 2 M-mode, 3 spectral, ...
	DataType       int     // Region Data Type: 1 tissue, 2 colour flow, 3 PW, 0xD grey bar, ...
}

// contains reports whether p lies on one of the region's pixels.
func (r USRegion) contains(p ImagePoint) bool {
	return p.X >= float64(r.X0) && p.X < float64(r.X1)+1 && p.Y >= float64(r.Y0) && p.Y < float64(r.Y1)+1
}

// calibrated reports whether both axes carry a physical unit and a non-zero delta.
func (r USRegion) calibrated() bool {
	return r.UnitsX != UnitNone && r.UnitsY != UnitNone && r.DeltaX != 0 && r.DeltaY != 0 &&
		!math.IsNaN(r.DeltaX) && !math.IsNaN(r.DeltaY) && !math.IsInf(r.DeltaX, 0) && !math.IsInf(r.DeltaY, 0)
}

func (r USRegion) area() int { return (r.X1 - r.X0 + 1) * (r.Y1 - r.Y0 + 1) }

// Calibration turns image positions into physical measurements for one frame. Build
// it with CalibrationOf or, from plain values, with PixelSpacingCalibration and
// UltrasoundCalibration. The zero value measures in pixels.
type Calibration struct {
	source     SpacingSource
	rowSpacing float64 // mm between rows (vertical, Y)
	colSpacing float64 // mm between columns (horizontal, X)
	note       string  // caveat shown beside every calibrated value
	regions    []USRegion
}

// PixelSpacingCalibration returns a calibration from a spacing pair as Pixel Spacing
// stores it: row spacing (between rows, along Y) first, column spacing (along X)
// second, in mm. Non-positive or non-finite values give a pixel calibration.
func PixelSpacingCalibration(rowSpacing, colSpacing float64, source SpacingSource, note string) Calibration {
	if !validSpacing(rowSpacing) || !validSpacing(colSpacing) {
		return Calibration{note: "pixel spacing is zero or invalid"}
	}
	if source != SpacingImager {
		source = SpacingPixel
	}
	return Calibration{source: source, rowSpacing: rowSpacing, colSpacing: colSpacing, note: note}
}

// UltrasoundCalibration returns a calibration from ultrasound regions.
func UltrasoundCalibration(regions []USRegion) Calibration {
	return Calibration{source: SpacingUltrasound, regions: append([]USRegion(nil), regions...)}
}

func validSpacing(v float64) bool {
	return v > 0 && !math.IsInf(v, 0) && !math.IsNaN(v) && v < 1e6
}

// CalibrationOf reads the measurement geometry of frame (0-based) of an image:
//   - the Sequence of Ultrasound Regions when present: then only the regions count,
//     and a measurement is calibrated only inside one region (see Calibration.Distance);
//   - else Pixel Spacing: top level, then the frame's Pixel Measures Sequence in the
//     Per-frame, then the Shared Functional Groups (enhanced objects);
//   - else Imager Pixel Spacing, noted "calibrated at detector";
//   - else pixels.
//
// Where Pixel Spacing equals Imager Pixel Spacing and no Pixel Spacing Calibration
// Type says otherwise, the spacing is still the detector's (PS3.3 C.8.11.4.1.1
// and IHE Mammography) and carries the same note.
func CalibrationOf(ds *dataset.DataSet, frame int) Calibration {
	if items := ds.Items(dataset.SequenceOfUltrasoundRegions); len(items) > 0 {
		regions := make([]USRegion, 0, len(items))
		for _, it := range items {
			regions = append(regions, readUSRegion(it))
		}
		return UltrasoundCalibration(regions)
	}
	imager := ds.Floats(dataset.ImagerPixelSpacing)
	const atDetector = "calibrated at detector (Imager Pixel Spacing): not corrected for magnification"
	if ps := pixelSpacingOf(ds, frame); len(ps) >= 2 && validSpacing(ps[0]) && validSpacing(ps[1]) {
		note := ""
		if len(imager) >= 2 && imager[0] == ps[0] && imager[1] == ps[1] && ds.String(tagPixelSpacingCalibrationType) == "" {
			return PixelSpacingCalibration(ps[0], ps[1], SpacingImager, atDetector)
		}
		if t := ds.String(tagPixelSpacingCalibrationType); t != "" {
			note = "Pixel Spacing calibrated (" + strings.ToLower(t) + ")"
		}
		return PixelSpacingCalibration(ps[0], ps[1], SpacingPixel, note)
	}
	if len(imager) >= 2 && validSpacing(imager[0]) && validSpacing(imager[1]) {
		return PixelSpacingCalibration(imager[0], imager[1], SpacingImager, atDetector)
	}
	return Calibration{note: "no Pixel Spacing, Imager Pixel Spacing or ultrasound regions"}
}

// pixelSpacingOf finds Pixel Spacing at the top level or in the functional groups.
func pixelSpacingOf(ds *dataset.DataSet, frame int) []float64 {
	if ps := ds.Floats(dataset.PixelSpacing); len(ps) >= 2 {
		return ps
	}
	if pf := ds.Items(dataset.PerFrameFunctionalGroupsSequence); frame >= 0 && frame < len(pf) {
		for _, m := range pf[frame].Items(tagPixelMeasuresSequence) {
			if ps := m.Floats(dataset.PixelSpacing); len(ps) >= 2 {
				return ps
			}
		}
	}
	for _, sh := range ds.Items(dataset.SharedFunctionalGroupsSequence) {
		for _, m := range sh.Items(tagPixelMeasuresSequence) {
			if ps := m.Floats(dataset.PixelSpacing); len(ps) >= 2 {
				return ps
			}
		}
	}
	return nil
}

func readUSRegion(it *dataset.DataSet) USRegion {
	var r USRegion
	r.X0, _ = it.Int(tagRegionLocationMinX0)
	r.Y0, _ = it.Int(tagRegionLocationMinY0)
	r.X1, _ = it.Int(tagRegionLocationMaxX1)
	r.Y1, _ = it.Int(tagRegionLocationMaxY1)
	ux, _ := it.Int(tagPhysicalUnitsXDirection)
	uy, _ := it.Int(tagPhysicalUnitsYDirection)
	r.UnitsX, r.UnitsY = PhysicalUnit(ux), PhysicalUnit(uy)
	r.DeltaX, _ = it.Float(tagPhysicalDeltaX)
	r.DeltaY, _ = it.Float(tagPhysicalDeltaY)
	r.SpatialFormat, _ = it.Int(tagRegionSpatialFormat)
	r.DataType, _ = it.Int(tagRegionDataType)
	return r
}

// Source returns where the calibration came from.
func (c Calibration) Source() SpacingSource { return c.source }

// Spacing returns the row and column spacing in mm (0, 0 for ultrasound or pixels).
func (c Calibration) Spacing() (row, col float64) { return c.rowSpacing, c.colSpacing }

// Regions returns the ultrasound regions (nil unless Source is SpacingUltrasound).
func (c Calibration) Regions() []USRegion { return append([]USRegion(nil), c.regions...) }

// Scale is how one pixel step along X and along Y maps to physical units, for the
// points of one measurement.
type Scale struct {
	// PerPixelX and PerPixelY are units per pixel along X and Y; both 1 when Unit is UnitPixel.
	PerPixelX, PerPixelY float64
	// UnitX and UnitY are the units of each axis; for a spatial calibration both are UnitMM.
	UnitX, UnitY PhysicalUnit
	// Region is the index of the ultrasound region used, -1 when none.
	Region int
	// Note explains a pixel result ("crosses two ultrasound regions") or qualifies a
	// calibrated one ("calibrated at detector ...").
	Note string
}

// Calibrated reports whether both axes are in the same physical unit, so a distance
// or an area can be stated in that unit.
func (s Scale) Calibrated() bool { return s.UnitX == s.UnitY && s.UnitX != UnitPixel }

// pixelScale is the uncalibrated scale with a reason.
func pixelScale(note string) Scale {
	return Scale{PerPixelX: 1, PerPixelY: 1, UnitX: UnitPixel, UnitY: UnitPixel, Region: -1, Note: note}
}

// ScaleFor returns the scale that applies to a measurement whose points are pts.
// With ultrasound regions every point must lie in exactly the same set of regions
// (a measurement crossing a region border is in pixels: the two sides need not share
// a scale), and the smallest region of that set decides; it must carry units on
// both axes. Axes in centimetres are given in mm. When the two axes have different
// units (M-mode time and depth, Doppler time and velocity) the scale says so:
// Calibrated is false, but the per-axis deltas stay usable.
func (c Calibration) ScaleFor(pts ...ImagePoint) Scale {
	switch c.source {
	case SpacingPixel, SpacingImager:
		return Scale{PerPixelX: c.colSpacing, PerPixelY: c.rowSpacing, UnitX: UnitMM, UnitY: UnitMM, Region: -1, Note: c.note}
	case SpacingUltrasound:
		return c.regionScale(pts)
	}
	note := c.note
	if note == "" {
		note = "no calibration"
	}
	return pixelScale(note)
}

func (c Calibration) regionScale(pts []ImagePoint) Scale {
	if len(pts) == 0 {
		return pixelScale("no points")
	}
	var common []int
	for i, r := range c.regions {
		if r.contains(pts[0]) {
			common = append(common, i)
		}
	}
	for _, p := range pts[1:] {
		for i, r := range c.regions {
			in := r.contains(p)
			was := false
			for _, k := range common {
				if k == i {
					was = true
				}
			}
			if in != was {
				return pixelScale("measurement crosses an ultrasound region border: not calibrated")
			}
		}
	}
	if len(common) == 0 {
		return pixelScale("outside every ultrasound region: not calibrated")
	}
	best := common[0]
	for _, i := range common[1:] {
		if c.regions[i].area() < c.regions[best].area() {
			best = i
		}
	}
	for _, i := range common {
		if i != best && c.regions[i].area() == c.regions[best].area() && !sameCalibration(c.regions[i], c.regions[best]) {
			return pixelScale("overlapping ultrasound regions disagree: not calibrated")
		}
	}
	r := c.regions[best]
	if !r.calibrated() {
		s := pixelScale("ultrasound region has no physical units: not calibrated")
		s.Region = best
		return s
	}
	s := Scale{PerPixelX: math.Abs(r.DeltaX), PerPixelY: math.Abs(r.DeltaY), UnitX: r.UnitsX, UnitY: r.UnitsY, Region: best}
	if s.UnitX == UnitCM {
		s.PerPixelX, s.UnitX = s.PerPixelX*10, UnitMM
	}
	if s.UnitY == UnitCM {
		s.PerPixelY, s.UnitY = s.PerPixelY*10, UnitMM
	}
	if s.UnitX != s.UnitY {
		s.Note = fmt.Sprintf("ultrasound region axes have different units (%v, %v): distance in pixels", s.UnitX, s.UnitY)
	}
	return s
}

func sameCalibration(a, b USRegion) bool {
	return a.UnitsX == b.UnitsX && a.UnitsY == b.UnitsY && math.Abs(a.DeltaX) == math.Abs(b.DeltaX) && math.Abs(a.DeltaY) == math.Abs(b.DeltaY)
}

// Distance is a length between two image points.
type Distance struct {
	Value  float64      // in Unit
	Unit   PhysicalUnit // UnitMM when calibrated spatially, UnitPixel when not, else the region's unit
	Pixels float64      // the same length in pixels, always
	// DX and DY are the absolute extents along each axis in UnitX / UnitY
	// (for M-mode or Doppler regions: elapsed time and depth or velocity).
	DX, DY       float64
	UnitX, UnitY PhysicalUnit
	Region       int    // ultrasound region used, -1 when none
	Note         string // why the value is in pixels, or a caveat on the calibration
}

// Calibrated reports whether Value is in a physical unit.
func (d Distance) Calibrated() bool { return d.Unit != UnitPixel }

// String formats the distance for an overlay, with its caveat.
func (d Distance) String() string {
	s := fmt.Sprintf("%.2f %v", d.Value, d.Unit)
	if d.Note != "" {
		s += " (" + d.Note + ")"
	}
	return s
}

// Distance returns the distance between a and b: in mm (or the region's common unit)
// when the calibration covers both points with the same unit on both axes, otherwise
// in pixels with the reason in Note.
func (c Calibration) Distance(a, b ImagePoint) Distance {
	s := c.ScaleFor(a, b)
	dx, dy := math.Abs(b.X-a.X), math.Abs(b.Y-a.Y)
	d := Distance{
		Pixels: math.Hypot(dx, dy),
		DX:     dx * s.PerPixelX, DY: dy * s.PerPixelY,
		UnitX: s.UnitX, UnitY: s.UnitY,
		Region: s.Region, Note: s.Note,
	}
	if s.Calibrated() {
		d.Value, d.Unit = math.Hypot(d.DX, d.DY), s.UnitX
	} else {
		d.Value, d.Unit = d.Pixels, UnitPixel
	}
	return d
}
