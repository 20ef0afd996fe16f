// Package jpegls decodes DICOM JPEG-LS frames, lossless (1.2.840.10008.1.2.4.80)
// and near-lossless (1.2.840.10008.1.2.4.81), with CharLS, and one-component
// scans (nearly every DICOM frame) with a faster decoder of its own that
// declines, leaving the stream to CharLS, whatever it is not sure of
// (fastscan.go).
//
// All three interleave modes are accepted; the Image is always pixel
// interleaved. CharLS returns the component planes one after the other for
// interleave mode "none", and this package interleaves them; the scans of such
// a stream, one per component, are decoded at the same time (scans.go).
// DecodeInto writes the samples into memory the caller provides.
package jpegls

/*
#cgo pkg-config: charls
#include <stdlib.h>
#include <charls/charls.h>
*/
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"

	"teleread/viewer/codec"
)

// Header is what the JPEG-LS frame and scan headers say about the image.
type Header struct {
	Width, Height  int
	Components     int
	Precision      int // bits per sample, 2 to 16
	InterleaveMode int // 0 none, 1 line, 2 sample
	NearLossless   int // NEAR of the first component; 0 is lossless
}

// decoder owns a CharLS decoder that reads from a pinned Go buffer.
type decoder struct {
	d      *C.charls_jpegls_decoder
	pinner runtime.Pinner
	h      Header
	xform  C.charls_color_transformation
}

func errorf(op string, rc C.charls_jpegls_errc) error {
	msg := C.GoString(C.charls_get_error_message(rc))
	return fmt.Errorf("jpegls: %s: %s (CharLS error %d): %w", op, msg, int(rc), errKind(rc))
}

// errKind maps CharLS error codes to the codec sentinels: streams CharLS can
// parse but does not implement are unsupported, everything else is damage.
func errKind(rc C.charls_jpegls_errc) error {
	switch rc {
	case C.CHARLS_JPEGLS_ERRC_ENCODING_NOT_SUPPORTED,
		C.CHARLS_JPEGLS_ERRC_PARAMETER_VALUE_NOT_SUPPORTED,
		C.CHARLS_JPEGLS_ERRC_COLOR_TRANSFORM_NOT_SUPPORTED,
		C.CHARLS_JPEGLS_ERRC_JPEGLS_PRESET_EXTENDED_PARAMETER_TYPE_NOT_SUPPORTED,
		C.CHARLS_JPEGLS_ERRC_BIT_DEPTH_FOR_TRANSFORM_NOT_SUPPORTED:
		return codec.ErrUnsupported
	}
	return codec.ErrCorrupt
}

// open creates a decoder over src and reads its headers. The caller must call
// close.
func open(src []byte) (*decoder, error) {
	if len(src) == 0 {
		return nil, fmt.Errorf("jpegls: read header: empty code stream: %w", codec.ErrCorrupt)
	}
	if !endsWithEOI(src) {
		return nil, fmt.Errorf("jpegls: read header: no EOI marker at the end (truncated code stream): %w", codec.ErrCorrupt)
	}
	// The viewer checks a frame's size against the DICOM header with
	// codec.JPEGHeader before it decodes, and CharLS reads the header its own
	// way (it skips fill bytes before SOI, which PS3.5 does not allow and
	// codec.JPEGHeader refuses). Both must read the same frame, else a
	// stream could pass the check as one size and be decoded as another: a
	// 28-byte stream so made allocated a 1.2 MB frame.
	want, err := codec.JPEGHeader(src)
	if err != nil {
		return nil, fmt.Errorf("jpegls: read header: %w", err)
	}
	d := &decoder{d: C.charls_jpegls_decoder_create()}
	if d.d == nil {
		return nil, fmt.Errorf("jpegls: read header: cannot create a CharLS decoder")
	}
	// CharLS keeps the source pointer between calls, so the buffer must not move.
	p := unsafe.SliceData(src)
	d.pinner.Pin(p)
	if rc := C.charls_jpegls_decoder_set_source_buffer(d.d, unsafe.Pointer(p), C.size_t(len(src))); rc != 0 {
		d.close()
		return nil, errorf("read header", rc)
	}
	if rc := C.charls_jpegls_decoder_read_header(d.d); rc != 0 {
		d.close()
		return nil, errorf("read header", rc)
	}
	var fi C.charls_frame_info
	var ilv C.charls_interleave_mode
	var near C.int32_t
	if rc := C.charls_jpegls_decoder_get_frame_info(d.d, &fi); rc != 0 {
		d.close()
		return nil, errorf("read header", rc)
	}
	if rc := C.charls_jpegls_decoder_get_interleave_mode(d.d, &ilv); rc != 0 {
		d.close()
		return nil, errorf("read header", rc)
	}
	if rc := C.charls_jpegls_decoder_get_near_lossless(d.d, 0, &near); rc != 0 {
		d.close()
		return nil, errorf("read header", rc)
	}
	if rc := C.charls_jpegls_decoder_get_color_transformation(d.d, &d.xform); rc != 0 {
		d.close()
		return nil, errorf("read header", rc)
	}
	d.h = Header{
		Width: int(fi.width), Height: int(fi.height), Components: int(fi.component_count),
		Precision: int(fi.bits_per_sample), InterleaveMode: int(ilv), NearLossless: int(near),
	}
	if d.h.Width != want.Width || d.h.Height != want.Height || d.h.Components != want.Components {
		d.close()
		return nil, fmt.Errorf("jpegls: read header: CharLS reads a %dx%dx%d frame where the frame header says %dx%dx%d: %w",
			d.h.Width, d.h.Height, d.h.Components, want.Width, want.Height, want.Components, codec.ErrCorrupt)
	}
	return d, nil
}

