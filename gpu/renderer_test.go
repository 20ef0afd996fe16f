package gpu

import (
	"errors"
	"image"
	"testing"

	"teleread/viewer"
)

func ctFrame(size int) *viewer.Frame {
	f := &viewer.Frame{Rows: size, Cols: size, Samples: 1, Color: viewer.Monochrome, BitsStored: 12, Signed: true,
		I16: make([]int16, size*size)}
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			f.I16[y*size+x] = int16((x*7+y*13)%4096 - 2048)
		}
	}
	return f
}

func TestUploadOnceWindowRerunsShaderOnly(t *testing.T) {
	c, dev := fakeContext(t)
	r := c.NewRenderer()
	f := ctFrame(64)
	if err := r.Upload(f); err != nil {
		t.Fatal(err)
	}
	dst := image.NewGray(image.Rect(0, 0, 64, 64))
	d := &viewer.Display{Slope: 1, Window: viewer.Window{Center: 40, Width: 400}}
	if err := r.Render(d, dst); err != nil {
		t.Fatal(err)
	}
	var uploaded, textures, targets, draws int
	inspect(c, func() {
		uploaded, textures, targets, draws = dev.uploaded, len(dev.textures), dev.newTargets, dev.draws
	})
	if want := 64 * 64 * 2; uploaded != want {
		t.Errorf("first render uploaded %d bytes, want %d (the frame; the 1:1 view needs no sampling tables)", uploaded, want)
	}
	for i := 0; i < 20; i++ {
		d.Window.Center = float64(40 + i)
		d.Window.Width = float64(400 - i)
		if err := r.Render(d, dst); err != nil {
			t.Fatal(err)
		}
	}
	inspect(c, func() {
		if dev.uploaded != uploaded || len(dev.textures) != textures || dev.newTargets != targets {
			t.Errorf("window changes uploaded %d bytes, made %d textures, %d targets",
				dev.uploaded-uploaded, len(dev.textures)-textures, dev.newTargets-targets)
		}
		if dev.draws != draws+20 || dev.reads != draws+20 {
			t.Errorf("%d draws and %d reads for 21 renders", dev.draws, dev.reads)
		}
		if dev.last.WinCenter != float32(59-0.5) || dev.last.WinWidth != float32(381-1) {
			t.Errorf("last window uniforms %v %v", dev.last.WinCenter, dev.last.WinWidth)
		}
		if dev.updates[fmtR16I] != 0 || dev.newTex[fmtR16I] != 1 {
			t.Errorf("frame textures: %d made, %d updated", dev.newTex[fmtR16I], dev.updates[fmtR16I])
		}
	})
	// An integer pan is still computed in the shader; a zoom by 1.3 is not exact
	// in float32 and makes sampling tables; a pan at that zoom updates them in
	// place, not the frame.
	d.View.PanX = 3
	if err := r.Render(d, dst); err != nil {
		t.Fatal(err)
	}
	inspect(c, func() {
		if !dev.last.Direct || dev.newTex[fmtRGBA32F] != 0 {
			t.Errorf("integer pan: direct %v, %d sampling tables", dev.last.Direct, dev.newTex[fmtRGBA32F])
		}
	})
	d.View.Zoom = 1.3
	if err := r.Render(d, dst); err != nil {
		t.Fatal(err)
	}
	d.View.PanX = 4
	if err := r.Render(d, dst); err != nil {
		t.Fatal(err)
	}
	// A new target size makes a new target and deletes the old one.
	if err := r.Render(d, image.NewGray(image.Rect(0, 0, 32, 48))); err != nil {
		t.Fatal(err)
	}
	inspect(c, func() {
		// Made for the zoom and again for the new target size, updated for the pan.
		if dev.last.Direct || dev.newTex[fmtRGBA32F] != 4 || dev.updates[fmtRGBA32F] != 2 {
			t.Errorf("zoom 1.3: direct %v, %d sampling tables made, %d updated, want 4 and 2",
				dev.last.Direct, dev.newTex[fmtRGBA32F], dev.updates[fmtRGBA32F])
		}
		if len(dev.targets) != 1 || dev.newTargets != 2 {
			t.Errorf("%d live targets, %d made", len(dev.targets), dev.newTargets)
		}
	})
	// The next frame of the same size reuses the frame texture.
	if err := r.Upload(ctFrame(64)); err != nil {
		t.Fatal(err)
	}
	inspect(c, func() {
		if dev.updates[fmtR16I] != 1 || dev.newTex[fmtR16I] != 1 {
			t.Errorf("second frame: %d textures made, %d updated", dev.newTex[fmtR16I], dev.updates[fmtR16I])
		}
	})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	inspect(c, func() {
		if tx, tg, _ := dev.live(); tx != 0 || tg != 0 {
			t.Errorf("after Close: %d textures, %d targets alive", tx, tg)
		}
	})
	if err := r.Render(d, dst); !errors.Is(err, ErrClosed) {
		t.Errorf("Render after Close: %v, want ErrClosed", err)
	}
}

