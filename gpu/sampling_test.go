package gpu

import (
	"math"
	"testing"

	"teleread/viewer"
)

// TestExactAxis checks which views the shader may place its samples for
// without tables, and that for those float32 arithmetic (with or without a
// fused multiply-add) gives exactly the tables' float64 entries.
func TestExactAxis(t *testing.T) {
	tests := []struct {
		name       string
		view       viewer.View
		cols, rows int
		w, h       int
		exact      bool
	}{
		{"identity", viewer.View{Zoom: 1}, 512, 512, 512, 512, true},
		{"fit 2048 into 1024", viewer.View{}, 2048, 2048, 1024, 1024, true},
		{"fit 512 into 2048 bilinear", viewer.View{Interpolation: viewer.Bilinear}, 512, 512, 2048, 2048, true},
		{"odd target, half-pixel pan", viewer.View{Zoom: 1, PanX: 0.5, PanY: -3}, 512, 512, 301, 299, true},
		{"rotated, flipped zoom 2", viewer.View{Zoom: 2, Rotation: 3, FlipH: true}, 640, 480, 800, 600, true},
		{"zoom 1/8", viewer.View{Zoom: 0.125, PanX: -17.25}, 4096, 4096, 700, 500, true},
		{"zoom 0.37", viewer.View{Zoom: 0.37}, 512, 512, 200, 200, false},
		{"fit 512 into 700", viewer.View{}, 512, 512, 700, 700, false},
		{"pan 0.1", viewer.View{Zoom: 1, PanX: 0.1}, 512, 512, 512, 512, false},
		{"NaN pan", viewer.View{Zoom: 1, PanX: math.NaN()}, 512, 512, 512, 512, false},
		{"pan beyond float32", viewer.View{Zoom: 1, PanX: 1 << 30}, 512, 512, 512, 512, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := samplingKey{view: tt.view, cols: tt.cols, rows: tt.rows, w: tt.w, h: tt.h}
			col, row, _ := samplingAxes(k)
			if got := exactAxis(col) && exactAxis(row); got != tt.exact {
				t.Fatalf("exact %v, want %v (col %+v, row %+v)", got, tt.exact, col, row)
			}
			if !tt.exact {
				return
			}
			ct, rt, _ := samplingTables(k)
			for _, c := range []struct {
				a   axis
				tab []float32
			}{{col, ct}, {row, rt}} {
				for i := 0; i < c.a.n; i++ {
					want := c.tab[4*i : 4*i+4]
					o, s, fi := float32(c.a.origin), float32(c.a.step), float32(i)
					for _, p := range []float32{o + fi*s, float32(math.FMA(float64(fi), float64(s), float64(o)))} {
						if !(p >= 0 && p < float32(c.a.size)) {
							if want[0] != -1 {
								t.Fatalf("entry %d: p=%v outside, table %v", i, p, want)
							}
							continue
						}
						f := p - 0.5
						f0 := float32(math.Floor(float64(f)))
						a := f - f0
						got := []float32{float32(math.Floor(float64(p))), f0, 1 - a, a}
						for j := range got {
							if got[j] != want[j] {
								t.Fatalf("entry %d: float32 %v, table %v", i, got, want)
							}
						}
					}
				}
			}
		})
	}
}
