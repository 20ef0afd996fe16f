package viewer

import (
	"slices"
	"testing"

	"teleread/viewer/codec"
)

// TestFrameFromCodecStoredValues checks what a decoded code stream becomes:
// the stored values PS3.5 8.1.1 defines, the low Bits Stored bits of each
// sample, two's complement from bit Bits Stored-1 when Pixel Representation
// is 1, whatever the code stream's own precision, and whether the frame
// adopts the codec's samples (masking them in place only where that changes
// anything) or copies them into a wider sample type.
func TestFrameFromCodecStoredValues(t *testing.T) {
	tests := []struct {
		name      string
		allocated int
		stored    int
		signed    bool
		precision int
		u8        []uint8
		u16       []uint16
		want      []int64
	}{
		{name: "16-bit stream, 12 stored: high bits dropped", allocated: 16, stored: 12, precision: 16,
			u16: []uint16{0x0FFF, 0xF001, 0x1234, 0}, want: []int64{0x0FFF, 0x0001, 0x0234, 0}},
		{name: "12-bit stream, 12 stored, signed: sign-extended", allocated: 16, stored: 12, signed: true, precision: 12,
			u16: []uint16{0x0FFF, 0x0800, 0x07FF, 1}, want: []int64{-1, -2048, 2047, 1}},
		{name: "16-bit stream, 16 stored, signed: two's complement", allocated: 16, stored: 16, signed: true, precision: 16,
			u16: []uint16{0xFFFF, 0x8000, 0x7FFF}, want: []int64{-1, -32768, 32767}},
		{name: "16-bit stream, 16 stored, unsigned: as coded", allocated: 16, stored: 16, precision: 16,
			u16: []uint16{0xFFFF, 0x8000, 5}, want: []int64{0xFFFF, 0x8000, 5}},
		{name: "7-bit stream, 7 stored: as coded", allocated: 8, stored: 7, precision: 7,
			u8: []uint8{0x7F, 0x40, 0}, want: []int64{0x7F, 0x40, 0}},
		{name: "8-bit stream, 7 stored: high bit dropped", allocated: 8, stored: 7, precision: 8,
			u8: []uint8{0xFF, 0x80, 0x7F}, want: []int64{0x7F, 0, 0x7F}},
		{name: "8-bit stream, 8 stored, signed", allocated: 8, stored: 8, signed: true, precision: 8,
			u8: []uint8{0xFF, 0x80, 0x7F}, want: []int64{-1, -128, 127}},
		{name: "8-bit stream in 16 allocated, 6 stored, signed: copied", allocated: 16, stored: 6, signed: true, precision: 8,
			u8: []uint8{0x3F, 0x20, 0x1F, 0xC1}, want: []int64{-1, -32, 31, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(tt.u8) + len(tt.u16)
			im := &Image{Rows: 1, Cols: n, Frames: 1, Samples: 1, BitsAllocated: tt.allocated, BitsStored: tt.stored,
				Photometric: "MONOCHROME2"}
			if tt.signed {
				im.PixelRepresentation = 1
			}
			ci := &codec.Image{Width: n, Height: 1, Components: 1, Precision: tt.precision,
				U8: slices.Clone(tt.u8), U16: slices.Clone(tt.u16)}
			f, err := im.frameFromCodec(ci)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for i := range n {
				got = append(got, int64(f.At(i)))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("stored values %v, want %v", got, tt.want)
			}
		})
	}
}