func TestLUTsUploadedOnce(t *testing.T) {
	c, dev := fakeContext(t)
	r := c.NewRenderer()
	defer r.Close()
	f := ctFrame(16)
	r.Upload(f)
	mod := &viewer.LUT{First: -2048, Bits: 16, Data: make([]uint16, 4096)}
	voi := &viewer.LUT{First: 0, Bits: 12, Data: make([]uint16, 300)}
	d := &viewer.Display{ModalityLUT: mod, VOILUT: voi}
	dst := image.NewGray(image.Rect(0, 0, 16, 16))
	for i := 0; i < 5; i++ {
		d.Invert = i%2 == 1
		if err := r.Render(d, dst); err != nil {
			t.Fatal(err)
		}
	}
	inspect(c, func() {
		if n := dev.newTex[fmtR16UI]; n != 2 {
			t.Errorf("%d LUT textures made for 5 renders with the same LUTs, want 2", n)
		}
		u := dev.last
		if !u.ModLUT || u.ModFirst != -2048 || u.ModLUTLen != 4096 || u.VOIMode != voiLUT || u.VOIMax != 4095 {
			t.Errorf("uniforms %+v", u)
		}
		if dev.lastTex[unitModalityLUT] == 0 || dev.lastTex[unitVOILUT] == 0 {
			t.Errorf("LUT units not bound: %v", dev.lastTex)
		}
	})
	d.VOILUT = &viewer.LUT{Bits: 8, Data: []uint16{1, 2, 3}}
	r.Render(d, dst)
	inspect(c, func() {
		if n, del := dev.newTex[fmtR16UI], dev.deleted; n != 3 || del != 1 {
			t.Errorf("new VOI LUT: %d LUT textures made, %d deleted; want 3 and 1", n, del)
		}
	})
}

func TestUploadFormats(t *testing.T) {
	tests := []struct {
		name    string
		f       *viewer.Frame
		want    texFormat
		wantErr bool
	}{
		{"u8", &viewer.Frame{Rows: 2, Cols: 2, Samples: 1, U8: make([]uint8, 4)}, fmtR8UI, false},
		{"i16", &viewer.Frame{Rows: 2, Cols: 2, Samples: 1, I16: make([]int16, 4)}, fmtR16I, false},
		{"u32", &viewer.Frame{Rows: 2, Cols: 2, Samples: 1, U32: make([]uint32, 4)}, fmtR32UI, false},
		{"f64", &viewer.Frame{Rows: 2, Cols: 2, Samples: 1, F64: make([]float64, 4)}, fmtR32F, false},
		{"rgb8", &viewer.Frame{Rows: 2, Cols: 2, Samples: 3, Color: viewer.RGB, U8: make([]uint8, 12)}, fmtRGB8UI, false},
		{"ybr16", &viewer.Frame{Rows: 2, Cols: 2, Samples: 3, Color: viewer.YBRFull, U16: make([]uint16, 12)}, fmtRGB16UI, false},
		{"rgb32", &viewer.Frame{Rows: 2, Cols: 2, Samples: 3, Color: viewer.RGB, U32: make([]uint32, 12)}, fmtRGB32UI, false},
		{"short slice", &viewer.Frame{Rows: 2, Cols: 2, Samples: 1, U16: make([]uint16, 3)}, 0, true},
		{"no samples", &viewer.Frame{Rows: 2, Cols: 2, Samples: 1}, 0, true},
		{"rgb one sample", &viewer.Frame{Rows: 2, Cols: 2, Samples: 1, Color: viewer.RGB, U8: make([]uint8, 4)}, 0, true},
		{"float colour", &viewer.Frame{Rows: 2, Cols: 2, Samples: 3, Color: viewer.RGB, F32: make([]float32, 12)}, 0, true},
		{"too large", &viewer.Frame{Rows: 5000, Cols: 1, Samples: 1, U8: make([]uint8, 5000)}, 0, true},
		{"nil", nil, 0, true},
	}
	c, dev := fakeContext(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.NewRenderer()
			defer r.Close()
			err := r.Upload(tt.f)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Upload: %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			inspect(c, func() {
				if got := dev.textures[r.img]; got != tt.want {
					t.Errorf("format %d, want %d", got, tt.want)
				}
			})
		})
	}
}

