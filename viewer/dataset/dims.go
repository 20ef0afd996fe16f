package dataset

import (
	"errors"
	"fmt"
	"math/bits"
)

// ErrOutOfRange marks a header value outside the range every pixel computation
// relies on (Rows or Columns above 65535, Number of Frames beyond what the pixel
// data can hold, ...). A file that declares one is refused before anything is
// sized from it.
var ErrOutOfRange = errors.New("header value out of range")

// Ranges of the values that size pixel buffers. Rows and Columns are US in
// every IOD (PS3.3 C.7.6.3), so 65535 is the most a conformant file can say;
// a file that writes them as IS or DS cannot ask for more.
const (
	MaxRows    = 65535
	MaxColumns = 65535
	// MaxSamplesPerPixel: 1 (grey, palette) or 3 (colour); 4 (retired ARGB, CMYK)
	// is accepted here so that such files are reported unsupported, not invalid.
	MaxSamplesPerPixel = 4
	// MaxBitsAllocated: 64 for Double Float Pixel Data.
	MaxBitsAllocated = 64
)

// Dims are an image's dimensions as its header gives them, each checked
// against its range, so that products of them cannot overflow: one frame
// holds at most 65535 x 65535 x 4 samples of 64 bits (2^37 bytes), and
// Frames is bounded by the pixel data (see File.Dims).
type Dims struct {
	Rows, Cols    int
	Frames        int // Number of Frames, 1 when absent
	Samples       int // Samples per Pixel, 1 when absent
	BitsAllocated int // 32 for Float, 64 for Double Float Pixel Data
}

// FrameSamples returns Rows x Columns x Samples per Pixel (YBR_FULL_422 and
// YBR_PARTIAL_422 store two samples per pixel, not three: PS3.3 C.7.6.3.1.2).
func (d Dims) FrameSamples(photometric string) int64 {
	if photometric == "YBR_FULL_422" || photometric == "YBR_PARTIAL_422" {
		return int64(d.Rows) * int64(d.Cols) * 2
	}
	return int64(d.Rows) * int64(d.Cols) * int64(d.Samples)
}

// FrameBytes returns the bytes one native frame takes (rounded up for 1-bit
// data). It cannot overflow: the operands are in range.
func (d Dims) FrameBytes(photometric string) int64 {
	return (d.FrameSamples(photometric)*int64(d.BitsAllocated) + 7) / 8
}

// MulInt64 returns a*b and whether the product is exact (both non-negative
// and no overflow): header values are multiplied only through it or after
// range checks.
func MulInt64(a, b int64) (int64, bool) {
	if a < 0 || b < 0 {
		return 0, false
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi != 0 || lo > 1<<63-1 {
		return 0, false
	}
	return int64(lo), true
}

// Dims reads and range-checks the image dimensions of the file: Rows and
// Columns 1..65535, Samples per Pixel 1..4, Bits Allocated 1..64, Number of
// Frames at least 1 and no more than the pixel data can hold (whole native
// frames, or one fragment each for encapsulated data: PS3.5 A.4 starts every
// frame in a fragment of its own). Errors wrap ErrOutOfRange (and
// ErrBadPixelData), or ErrBadPixelData for an unusable Number of Frames.
func (f *File) Dims() (Dims, error) {
	var d Dims
	out := func(format string, a ...any) (Dims, error) {
		// Also ErrBadPixelData: the pixel data cannot be what such a header describes.
		return Dims{}, fmt.Errorf("%s: %w: %w", fmt.Sprintf(format, a...), ErrOutOfRange, ErrBadPixelData)
	}
	var ok bool
	if d.Rows, ok = f.Int(Rows); !ok || d.Rows < 1 || d.Rows > MaxRows {
		return out("rows %q (1..%d)", f.String(Rows), MaxRows)
	}
	if d.Cols, ok = f.Int(Columns); !ok || d.Cols < 1 || d.Cols > MaxColumns {
		return out("columns %q (1..%d)", f.String(Columns), MaxColumns)
	}
	d.Samples = 1
	if f.Has(SamplesPerPixel) {
		if d.Samples, ok = f.Int(SamplesPerPixel); !ok || d.Samples < 1 || d.Samples > MaxSamplesPerPixel {
			return out("samples per pixel %q (1..%d)", f.String(SamplesPerPixel), MaxSamplesPerPixel)
		}
	}
	d.BitsAllocated, ok = f.Int(BitsAllocated)
	if f.Pixel != nil {
		switch f.Pixel.Tag {
		case FloatPixelData:
			d.BitsAllocated, ok = 32, true
		case DoubleFloatPixelData:
			d.BitsAllocated, ok = 64, true
		}
	}
	switch {
	case !ok && f.Pixel != nil && f.Pixel.Encapsulated:
		// Not used to size anything here: the codec says what it decoded, and
		// the viewer refuses the file when it needs the value.
	case !ok || d.BitsAllocated < 1 || d.BitsAllocated > MaxBitsAllocated:
		return out("bits allocated %q (1..%d)", f.String(BitsAllocated), MaxBitsAllocated)
	}
	frames, err := f.NumberOfFrames()
	if err != nil {
		return Dims{}, err
	}
	d.Frames = frames
	if f.Pixel == nil {
		return d, nil
	}
	if f.Pixel.Encapsulated {
		if n := len(f.Pixel.Fragments); n > 0 && d.Frames > n {
			return out("number of frames %d with %d fragments", d.Frames, n)
		}
		return d, nil
	}
	// Native: every frame is whole in the pixel data, so Frames cannot exceed
	// the value's length divided by one frame's size (counted in bits, which
	// 1-bit frames are packed by; one frame of slack leaves a short value to
	// Validate, which reports it as truncated).
	if fb := d.FrameSamples(f.String(PhotometricInterpretation)) * int64(d.BitsAllocated); int64(d.Frames) > f.Pixel.Length*8/fb+1 {
		return out("number of frames %d of %d bits with %d bytes of pixel data", d.Frames, fb, f.Pixel.Length)
	}
	return d, nil
}