// endsWithEOI reports whether the stream ends with an EOI marker, allowing the
// byte (0x00, or 0xFF from some encoders) that pads odd-length fragments. CharLS 2.4.1 spends tens of
// seconds on a scan that runs into the end of the buffer instead of a marker
// (a truncated frame; fixed upstream after 2.4.1), so such streams are refused
// before CharLS sees them. With a marker at the end, every scan's bit reader
// stops at a marker.
func endsWithEOI(b []byte) bool {
	n := len(b)
	for n > 0 && (b[n-1] == 0 || b[n-1] == 0xFF) {
		n--
	}
	if n >= 2 && b[n-2] == 0xFF && b[n-1] == 0xD9 {
		return true
	}
	// An odd-length stream is padded to an even fragment with one byte,
	// which PS3.5 A.4 wants 00 but which is not always: Orthanc 1.10's
	// JPEG-LS transcoder leaves whatever byte was in its buffer.
	n = len(b)
	return n >= 3 && n%2 == 0 && b[n-3] == 0xFF && b[n-2] == 0xD9
}

func (d *decoder) close() {
	C.charls_jpegls_decoder_destroy(d.d)
	d.pinner.Unpin()
}

// DecodeHeader reads the headers of a JPEG-LS stream up to the first scan
// without decoding samples.
func DecodeHeader(src []byte) (Header, error) {
	d, err := open(src)
	if err != nil {
		return Header{}, err
	}
	defer d.close()
	return d.h, nil
}

// Decode decodes one JPEG-LS code stream (a DICOM frame) into an Image. Errors
// wrap codec.ErrCorrupt, or codec.ErrUnsupported for streams CharLS does not
// implement and frames over codec.MaxPixels.
func Decode(src []byte) (*codec.Image, error) {
	return DecodeInto(src, Memory{})
}

// Memory is where DecodeInto puts samples. Every field may be nil, and then
// make is used, as by Decode.
type Memory struct {
	// U8 and U16 return n samples for the image (precision up to 8, and 9
	// to 16). CharLS writes every one, so they need not be zeroed.
	U8  func(n int) []uint8
	U16 func(n int) []uint16
	// DoneU8 and DoneU16 take back the component planes of a
	// multi-component image coded without interleaving, which came from U8
	// or U16, once they are interleaved into the image's own samples.
	DoneU8  func([]uint8)
	DoneU16 func([]uint16)
}

