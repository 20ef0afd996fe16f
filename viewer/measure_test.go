package viewer

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMeasureAngle(t *testing.T) {
	iso := PixelSpacingCalibration(0.5, 0.5, SpacingPixel, "")
	// Rows 1 mm apart, columns 2 mm apart: a 45° line on screen is 26.57° in the patient.
	aniso := PixelSpacingCalibration(1, 2, SpacingPixel, "")
	us := UltrasoundCalibration([]USRegion{
		{X0: 0, Y0: 0, X1: 99, Y1: 99, UnitsX: UnitCM, UnitsY: UnitCM, DeltaX: 0.01, DeltaY: 0.01},
		{X0: 100, Y0: 0, X1: 199, Y1: 99, UnitsX: UnitCM, UnitsY: UnitCM, DeltaX: 0.01, DeltaY: 0.01},
	})
	tests := []struct {
		name         string
		cal          Calibration
		a, v, b      ImagePoint
		want         float64
		wantPhysical bool
		noteHas      string
	}{
		{"right angle", iso, ImagePoint{10, 0}, ImagePoint{0, 0}, ImagePoint{0, 10}, 90, true, ""},
		{"straight", iso, ImagePoint{-5, 3}, ImagePoint{0, 3}, ImagePoint{7, 3}, 180, true, ""},
		{"acute", iso, ImagePoint{10, 0}, ImagePoint{0, 0}, ImagePoint{10, 10}, 45, true, ""},
		{"order of arms does not matter", iso, ImagePoint{10, 10}, ImagePoint{0, 0}, ImagePoint{10, 0}, 45, true, ""},
		{"nearly straight keeps precision", iso, ImagePoint{-1e4, 0}, ImagePoint{0, 0}, ImagePoint{1e4, 1e-3}, 180 - math.Atan2(1e-3, 1e4)*180/math.Pi, true, ""},
		{"anisotropic pixels", aniso, ImagePoint{1, 0}, ImagePoint{0, 0}, ImagePoint{1, 1}, math.Atan2(1, 2) * 180 / math.Pi, true, ""},
		{"uncalibrated", Calibration{}, ImagePoint{1, 0}, ImagePoint{0, 0}, ImagePoint{1, 1}, 45, false, "no"},
		{"within one region", us, ImagePoint{60, 50}, ImagePoint{50, 50}, ImagePoint{50, 60}, 90, true, ""},
		{"across regions in pixel space", us, ImagePoint{150, 50}, ImagePoint{50, 50}, ImagePoint{50, 60}, 90, false, "crosses"},
		{"zero-length arm", iso, ImagePoint{0, 0}, ImagePoint{0, 0}, ImagePoint{1, 1}, 0, true, "zero length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MeasureAngle(tt.cal, tt.a, tt.v, tt.b)
			if math.Abs(got.Degrees-tt.want) > 1e-9 || got.Physical != tt.wantPhysical {
				t.Errorf("got %v° physical %v, want %v° physical %v (note %q)", got.Degrees, got.Physical, tt.want, tt.wantPhysical, got.Note)
			}
			if tt.noteHas == "" && got.Note != "" || !strings.Contains(got.Note, tt.noteHas) {
				t.Errorf("note %q, want one containing %q", got.Note, tt.noteHas)
			}
		})
	}
}

func TestMeasureLength(t *testing.T) {
	d := MeasureLength(PixelSpacingCalibration(0.25, 0.5, SpacingPixel, ""), ImagePoint{0, 0}, ImagePoint{8, 12})
	if !near(d.Value, 5) || d.Unit != UnitMM {
		t.Errorf("got %v, want 5 mm", d)
	}
}

// ramp is a 10x10 frame whose value at (x, y) is x + 10y.
func ramp() []float64 {
	v := make([]float64, 100)
	for i := range v {
		v[i] = float64(i)
	}
	return v
}

// popStats is the textbook two-pass population mean and SD, to check the one-pass code.
func popStats(v []float64) (mean, sd float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(len(v)))
}