func TestRenderErrors(t *testing.T) {
	c, _ := fakeContext(t)
	r := c.NewRenderer()
	defer r.Close()
	dst := image.NewRGBA(image.Rect(0, 0, 4, 4))
	if err := r.Render(&viewer.Display{}, dst); err == nil {
		t.Error("Render before Upload succeeded")
	}
	r.Upload(&viewer.Frame{Rows: 2, Cols: 2, Samples: 1, Color: viewer.PaletteIndex, U8: make([]uint8, 4)})
	if err := r.Render(&viewer.Display{}, dst); !errors.Is(err, viewer.ErrInvalid) {
		t.Errorf("palette frame without palette: %v", err)
	}
	if err := r.Render(&viewer.Display{Palette: &viewer.Palette{}}, image.NewRGBA(image.Rect(0, 0, 5000, 2))); !errors.Is(err, ErrTooLarge) {
		t.Errorf("huge target: %v", err)
	}
	// Dimensions whose product wraps around (4294967297 x 4294967295 is -1
	// in 64 bits) are refused before anything is sized from them.
	for _, f := range []*viewer.Frame{
		{Rows: 4294967297, Cols: 4294967295, Samples: 1, Color: viewer.Monochrome, U8: make([]uint8, 1)},
		{Rows: 4611686018427387905, Cols: 4, Samples: 1, Color: viewer.Monochrome, U8: make([]uint8, 4)},
	} {
		if err := r.Upload(f); !errors.Is(err, viewer.ErrInvalid) {
			t.Errorf("upload of %dx%d: %v", f.Cols, f.Rows, err)
		}
	}
}

// TestContextCloseReleases checks that closing the context deletes its programs and
// releases the device, and that renderers fail cleanly afterwards.
func TestContextCloseReleases(t *testing.T) {
	c, dev := fakeContext(t)
	r := c.NewRenderer()
	r.Upload(ctFrame(8))
	r.Render(&viewer.Display{Window: viewer.Window{Center: 0, Width: 100}}, image.NewGray(image.Rect(0, 0, 8, 8)))
	c.Close()
	if _, _, p := dev.live(); p != 0 || !dev.released {
		t.Errorf("after Close: %d programs, released %v", p, dev.released)
	}
	if err := r.Upload(ctFrame(8)); !errors.Is(err, ErrClosed) {
		t.Errorf("Upload on a closed context: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("Renderer.Close after Context.Close: %v", err)
	}
}

func TestInfoIsSoftware(t *testing.T) {
	tests := []struct {
		renderer string
		want     bool
	}{
		{"llvmpipe (LLVM 15.0.6, 256 bits)", true},
		{"softpipe", true},
		{"Software Rasterizer", true},
		{"swrast", true},
		{"NVIDIA GeForce RTX 3060/PCIe/SSE2", false},
		{"Mesa Intel(R) UHD Graphics 620 (KBL GT2)", false},
		{"AMD Radeon RX 6600 (radeonsi, navi23, LLVM 15.0.6, DRM 3.49, 6.1.0)", false},
	}
	for _, tt := range tests {
		if got := (Info{Renderer: tt.renderer}).IsSoftware(); got != tt.want {
			t.Errorf("IsSoftware(%q) = %v, want %v", tt.renderer, got, tt.want)
		}
	}
}

// TestProgramVariants checks that a program is compiled per pipeline variant
// once, and that what the shader selects per pixel (inversion, quarter turns,
// the window itself) compiles nothing.
func TestProgramVariants(t *testing.T) {
	c, dev := fakeContext(t)
	r := c.NewRenderer()
	defer r.Close()
	if err := r.Upload(ctFrame(64)); err != nil {
		t.Fatal(err)
	}
	dst := image.NewRGBA(image.Rect(0, 0, 64, 64))
	base := viewer.Display{Slope: 1, Window: viewer.Window{Center: 40, Width: 400}}
	voi := &viewer.LUT{Bits: 12, Data: make([]uint16, 300)}
	steps := []struct {
		name     string
		change   func(d *viewer.Display)
		programs int
	}{
		{"window", func(d *viewer.Display) {}, 1},
		{"new window", func(d *viewer.Display) { d.Window.Center = 60 }, 1},
		{"invert", func(d *viewer.Display) { d.Invert = true }, 1},
		{"rotate", func(d *viewer.Display) { d.View.Rotation = 1 }, 1},
		{"integer pan", func(d *viewer.Display) { d.View.PanX = 7 }, 1},
		{"sigmoid", func(d *viewer.Display) { d.Window.Function = viewer.Sigmoid }, 2},
		{"VOI LUT", func(d *viewer.Display) { d.VOILUT = voi }, 3},
		{"bilinear", func(d *viewer.Display) { d.View.Interpolation = viewer.Bilinear }, 4},
		{"zoom 1.3 (tables)", func(d *viewer.Display) { d.View.Zoom = 1.3 }, 5},
		{"back to the first", func(d *viewer.Display) {}, 5},
	}
	for _, s := range steps {
		d := base
		s.change(&d)
		if err := r.Render(&d, dst); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		inspect(c, func() {
			if _, _, p := dev.live(); p != s.programs {
				t.Errorf("%s: %d programs, want %d", s.name, p, s.programs)
			}
		})
	}
}
