// Package codec holds what the compressed-pixel decoders of viewer/codec/... share:
// the decoded image type and the errors callers branch on.
//
// Each decoder lives in its own sub-package (jpeg, jpegls, jpeg2000, ljpeg, rle) and
// decodes one frame's code stream without knowing anything about DICOM attributes
// beyond what it is handed, so it can be tested and fuzzed on its own.
package codec

import "errors"

// ErrUnsupported marks a valid code stream that this decoder cannot decode
// (for example a JPEG process it does not implement).
var ErrUnsupported = errors.New("unsupported code stream")

// ErrCorrupt marks a code stream that is damaged or not what it claims to be.
var ErrCorrupt = errors.New("corrupt code stream")

// ColorSpace says what the samples of a multi-component Image are after decoding.
type ColorSpace int

const (
	// ColorUnknown: single component, or the decoder did not say.
	ColorUnknown ColorSpace = iota
	// ColorRGB: the samples are R, G, B (stored so, or converted by the codec, as
	// JPEG 2000 does for its RCT/ICT component transforms).
	ColorRGB
	// ColorYBRFull: Y, Cb, Cr samples exactly as the code stream holds them, chroma
	// upsampled to full resolution but not converted to RGB.
	ColorYBRFull
)

// Image is one decoded frame. Samples are interleaved (c0,c1,c2,c0,...), row-major.
// Exactly one of U8, U16 and U32 is set, by Precision: U8 for 1-8 bits, U16 for
// 9-16, U32 for 17-32. Values are the raw unsigned bit patterns of the samples,
// none wider than Precision (every decoder's fuzz target asserts it, and the
// pixel pipeline skips masking samples that fit Bits Stored for it); a
// signed code stream (Signed true) is sign-extended later by the pixel pipeline,
// which knows Bits Stored. Flat typed slices keep a 2048x2048 16-bit frame at 8 MiB
// instead of 32 MiB as one Go int each.
type Image struct {
	Width, Height int
	Components    int
	Precision     int
	Signed        bool
	ColorSpace    ColorSpace

	U8  []uint8
	U16 []uint16
	U32 []uint32
}

// MaxPixels caps the size of one decoded frame (samples) so that a hostile header
// cannot make a decoder allocate gigabytes: 64 Mi samples is a 8192x8192 image.
const MaxPixels = 64 << 20
