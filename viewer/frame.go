package viewer

import (
	"encoding/binary"
	"fmt"
	"math"

	"teleread/viewer/dataset"
)

// ColorSpace says what the samples of a decoded Frame are.
type ColorSpace int

const (
	// Monochrome: one grey sample per pixel (MONOCHROME1 or MONOCHROME2).
	Monochrome ColorSpace = iota
	// PaletteIndex: one sample per pixel, an index into the image's palette LUTs.
	PaletteIndex
	// RGB: three samples per pixel, R, G, B, interleaved.
	RGB
	// YBRFull: three samples per pixel, Y, Cb, Cr (PS3.3 C.7.6.3.1.2), interleaved;
	// YBR_FULL_422 is expanded to one triple per pixel.
	YBRFull
)

// String returns the name the corpus references use for the colour space.
func (c ColorSpace) String() string {
	switch c {
	case Monochrome:
		return "MONOCHROME"
	case PaletteIndex:
		return "PALETTE_INDEX"
	case RGB:
		return "RGB"
	case YBRFull:
		return "YBR_FULL"
	}
	return "UNKNOWN"
}

// Frame is one decoded frame: its stored values, before any LUT.
//
// Exactly one of the slices is set, chosen by Bits Allocated, Pixel Representation and
// whether the data are float: U8/I8 for 1-8 bits (1-bit data are unpacked to 0/1), U16/I16
// for 16, U32/I32 for 32, F32/F64 for Float / Double Float Pixel Data. Flat typed slices
// keep a 2048x2048 16-bit frame at 8 MiB (instead of 32 MiB as one int each), upload as
// they are into an integer texture, and hash to the same bytes as the reference arrays.
//
// Grey values are masked to Bits Stored and, when Pixel Representation is 1,
// sign-extended from bit Bits Stored-1, whatever junk the file or the codec left above
// the high bit. Colour samples are interleaved (planar configuration 1 is undone).
type Frame struct {
	Index      int // frame number in its image, from 0 (selects per-frame functional groups)
	Rows, Cols int
	Samples    int        // 1 or 3
	Color      ColorSpace // what the samples are
	BitsStored int        // significant bits of each sample (0 for float data)
	Signed     bool       // Pixel Representation 1: values are two's complement

	U8  []uint8
	I8  []int8
	U16 []uint16
	I16 []int16
	U32 []uint32
	I32 []int32
	F32 []float32
	F64 []float64
}

// Check reports whether the frame is one that renderers can size buffers from:
// Rows and Columns 1..65535, 1 or 3 samples per pixel, and exactly Len samples
// in the slice that is set. Renderers call it before allocating anything, so a
// frame built by hand (or from a header that slipped past NewImage) cannot make
// them ask for an overflowing or huge buffer.
func (f *Frame) Check() error {
	switch {
	case f == nil:
		return fmt.Errorf("%w: no frame", ErrInvalid)
	case f.Rows < 1 || f.Rows > dataset.MaxRows || f.Cols < 1 || f.Cols > dataset.MaxColumns:
		return fmt.Errorf("%w: frame of %dx%d pixels (1..%d each)", ErrInvalid, f.Cols, f.Rows, dataset.MaxRows)
	case f.Samples != 1 && f.Samples != 3:
		return fmt.Errorf("%w: frame with %d samples per pixel", ErrInvalid, f.Samples)
	case f.Len() > maxFrameSamples:
		return fmt.Errorf("%w: frame of %dx%dx%d samples is too large", ErrInvalid, f.Cols, f.Rows, f.Samples)
	case f.sliceLen() != f.Len():
		return fmt.Errorf("%w: frame of %d samples holds %d", ErrInvalid, f.Len(), f.sliceLen())
	}
	return nil
}

// sliceLen returns the length of the slice that is set.
func (f *Frame) sliceLen() int {
	switch {
	case f.U8 != nil:
		return len(f.U8)
	case f.I8 != nil:
		return len(f.I8)
	case f.U16 != nil:
		return len(f.U16)
	case f.I16 != nil:
		return len(f.I16)
	case f.U32 != nil:
		return len(f.U32)
	case f.I32 != nil:
		return len(f.I32)
	case f.F32 != nil:
		return len(f.F32)
	case f.F64 != nil:
		return len(f.F64)
	}
	return 0
}

// Len returns the number of samples in the frame (Rows*Cols*Samples).
func (f *Frame) Len() int { return f.Rows * f.Cols * f.Samples }

// IsFloat reports whether the frame holds float values.
func (f *Frame) IsFloat() bool { return f.F32 != nil || f.F64 != nil }

// At returns sample i as a float64 (exact for every integer type).
func (f *Frame) At(i int) float64 {
	switch {
	case f.U8 != nil:
		return float64(f.U8[i])
	case f.I8 != nil:
		return float64(f.I8[i])
	case f.U16 != nil:
		return float64(f.U16[i])
	case f.I16 != nil:
		return float64(f.I16[i])
	case f.U32 != nil:
		return float64(f.U32[i])
	case f.I32 != nil:
		return float64(f.I32[i])
	case f.F32 != nil:
		return float64(f.F32[i])
	case f.F64 != nil:
		return f.F64[i]
	}
	return 0
}

// ItemSize returns the bytes per sample of the slice that is set.
func (f *Frame) ItemSize() int {
	switch {
	case f.U8 != nil, f.I8 != nil:
		return 1
	case f.U16 != nil, f.I16 != nil:
		return 2
	case f.F64 != nil:
		return 8
	}
	return 4
}

// Bytes returns the samples as little-endian bytes, row-major with samples
// interleaved: the layout of the corpus reference arrays and of a texture upload.
func (f *Frame) Bytes() []byte {
	n := f.Len()
	b := make([]byte, n*f.ItemSize())
	switch {
	case f.U8 != nil:
		copy(b, f.U8)
	case f.I8 != nil:
		for i, v := range f.I8 {
			b[i] = byte(v)
		}
	case f.U16 != nil:
		for i, v := range f.U16 {
			binary.LittleEndian.PutUint16(b[2*i:], v)
		}
	case f.I16 != nil:
		for i, v := range f.I16 {
			binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
		}
	case f.U32 != nil:
		for i, v := range f.U32 {
			binary.LittleEndian.PutUint32(b[4*i:], v)
		}
	case f.I32 != nil:
		for i, v := range f.I32 {
			binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
		}
	case f.F32 != nil:
		for i, v := range f.F32 {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
	case f.F64 != nil:
		for i, v := range f.F64 {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
		}
	}
	return b
}

// MinMax returns the smallest and largest sample of the frame (0, 0 when empty).
// NaNs in float data are skipped.
func (f *Frame) MinMax() (lo, hi float64) {
	switch {
	case f.U8 != nil:
		return minMax(f.U8)
	case f.I8 != nil:
		return minMax(f.I8)
	case f.U16 != nil:
		return minMax(f.U16)
	case f.I16 != nil:
		return minMax(f.I16)
	case f.U32 != nil:
		return minMax(f.U32)
	case f.I32 != nil:
		return minMax(f.I32)
	case f.F32 != nil:
		return minMax(f.F32)
	case f.F64 != nil:
		return minMax(f.F64)
	}
	return 0, 0
}

func minMax[T uint8 | int8 | uint16 | int16 | uint32 | int32 | float32 | float64](s []T) (lo, hi float64) {
	first := true
	var a, b T
	for _, v := range s {
		if v != v { // NaN
			continue
		}
		if first {
			a, b, first = v, v, false
			continue
		}
		if v < a {
			a = v
		}
		if v > b {
			b = v
		}
	}
	return float64(a), float64(b)
}
