package gpu

import (
	"math"
	"path/filepath"
	"testing"

	"teleread/viewer"
)

// TestViewsMatchCPU renders corpus files of every kind with zoom, pan, rotation,
// flips and bilinear interpolation into targets of other sizes: GPU and CPU
// agree within 1 on every pixel.
func TestViewsMatchCPU(t *testing.T) {
	dir, entries := corpus(t)
	ids := map[string]bool{
		"ct2_jpeg_lossless_sv1": true, "cr_mono1_chest_nometa": true, "sc_rgb_16bit": true, "sc_rgb_32bit": true,
		"sc_ybr_full_uncompressed": true, "us_palette_segmented_lut": true, "sc_palette_testpattern": true,
		"parametric_map_float32": true, "sc_modality_lut_sequence": true, "sc_voi_lut_sequence": true,
		"rtdose_32bit_multiframe": true, "image_deflate_sc": true, "mr_small_explicit_le": true,
	}
	// mode is how the shader places its samples, when the view fixes it:
	// computed exactly from the fragment position, or read from the tables.
	const (
		direct = "direct"
		tables = "tables"
	)
	views := []struct {
		name string
		w, h int // 0: the frame's size (1:1)
		view viewer.View
		win  *viewer.Window
		mode string
	}{
		{name: "fit", w: 300, h: 200},
		{name: "native", view: viewer.View{Zoom: 1}, mode: direct},
		{name: "native-bilinear", view: viewer.View{Zoom: 1, Interpolation: viewer.Bilinear}, mode: direct},
		{name: "zoom2-pan", w: 257, h: 191, view: viewer.View{Zoom: 2, PanX: 13.5, PanY: -7}, mode: direct},
		{name: "zoom0.5-rot1-flipH", w: 150, h: 101, view: viewer.View{Zoom: 0.5, Rotation: 1, FlipH: true}, mode: direct},
		{name: "bilinear-zoom4-pan", w: 203, h: 117, view: viewer.View{Zoom: 4, PanX: 0.25, PanY: -3.5,
			Interpolation: viewer.Bilinear}, mode: direct},
		{name: "bilinear-zoom0.25-rot3", w: 64, h: 80, view: viewer.View{Zoom: 0.25, Rotation: 3, FlipV: true,
			Interpolation: viewer.Bilinear}, mode: direct},
		{name: "zoom0.37-rot1", w: 160, h: 120, view: viewer.View{Zoom: 0.37, Rotation: 1}, mode: tables},
		{name: "rot2-flipH", w: 128, h: 128, view: viewer.View{Rotation: 2, FlipH: true}},
		{name: "rot3-flipV-pan", w: 200, h: 100, view: viewer.View{Rotation: 3, FlipV: true, PanX: -20}},
		{name: "bilinear-zoom3", w: 181, h: 149, view: viewer.View{Zoom: 3.25, PanX: 5, Interpolation: viewer.Bilinear},
			mode: tables},
		{name: "bilinear-fit-rot1", w: 301, h: 211, view: viewer.View{Rotation: 1, Interpolation: viewer.Bilinear}},
		{name: "sigmoid", w: 200, h: 200, win: &viewer.Window{Center: 100, Width: 300, Function: viewer.Sigmoid}},
		{name: "linear-exact", w: 200, h: 200, win: &viewer.Window{Center: 50.5, Width: 201, Function: viewer.LinearExact}},
		{name: "linear-narrow", w: 200, h: 200, win: &viewer.Window{Center: 60, Width: 1}},
	}
	c := headless(t)
	r := c.NewRenderer()
	defer r.Close()
	var cpu viewer.CPURenderer
	for _, e := range entries {
		if !ids[e.ID] {
			continue
		}
		f, d0 := openFrame0(t, filepath.Join(dir, e.File))
		if err := r.Upload(f); err != nil {
			t.Fatalf("%s: upload: %v", e.ID, err)
		}
		if err := cpu.Upload(f); err != nil {
			t.Fatal(err)
		}
		for _, v := range views {
			if v.win != nil && (f.Color != viewer.Monochrome || d0.VOILUT != nil) {
				continue // a window applies only to grey frames shown through a window
			}
			t.Run(e.ID+"/"+v.name, func(t *testing.T) {
				d := *d0
				d.View = v.view
				if v.win != nil {
					d.Window = *v.win
				}
				w, h := v.w, v.h
				if w == 0 {
					w, h = f.Cols, f.Rows
				}
				mode := tables
				if resolve(f, &d, w, h).Direct {
					mode = direct
				}
				if v.mode != "" && mode != v.mode {
					t.Errorf("samples placed by %s, want %s", mode, v.mode)
				}
				got, want := newTarget(f, w, h), newTarget(f, w, h)
				if err := r.Render(&d, got); err != nil {
					t.Fatalf("gpu: %v", err)
				}
				if err := cpu.Render(&d, want); err != nil {
					t.Fatalf("cpu: %v", err)
				}
				g, wnt := displayBytes(got), displayBytes(want)
				// Bilinear YBR: each interpolated channel is rounded before the colour
				// equations, so a float32 and a float64 rounding that part at .5 give
				// two channels off by 1, and R or B off by 2.
				tol := 1
				if f.Color == viewer.YBRFull && v.view.Interpolation == viewer.Bilinear {
					tol = 2
				}
				if m, n, first := maxDiff(g, wnt, tol); m > tol {
					spp := len(g) / (w * h)
					t.Errorf("GPU (%s) differs from CPU by up to %d (%d samples differ), first beyond 1 at x=%d y=%d: got %d want %d",
						mode, m, n, first/spp%w, first/spp/w, g[first], wnt[first])
				}
				if b := bias(g, wnt); math.Abs(b) >= maxBias {
					t.Errorf("GPU (%s) differs from CPU by %+.4f on average: a rounding bias", mode, b)
				}
			})
		}
	}
}