func TestMeasureEllipseSynthetic(t *testing.T) {
	// The 12 pixels of a radius-2 circle at (5,5): centres within 2 of it are columns
	// and rows 3..6 without the four corners.
	var circle []float64
	for y := 3; y <= 6; y++ {
		for x := 3; x <= 6; x++ {
			if (x == 3 || x == 6) && (y == 3 || y == 6) {
				continue
			}
			circle = append(circle, float64(x+10*y))
		}
	}
	cMean, cSD := popStats(circle)
	big := []float64{1e9 + 1, 1e9 + 2, 1e9 + 3, 1e9 + 2}
	withNaN := ramp()
	withNaN[55] = math.NaN()
	mm := PixelSpacingCalibration(0.5, 0.5, SpacingPixel, "")
	tests := []struct {
		name               string
		cal                Calibration
		e                  Ellipse
		values             []float64
		w, h               int
		count              int
		mean, sd, min, max float64
		area               float64
		areaUnit           string
	}{
		{"one pixel", Calibration{}, Ellipse{ImagePoint{5.5, 5.5}, 0.5, 0.5}, ramp(), 10, 10, 1, 55, 0, 55, 55, math.Pi / 4, "px²"},
		{"circle", Calibration{}, Ellipse{ImagePoint{5, 5}, 2, 2}, ramp(), 10, 10, 12, cMean, cSD, 34, 65, 4 * math.Pi, "px²"},
		{"circle in mm²", mm, Ellipse{ImagePoint{5, 5}, 2, 2}, ramp(), 10, 10, 12, cMean, cSD, 34, 65, math.Pi, "mm²"},
		{"from corners", mm, EllipseFromCorners(ImagePoint{7, 7}, ImagePoint{3, 3}), ramp(), 10, 10, 12, cMean, cSD, 34, 65, math.Pi, "mm²"},
		{"clipped by the image edge", Calibration{}, Ellipse{ImagePoint{0, 0}, 1, 1}, ramp(), 10, 10, 1, 0, 0, 0, 0, math.Pi, "px²"},
		{"entirely outside", Calibration{}, Ellipse{ImagePoint{-50, -50}, 3, 3}, ramp(), 10, 10, 0, 0, 0, 0, 0, 9 * math.Pi, "px²"},
		{"degenerate", Calibration{}, Ellipse{ImagePoint{5, 5}, 0, 3}, ramp(), 10, 10, 0, 0, 0, 0, 0, 0, "px²"},
		{"NaN left out", Calibration{}, Ellipse{ImagePoint{5.5, 5.5}, 1.2, 0.5}, withNaN, 10, 10, 2, 55, 1, 54, 56, math.Pi * 0.6, "px²"},
		// Values near 1e9 (a naive sum of squares loses the variance entirely).
		{"large offset", Calibration{}, Ellipse{ImagePoint{2, 0.5}, 2, 0.5}, big, 4, 1, 4, 1e9 + 2, math.Sqrt(0.5), 1e9 + 1, 1e9 + 3, math.Pi, "px²"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := MeasureEllipseValues(tt.cal, tt.e, tt.values, tt.w, tt.h)
			if err != nil {
				t.Fatal(err)
			}
			if st.Count != tt.count || !near(st.Mean, tt.mean) || !near(st.SD, tt.sd) || st.Min != tt.min || st.Max != tt.max ||
				!near(st.Area, tt.area) || st.AreaUnit != tt.areaUnit {
				t.Errorf("got n=%d mean %v sd %v min %v max %v area %v %s; want n=%d %v %v %v %v %v %s",
					st.Count, st.Mean, st.SD, st.Min, st.Max, st.Area, st.AreaUnit,
					tt.count, tt.mean, tt.sd, tt.min, tt.max, tt.area, tt.areaUnit)
			}
		})
	}
}

func TestMeasureEllipseCallbackPadding(t *testing.T) {
	// A callback that reports the padding value -2000 as not counted.
	v := ramp()
	v[54], v[55] = -2000, -2000
	st := MeasureEllipse(Calibration{}, Ellipse{ImagePoint{5, 5.5}, 2, 0.5}, 10, 10, func(x, y int) (float64, bool) {
		val := v[y*10+x]
		return val, val != -2000
	})
	if st.Count != 2 || st.Mean != 54.5 || st.Min != 53 || st.Max != 56 {
		t.Errorf("got %+v, want pixels 53 and 56 only", st)
	}
}

func TestMeasureEllipseUltrasound(t *testing.T) {
	us := UltrasoundCalibration([]USRegion{
		{X0: 0, Y0: 0, X1: 49, Y1: 49, UnitsX: UnitCM, UnitsY: UnitCM, DeltaX: 0.1, DeltaY: 0.1},
		{X0: 50, Y0: 0, X1: 99, Y1: 49, UnitsX: UnitSecond, UnitsY: UnitCMPerSecond, DeltaX: 0.01, DeltaY: 2},
	})
	vals := make([]float64, 100*50)
	tests := []struct {
		name    string
		e       Ellipse
		area    float64
		unit    string
		noteHas string
	}{
		// 1 mm per pixel: a 10 x 5 pixel ellipse is 50π mm².
		{"inside tissue region", Ellipse{ImagePoint{25, 25}, 10, 5}, 50 * math.Pi, "mm²", ""},
		{"across the border", Ellipse{ImagePoint{45, 25}, 10, 5}, 50 * math.Pi, "px²", "crosses"},
		{"inside doppler region", Ellipse{ImagePoint{75, 25}, 10, 5}, 50 * math.Pi, "px²", "units"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := MeasureEllipseValues(us, tt.e, vals, 100, 50)
			if err != nil {
				t.Fatal(err)
			}
			if !near(st.Area, tt.area) || st.AreaUnit != tt.unit || (tt.noteHas == "" && st.Note != "") || !strings.Contains(st.Note, tt.noteHas) {
				t.Errorf("got area %v %s note %q; want %v %s note with %q", st.Area, st.AreaUnit, st.Note, tt.area, tt.unit, tt.noteHas)
			}
		})
	}
}

