package viewer

import (
	"math"
	"strings"
	"testing"

	"teleread/viewer/dataset"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// usRegionItem builds one Sequence of Ultrasound Regions item.
func usRegionItem(x0, y0, x1, y1 uint32, ux, uy uint16, dx, dy float64, dataType uint16) []synthElem {
	return []synthElem{
		synthUS(tagRegionSpatialFormat, 1), synthUS(tagRegionDataType, dataType),
		synthUL(tagRegionLocationMinX0, x0), synthUL(tagRegionLocationMinY0, y0),
		synthUL(tagRegionLocationMaxX1, x1), synthUL(tagRegionLocationMaxY1, y1),
		synthUS(tagPhysicalUnitsXDirection, ux), synthUS(tagPhysicalUnitsYDirection, uy),
		synthFD(tagPhysicalDeltaX, dx), synthFD(tagPhysicalDeltaY, dy),
	}
}

type distCase struct {
	name       string
	a, b       ImagePoint
	want       float64
	wantUnit   PhysicalUnit
	wantRegion int
	noteHas    string // substring the note must contain ("" : note must be empty)
}

func checkDistance(t *testing.T, cal Calibration, tt distCase) {
	t.Helper()
	d := cal.Distance(tt.a, tt.b)
	if !near(d.Value, tt.want) || d.Unit != tt.wantUnit || d.Region != tt.wantRegion {
		t.Errorf("Distance(%v, %v) = %v %v region %d, want %v %v region %d (note %q)",
			tt.a, tt.b, d.Value, d.Unit, d.Region, tt.want, tt.wantUnit, tt.wantRegion, d.Note)
	}
	if tt.noteHas == "" && d.Note != "" || !strings.Contains(d.Note, tt.noteHas) {
		t.Errorf("note %q, want one containing %q", d.Note, tt.noteHas)
	}
	if !near(d.Pixels, math.Hypot(tt.b.X-tt.a.X, tt.b.Y-tt.a.Y)) {
		t.Errorf("Pixels = %v", d.Pixels)
	}
}

// TestCalibrationCorpus reads real files; expected spacings and regions are the
// values dcmdump prints for them.
func TestCalibrationCorpus(t *testing.T) {
	tests := []struct {
		file       string
		frame      int
		wantSource SpacingSource
		cases      []distCase
	}{
		// PixelSpacing DS [0.661468\0.661468]
		{"ct_small_explicit_le.dcm", 0, SpacingPixel, []distCase{
			{"horizontal", ImagePoint{0, 0}, ImagePoint{100, 0}, 66.1468, UnitMM, -1, ""},
			{"3-4-5", ImagePoint{10, 10}, ImagePoint{13, 14}, 5 * 0.661468, UnitMM, -1, ""},
		}},
		// Enhanced CT: PixelSpacing [0.388672\0.388672] only inside Pixel Measures Sequence.
		{"ct0012_enhanced_ct_jpeg_lossless_p14.dcm", 0, SpacingPixel, []distCase{
			{"vertical", ImagePoint{5, 0}, ImagePoint{5, 10}, 3.88672, UnitMM, -1, ""},
		}},
		// Enhanced MR with a top-level PixelSpacing [0.781250\0.781250].
		{"brmulti_enhanced_mr_nema.dcm", 0, SpacingPixel, []distCase{
			{"horizontal", ImagePoint{0, 0}, ImagePoint{8, 0}, 6.25, UnitMM, -1, ""},
		}},
		// ImagerPixelSpacing [0.4\0.4] and no PixelSpacing: at the detector.
		{"dx_j2k_lossless_16bit.dcm", 0, SpacingImager, []distCase{
			{"horizontal", ImagePoint{0, 0}, ImagePoint{100, 0}, 40, UnitMM, -1, "at detector"},
		}},
		// PixelSpacing [0.000\0.000]: unusable, so pixels.
		{"cr_rg1_j2k_lossy_mono1_large.dcm", 0, SpacingNone, []distCase{
			{"pixels", ImagePoint{0, 0}, ImagePoint{30, 40}, 50, UnitPixel, -1, "no Pixel Spacing"},
		}},
		// One region 84..595 x 31..414, cm on both axes, delta 0.051049705594778061 cm.
		{"us_cine_jpeg_ybr422_30f.dcm", 0, SpacingUltrasound, []distCase{
			{"inside", ImagePoint{100, 100}, ImagePoint{200, 100}, 100 * 0.51049705594778061, UnitMM, 0, ""},
			{"one end outside", ImagePoint{50, 100}, ImagePoint{200, 100}, 150, UnitPixel, -1, "crosses"},
			{"both outside", ImagePoint{1, 1}, ImagePoint{4, 5}, 5, UnitPixel, -1, "outside every"},
		}},
		// Regions 32..335 and 336..639 (x) by 24..415, cm, delta 0.038265306502580643 cm,
		// and a grey bar 32..63 x 40..103 without units inside the first.
		{"us_palette_segmented_lut.dcm", 0, SpacingUltrasound, []distCase{
			{"left region", ImagePoint{100, 200}, ImagePoint{200, 200}, 100 * 0.38265306502580643, UnitMM, 0, ""},
			{"right region", ImagePoint{400, 200}, ImagePoint{400, 300}, 100 * 0.38265306502580643, UnitMM, 1, ""},
			{"across the two regions", ImagePoint{300, 200}, ImagePoint{400, 200}, 100, UnitPixel, -1, "crosses"},
			{"last pixel of left to first of right", ImagePoint{335.5, 200}, ImagePoint{336.5, 200}, 1, UnitPixel, -1, "crosses"},
			{"inside the grey bar", ImagePoint{40, 50}, ImagePoint{50, 50}, 10, UnitPixel, 2, "no physical units"},
			{"grey bar to tissue", ImagePoint{40, 50}, ImagePoint{100, 50}, 60, UnitPixel, -1, "crosses"},
		}},
		// No regions and no spacing.
		{"us_rgb_planar1.dcm", 0, SpacingNone, []distCase{
			{"pixels", ImagePoint{0, 0}, ImagePoint{0, 7}, 7, UnitPixel, -1, "no Pixel Spacing"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f := openCorpus(t, tt.file)
			cal := CalibrationOf(f.DataSet, tt.frame)
			if cal.Source() != tt.wantSource {
				t.Fatalf("Source = %v, want %v", cal.Source(), tt.wantSource)
			}
			for _, c := range tt.cases {
				t.Run(c.name, func(t *testing.T) { checkDistance(t, cal, c) })
			}
		})
	}
}

func TestCalibrationSynthetic(t *testing.T) {
	pixelMeasures := func(ps string) []synthElem {
		return []synthElem{synthSQ(tagPixelMeasuresSequence, []synthElem{synthStr(dataset.PixelSpacing, "DS", ps)})}
	}
	tests := []struct {
		name       string
		big        bool
		frame      int
		elems      []synthElem
		wantSource SpacingSource
		cases      []distCase
	}{
		// Row spacing (between rows, along Y) 0.5, column spacing (along X) 2: a
		// viewer that swaps them gets 5 and 20 the wrong way round.
		{"anisotropic pixel spacing", false, 0, []synthElem{synthStr(dataset.PixelSpacing, "DS", `0.5\2.0`)}, SpacingPixel, []distCase{
			{"along X", ImagePoint{0, 0}, ImagePoint{10, 0}, 20, UnitMM, -1, ""},
			{"along Y", ImagePoint{0, 0}, ImagePoint{0, 10}, 5, UnitMM, -1, ""},
			{"diagonal", ImagePoint{1, 1}, ImagePoint{4, 5}, math.Hypot(6, 2), UnitMM, -1, ""},
		}},
		{"negative spacing", false, 0, []synthElem{synthStr(dataset.PixelSpacing, "DS", `-1\1`)}, SpacingNone, []distCase{
			{"pixels", ImagePoint{0, 0}, ImagePoint{3, 4}, 5, UnitPixel, -1, "no Pixel Spacing"},
		}},
		{"single spacing value", false, 0, []synthElem{synthStr(dataset.PixelSpacing, "DS", `1`)}, SpacingNone, []distCase{
			{"pixels", ImagePoint{0, 0}, ImagePoint{3, 4}, 5, UnitPixel, -1, "no Pixel Spacing"},
		}},
		{"pixel spacing equal to imager spacing is at the detector", false, 0, []synthElem{
			synthStr(dataset.PixelSpacing, "DS", `0.2\0.2`), synthStr(dataset.ImagerPixelSpacing, "DS", `0.2\0.2`)}, SpacingImager, []distCase{
			{"at detector", ImagePoint{0, 0}, ImagePoint{10, 0}, 2, UnitMM, -1, "at detector"},
		}},
		{"calibrated pixel spacing wins over imager spacing", false, 0, []synthElem{
			synthStr(dataset.PixelSpacing, "DS", `0.15\0.15`), synthStr(dataset.ImagerPixelSpacing, "DS", `0.2\0.2`)}, SpacingPixel, []distCase{
			{"in patient", ImagePoint{0, 0}, ImagePoint{10, 0}, 1.5, UnitMM, -1, ""},
		}},
		{"calibration type with equal spacings", false, 0, []synthElem{
			synthStr(dataset.PixelSpacing, "DS", `0.2\0.2`), synthStr(dataset.ImagerPixelSpacing, "DS", `0.2\0.2`),
			synthStr(tagPixelSpacingCalibrationType, "CS", "GEOMETRY")}, SpacingPixel, []distCase{
			{"geometry", ImagePoint{0, 0}, ImagePoint{10, 0}, 2, UnitMM, -1, "calibrated (geometry)"},
		}},
		{"shared functional groups", false, 0, []synthElem{synthSQ(dataset.SharedFunctionalGroupsSequence, pixelMeasures(`0.7\0.7`))}, SpacingPixel, []distCase{
			{"shared", ImagePoint{0, 0}, ImagePoint{10, 0}, 7, UnitMM, -1, ""},
		}},
		{"per-frame functional groups override shared", false, 1, []synthElem{
			synthSQ(dataset.SharedFunctionalGroupsSequence, pixelMeasures(`0.7\0.7`)),
			synthSQ(dataset.PerFrameFunctionalGroupsSequence, pixelMeasures(`0.1\0.1`), pixelMeasures(`0.3\0.3`))}, SpacingPixel, []distCase{
			{"frame 1", ImagePoint{0, 0}, ImagePoint{10, 0}, 3, UnitMM, -1, ""},
		}},
		{"big endian regions", true, 0, []synthElem{synthSQ(dataset.SequenceOfUltrasoundRegions,
			usRegionItem(10, 10, 109, 109, uint16(UnitCM), uint16(UnitCM), 0.02, 0.04, 1))}, SpacingUltrasound, []distCase{
			{"anisotropic region", ImagePoint{20, 20}, ImagePoint{23, 24}, math.Hypot(0.6, 1.6), UnitMM, 0, ""},
			{"last pixel is inside", ImagePoint{20, 20}, ImagePoint{109.99, 20}, 89.99 * 0.2, UnitMM, 0, ""},
			{"one past the last pixel is outside", ImagePoint{20, 20}, ImagePoint{110, 20}, 90, UnitPixel, -1, "crosses"},
		}},
		{"regions win over pixel spacing", false, 0, []synthElem{synthStr(dataset.PixelSpacing, "DS", `1\1`),
			synthSQ(dataset.SequenceOfUltrasoundRegions, usRegionItem(0, 0, 99, 99, uint16(UnitCM), uint16(UnitCM), 0.01, 0.01, 1))}, SpacingUltrasound, []distCase{
			{"region", ImagePoint{0, 0}, ImagePoint{50, 0}, 5, UnitMM, 0, ""},
			{"outside the region is pixels, not Pixel Spacing", ImagePoint{150, 0}, ImagePoint{160, 0}, 10, UnitPixel, -1, "outside"},
		}},
		{"m-mode: seconds by cm", false, 0, []synthElem{synthSQ(dataset.SequenceOfUltrasoundRegions,
			usRegionItem(0, 0, 199, 199, uint16(UnitSecond), uint16(UnitCM), 0.01, 0.05, 1))}, SpacingUltrasound, []distCase{
			{"mixed units in pixels", ImagePoint{10, 10}, ImagePoint{13, 14}, 5, UnitPixel, 0, "different units"},
		}},
		{"doppler: negative delta y", false, 0, []synthElem{synthSQ(dataset.SequenceOfUltrasoundRegions,
			usRegionItem(0, 0, 199, 199, uint16(UnitCMPerSecond), uint16(UnitCMPerSecond), 0.5, -2, 3))}, SpacingUltrasound, []distCase{
			{"same non-length units", ImagePoint{10, 10}, ImagePoint{10, 13}, 6, UnitCMPerSecond, 0, ""},
		}},
		{"equal overlapping regions that disagree", false, 0, []synthElem{synthSQ(dataset.SequenceOfUltrasoundRegions,
			usRegionItem(0, 0, 99, 99, uint16(UnitCM), uint16(UnitCM), 0.01, 0.01, 1),
			usRegionItem(0, 0, 99, 99, uint16(UnitCM), uint16(UnitCM), 0.02, 0.02, 1))}, SpacingUltrasound, []distCase{
			{"ambiguous", ImagePoint{10, 10}, ImagePoint{20, 10}, 10, UnitPixel, -1, "disagree"},
		}},
		{"nested smaller region decides", false, 0, []synthElem{synthSQ(dataset.SequenceOfUltrasoundRegions,
			usRegionItem(0, 0, 199, 199, uint16(UnitCM), uint16(UnitCM), 0.01, 0.01, 1),
			usRegionItem(50, 50, 99, 99, uint16(UnitCM), uint16(UnitCM), 0.03, 0.03, 1))}, SpacingUltrasound, []distCase{
			{"inner", ImagePoint{60, 60}, ImagePoint{70, 60}, 3, UnitMM, 1, ""},
			{"outer", ImagePoint{10, 10}, ImagePoint{20, 10}, 1, UnitMM, 0, ""},
			{"inner to outer", ImagePoint{60, 60}, ImagePoint{10, 60}, 50, UnitPixel, -1, "crosses"},
		}},
		{"zero delta is uncalibrated", false, 0, []synthElem{synthSQ(dataset.SequenceOfUltrasoundRegions,
			usRegionItem(0, 0, 99, 99, uint16(UnitCM), uint16(UnitCM), 0, 0.01, 1))}, SpacingUltrasound, []distCase{
			{"pixels", ImagePoint{10, 10}, ImagePoint{20, 10}, 10, UnitPixel, 0, "no physical units"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cal := CalibrationOf(synthDataSet(t, tt.big, tt.elems...), tt.frame)
			if cal.Source() != tt.wantSource {
				t.Fatalf("Source = %v, want %v", cal.Source(), tt.wantSource)
			}
			for _, c := range tt.cases {
				t.Run(c.name, func(t *testing.T) { checkDistance(t, cal, c) })
			}
		})
	}
}

// TestDistanceAxes checks the per-axis extents that M-mode and Doppler readings use.
func TestDistanceAxes(t *testing.T) {
	cal := UltrasoundCalibration([]USRegion{{X0: 0, Y0: 0, X1: 199, Y1: 199, UnitsX: UnitSecond, UnitsY: UnitCMPerSecond, DeltaX: 0.004, DeltaY: -1.5}})
	d := cal.Distance(ImagePoint{10, 50}, ImagePoint{60, 10})
	if !near(d.DX, 0.2) || d.UnitX != UnitSecond || !near(d.DY, 60) || d.UnitY != UnitCMPerSecond || d.Calibrated() {
		t.Errorf("got DX %v %v, DY %v %v, calibrated %v; want 0.2 s, 60 cm/s, false", d.DX, d.UnitX, d.DY, d.UnitY, d.Calibrated())
	}
}

func TestZeroCalibrationIsPixels(t *testing.T) {
	d := Calibration{}.Distance(ImagePoint{0, 0}, ImagePoint{3, 4})
	if d.Value != 5 || d.Unit != UnitPixel || d.Note == "" {
		t.Errorf("got %v", d)
	}
}
