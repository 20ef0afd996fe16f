package viewer

import (
	"fmt"
	"image"
	"testing"
)

// referencePixel evaluates one target pixel straight from the definitions:
// the View's sample position, nearest sampling, and the grey (Display.Grey8),
// colour (YBRToRGB, RGBShift) or palette pipeline, with no tables.
func referencePixel(f *Frame, d *Display, m *mapping, x, y int) [4]uint8 {
	sx, sy := m.source(x, y)
	if sx < 0 || sy < 0 || sx >= float64(f.Cols) || sy >= float64(f.Rows) {
		return [4]uint8{0, 0, 0, 255}
	}
	i := int(sy)*f.Cols + int(sx)
	switch f.Color {
	case Monochrome:
		v := d.Grey8(f.At(i))
		return [4]uint8{v, v, v, 255}
	case PaletteIndex:
		r, g, b := d.Palette.Palette8(f.At(i))
		return [4]uint8{r, g, b, 255}
	}
	var v [3]uint8
	for k := range v {
		v[k] = uint8(uint32(int64(f.At(3*i+k))) >> uint(d.RGBShift))
	}
	if f.Color == YBRFull {
		r, g, b := YBRToRGB(float64(v[0]), float64(v[1]), float64(v[2]))
		return [4]uint8{r, g, b, 255}
	}
	return [4]uint8{v[0], v[1], v[2], 255}
}

func testFrames() map[string]*Frame {
	const cols, rows = 37, 23
	grey := &Frame{Rows: rows, Cols: cols, Samples: 1, Color: Monochrome, BitsStored: 12, Signed: true, I16: make([]int16, rows*cols)}
	u16 := &Frame{Rows: rows, Cols: cols, Samples: 1, Color: Monochrome, BitsStored: 16, U16: make([]uint16, rows*cols)}
	rgb := &Frame{Rows: rows, Cols: cols, Samples: 3, Color: RGB, BitsStored: 8, U8: make([]uint8, 3*rows*cols)}
	ybr := &Frame{Rows: rows, Cols: cols, Samples: 3, Color: YBRFull, BitsStored: 8, U8: make([]uint8, 3*rows*cols)}
	rgb16 := &Frame{Rows: rows, Cols: cols, Samples: 3, Color: RGB, BitsStored: 16, U16: make([]uint16, 3*rows*cols)}
	pal := &Frame{Rows: rows, Cols: cols, Samples: 1, Color: PaletteIndex, BitsStored: 8, U8: make([]uint8, rows*cols)}
	for i := 0; i < rows*cols; i++ {
		grey.I16[i] = int16((i*37)%4096 - 2048)
		u16.U16[i] = uint16(i * 997)
		pal.U8[i] = uint8(i * 13)
		for k := 0; k < 3; k++ {
			rgb.U8[3*i+k] = uint8(i*7 + k*91)
			ybr.U8[3*i+k] = uint8(i*11 + k*53)
			rgb16.U16[3*i+k] = uint16(i*301 + k*4099)
		}
	}
	return map[string]*Frame{"grey": grey, "u16": u16, "rgb": rgb, "ybr": ybr, "rgb16": rgb16, "palette": pal}
}

// TestRenderPathsMatchDefinition checks the CPU renderer's nearest paths (1:1
// tables; separable column tables and row copies, with and without a quarter
// turn; the colour frame converted once; the index path into Gray targets)
// against a per-pixel evaluation of the pipeline, for grey, colour and palette
// frames under zoom, pan, flips and turns.
func TestRenderPathsMatchDefinition(t *testing.T) {
	ramp := LUT{First: 0, Bits: 16, Data: make([]uint16, 256)}
	for i := range ramp.Data {
		ramp.Data[i] = uint16(i * 257)
	}
	views := []View{
		{},
		{Zoom: 1},
		{Zoom: 1, PanX: 3, PanY: -2},
		{Zoom: 1, PanX: 0.5, PanY: 0.25},
		{Zoom: 2.5},
		{Zoom: 0.37, PanX: 1.3},
		{Zoom: 3, FlipH: true},
		{Zoom: 1.7, FlipV: true, PanY: 4.2},
		{Zoom: 2, Rotation: 1},
		{Zoom: 1.3, Rotation: 2, FlipH: true},
		{Zoom: 1, Rotation: 3},
		{Zoom: 2.2, Interpolation: Bilinear}, // palette frames sample nearest even so
	}
	sizes := [][2]int{{37, 23}, {64, 48}, {50, 90}, {13, 11}}
	for name, f := range testFrames() {
		for vi, v := range views {
			for _, sz := range sizes {
				for _, shift := range []int{0, 8} {
					if shift != 0 && name != "rgb16" {
						continue
					}
					if v.Interpolation == Bilinear && f.Color != PaletteIndex {
						continue
					}
					d := &Display{Slope: 1, Intercept: -1024, Window: Window{Center: 40, Width: 400}, View: v, RGBShift: shift}
					if name == "u16" {
						d = &Display{Slope: 1, Window: Window{Center: 30000, Width: 20000, Function: Sigmoid}, Invert: true, View: v}
					}
					if f.Color == PaletteIndex {
						d.Palette = &Palette{Red: ramp, Green: LUT{First: 10, Bits: 8, Data: []uint16{5, 300, 7}}, Blue: ramp}
					}
					t.Run(fmt.Sprintf("%s/view%d/%dx%d/shift%d", name, vi, sz[0], sz[1], shift), func(t *testing.T) {
						var r CPURenderer
						if err := r.Upload(f); err != nil {
							t.Fatal(err)
						}
						dst := image.NewRGBA(image.Rect(0, 0, sz[0], sz[1]))
						// Twice: the second render reuses the tables built by the first.
						for pass := 0; pass < 2; pass++ {
							if err := r.Render(d, dst); err != nil {
								t.Fatal(err)
							}
							m := newMapping(f, &d.View, sz[0], sz[1])
							for y := 0; y < sz[1]; y++ {
								for x := 0; x < sz[0]; x++ {
									want := referencePixel(f, d, m, x, y)
									o := dst.PixOffset(x, y)
									if got := [4]uint8(dst.Pix[o : o+4]); got != want {
										t.Fatalf("pass %d pixel (%d,%d) = %v, want %v", pass, x, y, got, want)
									}
								}
							}
						}
						if f.Color != Monochrome {
							return
						}
						gray := image.NewGray(dst.Rect)
						if err := r.Render(d, gray); err != nil {
							t.Fatal(err)
						}
						for i, g := range gray.Pix {
							if g != dst.Pix[4*i] {
								t.Fatalf("gray target pixel %d = %d, RGBA target %d", i, g, dst.Pix[4*i])
							}
						}
					})
				}
			}
		}
	}
}
