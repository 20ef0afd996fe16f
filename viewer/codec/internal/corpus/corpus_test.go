package corpus

import (
	"bytes"
	"testing"

	"teleread/viewer/codec"
)

func TestCheckSamples(t *testing.T) {
	tests := []struct {
		name string
		img  codec.Image
		ok   bool
	}{
		{"U8 of the right size", codec.Image{Width: 2, Height: 1, Components: 1, U8: []uint8{1, 2}}, true},
		{"U32 of the right size", codec.Image{Width: 1, Height: 1, Components: 3, U32: []uint32{1, 2, 3}}, true},
		{"one sample short", codec.Image{Width: 2, Height: 2, Components: 1, U16: []uint16{1, 2, 3}}, false},
		{"two slices set", codec.Image{Width: 2, Height: 1, Components: 1, U8: []uint8{1}, U16: []uint16{2}}, false},
		{"no samples", codec.Image{Width: 1, Height: 1, Components: 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := CheckSamples(&tt.img); (err == nil) != tt.ok {
				t.Fatalf("CheckSamples = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestReferenceBytes(t *testing.T) {
	tests := []struct {
		name  string
		img   codec.Image
		in    Info
		dtype string
		want  []byte
	}{
		{"12 bit signed, high bits masked", codec.Image{U16: []uint16{0xF800, 0x07FF, 0x0801}},
			Info{BitsStored: 12, PixelRepresentation: 1}, "<i2", []byte{0x00, 0xF8, 0xFF, 0x07, 0x01, 0xF8}},
		{"12 bit unsigned", codec.Image{U16: []uint16{0xF801}}, Info{BitsStored: 12}, "<u2", []byte{0x01, 0x08}},
		{"8 bit", codec.Image{U8: []uint8{0x80}}, Info{BitsStored: 8, PixelRepresentation: 1}, "|i1", []byte{0x80}},
		{"32 bit", codec.Image{U32: []uint32{0x12345678}}, Info{BitsStored: 32}, "<u4", []byte{0x78, 0x56, 0x34, 0x12}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReferenceBytes(&tt.img, tt.in, tt.dtype)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("got % x, want % x", got, tt.want)
			}
		})
	}
	if _, err := ReferenceBytes(&codec.Image{U8: []uint8{1}}, Info{BitsStored: 8}, "<f4"); err == nil {
		t.Error("float dtype accepted")
	}
}