// DecodeInto is Decode with the image's samples in memory from mem, so that a
// caller who recycles frames has CharLS write straight into the memory the
// frame keeps: no zeroing, no copy, no garbage per frame.
func DecodeInto(src []byte, mem Memory) (*codec.Image, error) {
	d, err := open(src)
	if err != nil {
		return nil, err
	}
	defer d.close()
	h := d.h
	if h.Width <= 0 || h.Height <= 0 || h.Components <= 0 || h.Precision < 2 || h.Precision > 16 {
		return nil, fmt.Errorf("jpegls: decode: header says %dx%dx%d at %d bits: %w", h.Width, h.Height, h.Components, h.Precision, codec.ErrCorrupt)
	}
	samples := h.Width * h.Height * h.Components
	if samples > codec.MaxPixels {
		return nil, fmt.Errorf("jpegls: decode: %dx%dx%d samples exceed the limit of %d: %w", h.Width, h.Height, h.Components, codec.MaxPixels, codec.ErrUnsupported)
	}
	var need C.size_t
	if rc := C.charls_jpegls_decoder_get_destination_size(d.d, 0, &need); rc != 0 {
		return nil, errorf("decode", rc)
	}
	size := samples
	if h.Precision > 8 {
		size *= 2
	}
	// CharLS checks the buffer's size and writes all of it.
	if int(need) != size {
		return nil, fmt.Errorf("jpegls: decode: CharLS needs %d bytes for %dx%dx%d at %d bits: %w", need, h.Width, h.Height, h.Components, h.Precision, codec.ErrUnsupported)
	}
	img := &codec.Image{Width: h.Width, Height: h.Height, Components: h.Components, Precision: h.Precision}
	if d.xform != C.CHARLS_COLOR_TRANSFORMATION_NONE {
		// The HP transforms are defined on RGB; CharLS undoes them.
		img.ColorSpace = codec.ColorRGB
	}
	// CharLS returns the planes one after the other for interleave mode
	// none; they are decoded into memory of their own and interleaved.
	planar := h.Components > 1 && h.InterleaveMode == int(C.CHARLS_INTERLEAVE_MODE_NONE)
	if h.Precision <= 8 {
		img.U8, err = decodeSamples(d, src, mem.U8, mem.DoneU8, samples, planar)
	} else {
		img.U16, err = decodeSamples(d, src, mem.U16, mem.DoneU16, samples, planar)
	}
	if err != nil {
		return nil, err
	}
	return img, nil
}

// samplesOf returns n samples from alloc, or from make when alloc is nil.
func samplesOf[T uint8 | uint16](alloc func(int) []T, n int) ([]T, error) {
	if alloc == nil {
		return make([]T, n), nil
	}
	s := alloc(n)
	if len(s) != n {
		return nil, fmt.Errorf("jpegls: decode: memory for %d samples holds %d", n, len(s))
	}
	return s, nil
}

// decodeSamples decodes n samples of src, which d has open, into memory from
// alloc; planar ones (interleave mode none) are decoded scan by scan on
// several threads where that pays, interleaved, and their planes handed to
// done.
func decodeSamples[T uint8 | uint16](d *decoder, src []byte, alloc func(int) []T, done func([]T), n int, planar bool) ([]T, error) {
	out, err := samplesOf(alloc, n)
	if err != nil {
		return nil, err
	}
	decoded := decodeFastInto(d, src, out)
	if planar && parallelScans(n) && d.xform == C.CHARLS_COLOR_TRANSFORMATION_NONE {
		if streams := scanStreams(src); streams != nil {
			decoded = decodeScans(streams, d.h, out)
		}
	}
	if !decoded {
		if err := d.decode(unsafe.Pointer(unsafe.SliceData(out)), n*int(unsafe.Sizeof(T(0)))); err != nil {
			return nil, err
		}
	}
	if !planar {
		return out, nil
	}
	planes := out
	if out, err = samplesOf(alloc, n); err != nil {
		return nil, err
	}
	interleave(out, planes, d.h.Components)
	if done != nil {
		done(planes)
	}
	return out, nil
}

// decode runs CharLS into size bytes at buf.
func (d *decoder) decode(buf unsafe.Pointer, size int) error {
	if rc := C.charls_jpegls_decoder_decode_to_buffer(d.d, buf, C.size_t(size), 0); rc != 0 {
		return errorf("decode", rc)
	}
	return nil
}

// interleave writes component planes (c0 c0 ... c1 c1 ...) into out as
// pixels (c0 c1 ... c0 c1 ...).
func interleave[T uint8 | uint16](out, planar []T, components int) {
	n := len(planar) / components
	if components == 3 {
		// The colour case, in one sequential pass over out.
		p0, p1, p2 := planar[:n], planar[n:2*n], planar[2*n:3*n]
		out = out[:3*n]
		for i := range p0 {
			o := out[3*i : 3*i+3 : 3*i+3]
			o[0], o[1], o[2] = p0[i], p1[i], p2[i]
		}
		return
	}
	for c := range components {
		plane := planar[c*n : (c+1)*n]
		for i, v := range plane {
			out[i*components+c] = v
		}
	}
}