func TestMeasureEllipseValuesErrors(t *testing.T) {
	tests := []struct {
		name   string
		values []float64
		w, h   int
	}{
		{"short", make([]float64, 99), 10, 10},
		{"long", make([]float64, 101), 10, 10},
		{"negative width", make([]float64, 10), -10, -1},
		{"overflowing size", make([]float64, 4), math.MaxInt / 2, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := MeasureEllipseValues(Calibration{}, Ellipse{ImagePoint{1, 1}, 1, 1}, tt.values, tt.w, tt.h)
			if !errors.Is(err, ErrROIValues) {
				t.Errorf("err = %v, want ErrROIValues", err)
			}
		})
	}
}

// TestMeasureEllipseCorpusCT measures ROIs in HU on the corpus CT's reference decode
// (refs/ct_small_explicit_le.stored.npy, int16, 128x128, Rescale 1/-1024), calibrated
// from the file. The expected figures were computed from the same array by a separate
// Python script with the standard library (statistics.fmean, statistics.pstdev over
// the pixels whose centres (x+0.5, y+0.5) lie in the ellipse; area π·rx·ry·0.661468²).
func TestMeasureEllipseCorpusCT(t *testing.T) {
	f := openCorpus(t, "ct_small_explicit_le.dcm")
	raw, err := os.ReadFile(filepath.Join(corpusDir, "..", "refs", "ct_small_explicit_le.stored.npy"))
	if err != nil {
		t.Fatal(err)
	}
	const off, w, h = 128, 128, 128 // npy_data_offset in MANIFEST.json
	if len(raw) < off+2*w*h || string(raw[1:6]) != "NUMPY" || !strings.Contains(string(raw[:off]), "'<i2'") {
		t.Fatalf("unexpected reference array layout")
	}
	hu := make([]float64, w*h)
	for i := range hu {
		hu[i] = float64(int16(binary.LittleEndian.Uint16(raw[off+2*i:])))*1 - 1024
	}
	cal := CalibrationOf(f.DataSet, 0)
	tests := []struct {
		e                  Ellipse
		count              int
		mean, sd, min, max float64
		areaMM2            float64
	}{
		{Ellipse{ImagePoint{64, 64}, 20, 10}, 632, 437.28164556962025, 302.3600206181005, -97, 1167, 274.9144365383401},
		{Ellipse{ImagePoint{40.3, 80.7}, 7.5, 12.25}, 289, 30.60553633217993, 28.499318946629064, -54, 96, 126.28881928479998},
		{Ellipse{ImagePoint{120, 5}, 30, 20}, 821, -412.91473812423874, 452.20051230316585, -896, 212, 824.7433096150203},
	}
	for _, tt := range tests {
		st, err := MeasureEllipseValues(cal, tt.e, hu, w, h)
		if err != nil {
			t.Fatal(err)
		}
		if st.Count != tt.count || !near(st.Mean, tt.mean) || !near(st.SD, tt.sd) || st.Min != tt.min || st.Max != tt.max ||
			!near(st.Area, tt.areaMM2) || st.AreaUnit != "mm²" {
			t.Errorf("%+v: got %+v; want n=%d mean %v sd %v min %v max %v area %v mm²", tt.e, st, tt.count, tt.mean, tt.sd, tt.min, tt.max, tt.areaMM2)
		}
	}
}

func BenchmarkMeasureEllipse512(b *testing.B) {
	vals := make([]float64, 512*512)
	for i := range vals {
		vals[i] = float64(i%4096) - 1024
	}
	e := Ellipse{ImagePoint{256, 256}, 200, 150}
	cal := PixelSpacingCalibration(0.7, 0.7, SpacingPixel, "")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := MeasureEllipseValues(cal, e, vals, 512, 512); err != nil {
			b.Fatal(err)
		}
	}
}

func TestModalityValues(t *testing.T) {
	f := &Frame{Rows: 2, Cols: 3, Samples: 1, I16: []int16{0, 1000, -2000, 24, 1024, 2048}, BitsStored: 16, Signed: true}
	d := &Display{Slope: 1, Intercept: -1024}
	vf := ModalityValues(f, d, -2000)
	tests := []struct {
		x, y   int
		want   float64
		wantOK bool
	}{
		{0, 0, -1024, true},
		{1, 0, -24, true},
		{2, 0, 0, false}, // padding
		{1, 1, 0, true},
		{3, 0, 0, false}, // outside
		{0, 2, 0, false},
		{-1, 0, 0, false},
	}
	for _, tt := range tests {
		if v, ok := vf(tt.x, tt.y); v != tt.want || ok != tt.wantOK {
			t.Errorf("(%d,%d) = %v %v, want %v %v", tt.x, tt.y, v, ok, tt.want, tt.wantOK)
		}
	}
	if _, ok := ModalityValues(&Frame{Rows: 1, Cols: 1, Samples: 3, U8: []uint8{1, 2, 3}}, d)(0, 0); ok {
		t.Error("colour frame gave a modality value")
	}
}
