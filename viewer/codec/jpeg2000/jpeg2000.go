// Package jpeg2000 decodes DICOM JPEG 2000 frames (1.2.840.10008.1.2.4.90 and
// .91, and the High-Throughput JPEG 2000 syntaxes .201 to .203) with OpenJPEG.
//
// Raw J2K code streams, which DICOM requires, and JP2-wrapped streams, which
// some encoders write anyway, are both accepted. Where the code stream uses a
// multiple component transform (RCT for YBR_RCT, ICT for YBR_ICT) OpenJPEG
// undoes it and the Image is codec.ColorRGB. Signed components come back as
// their raw bit patterns with Signed set. OpenJPEG's messages never reach
// stderr; they become the text of the returned error.
package jpeg2000

/*
#cgo pkg-config: libopenjp2
#include <stdlib.h>
#include "decode.h"
*/
import "C"

import (
	"bytes"
	"fmt"
	"runtime"
	"unsafe"

	"teleread/viewer/codec"
)

// Header is what the main header (SIZ, COD) says about the image.
type Header struct {
	Width, Height int
	Components    int
	Precision     int // bits per sample of component 0
	Signed        bool
	MCT           bool // a multiple component transform (RCT or ICT) is applied on decoding
	JP2           bool // the stream is wrapped in a JP2 file
}

var (
	jp2Signature = []byte{0, 0, 0, 0x0C, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A}
	j2kSignature = []byte{0xFF, 0x4F, 0xFF, 0x51} // SOC, SIZ
)

// stream is an open OpenJPEG decoder reading a pinned Go buffer.
type stream struct {
	t      *C.tl_j2k // C memory: OpenJPEG keeps a pointer to it as user data
	pinner runtime.Pinner
	h      Header
}

func (s *stream) errorf(op string, kind error) error {
	msg := C.GoString(&s.t.msg[0])
	if msg == "" {
		msg = "OpenJPEG failed without a message"
	}
	return fmt.Errorf("jpeg2000: %s: %s: %w", op, msg, kind)
}

// open reads the main header; decoding may use threads threads. The caller
// must call close.
func open(src []byte, threads int) (*stream, error) {
	var format C.int
	switch {
	case bytes.HasPrefix(src, j2kSignature):
	case bytes.HasPrefix(src, jp2Signature):
		format = 1
	default:
		return nil, fmt.Errorf("jpeg2000: read header: neither a J2K code stream nor a JP2 file: %w", codec.ErrCorrupt)
	}
	s := &stream{t: (*C.tl_j2k)(C.calloc(1, C.sizeof_tl_j2k))}
	if s.t == nil {
		return nil, fmt.Errorf("jpeg2000: read header: out of memory")
	}
	p := unsafe.SliceData(src)
	s.pinner.Pin(p) // the C stream keeps this pointer between calls
	if C.tl_j2k_open(s.t, (*C.uchar)(unsafe.Pointer(p)), C.size_t(len(src)), format, C.int(threads)) == 0 {
		err := s.errorf("read header", codec.ErrCorrupt)
		s.close()
		return nil, err
	}
	img := s.t.image
	if img.numcomps == 0 || img.comps == nil {
		s.close()
		return nil, fmt.Errorf("jpeg2000: read header: no components: %w", codec.ErrCorrupt)
	}
	c0 := unsafe.Slice(img.comps, img.numcomps)[0]
	s.h = Header{
		Width:      int(img.x1) - int(img.x0),
		Height:     int(img.y1) - int(img.y0),
		Components: int(img.numcomps),
		Precision:  int(c0.prec),
		Signed:     c0.sgnd != 0,
		MCT:        s.t.mct != 0,
		JP2:        format == 1,
	}
	return s, nil
}

func (s *stream) close() {
	C.tl_j2k_close(s.t)
	C.free(unsafe.Pointer(s.t))
	s.pinner.Unpin()
}

// DecodeHeader reads the main header without decoding any tile.
func DecodeHeader(src []byte) (Header, error) {
	s, err := open(src, 1)
	if err != nil {
		return Header{}, err
	}
	defer s.close()
	return s.h, nil
}

// Decode decodes one JPEG 2000 code stream (a DICOM frame) into an Image.
// Damaged or truncated streams wrap codec.ErrCorrupt; subsampled components,
// components of different precision or signedness, precisions over 32 bits
// and frames over codec.MaxPixels wrap codec.ErrUnsupported. Code blocks are
// decoded on up to GOMAXPROCS threads (threadsFor).
func Decode(src []byte) (*codec.Image, error) {
	return DecodeInto(src, nil)
}

// DecodeInto is Decode with the samples stored in memory from alloc, which
// returns at least n bytes (their contents do not matter: every sample is
// written) or nil for memory of Decode's own. A caller decoding frame after
// frame hands out the memory of frames it is done with, so that each frame
// does not allocate, zero and fault in its samples anew. The samples are
// written there straight from OpenJPEG's 32-bit buffers, before those are
// freed: alloc should return nil rather than new memory, which would raise
// the decode's peak by a frame (Decode makes its frame only after shrinking
// them). Memory not aligned for the sample type is not used.
func DecodeInto(src []byte, alloc func(n int) []byte) (*codec.Image, error) {
	// OpenJPEG allocates what the main header declares while reading it: the
	// SIZ is checked here first (in Go), so that 16384 components or 65025
	// tiles are refused before it sees them.
	siz, err := SIZ(src)
	if err != nil {
		return nil, err
	}
	if siz.Tiles > codec.MaxTiles {
		// No DICOM encoder tiles a frame so finely: the header is damaged or crafted.
		return nil, fmt.Errorf("jpeg2000: decode: %d tiles (at most %d): %w", siz.Tiles, codec.MaxTiles, codec.ErrCorrupt)
	}
	if uint64(siz.Width)*uint64(siz.Height)*uint64(siz.Components) > codec.MaxPixels {
		return nil, fmt.Errorf("jpeg2000: decode: %dx%dx%d samples exceed the limit of %d: %w", siz.Width, siz.Height, siz.Components, codec.MaxPixels, codec.ErrUnsupported)
	}
	s, err := open(src, threadsFor(len(src)))
	if err != nil {
		return nil, err
	}
	defer s.close()
	h := s.h
	if h.Width <= 0 || h.Height <= 0 {
		return nil, fmt.Errorf("jpeg2000: decode: image area %dx%d: %w", h.Width, h.Height, codec.ErrCorrupt)
	}
	if uint64(h.Width)*uint64(h.Height)*uint64(h.Components) > codec.MaxPixels {
		return nil, fmt.Errorf("jpeg2000: decode: %dx%dx%d samples exceed the limit of %d: %w", h.Width, h.Height, h.Components, codec.MaxPixels, codec.ErrUnsupported)
	}
	comps := unsafe.Slice(s.t.image.comps, s.t.image.numcomps)
	for i, c := range comps {
		if c.dx != 1 || c.dy != 1 || int(c.w) != h.Width || int(c.h) != h.Height {
			return nil, fmt.Errorf("jpeg2000: decode: component %d is %dx%d subsampled %dx%d: %w", i, c.w, c.h, c.dx, c.dy, codec.ErrUnsupported)
		}
		if int(c.prec) != h.Precision || (c.sgnd != 0) != h.Signed {
			return nil, fmt.Errorf("jpeg2000: decode: component %d has %d bits (signed %v), component 0 %d bits (signed %v): %w",
				i, c.prec, c.sgnd != 0, h.Precision, h.Signed, codec.ErrUnsupported)
		}
	}
	if h.Precision < 1 || h.Precision > 32 {
		return nil, fmt.Errorf("jpeg2000: decode: %d-bit samples: %w", h.Precision, codec.ErrUnsupported)
	}
	if C.tl_j2k_decode(s.t) == 0 {
		return nil, s.errorf("decode", codec.ErrCorrupt)
	}

	img := &codec.Image{Width: h.Width, Height: h.Height, Components: h.Components, Precision: h.Precision, Signed: h.Signed}
	if h.MCT && h.Components >= 3 {
		img.ColorSpace = codec.ColorRGB
	}
	n := h.Width * h.Height
	samples := n * h.Components
	mask := uint32(1)<<h.Precision - 1
	if h.Precision == 32 {
		mask = ^uint32(0)
	}
	// The decoded component may have been reallocated: read it only now.
	comps = unsafe.Slice(s.t.image.comps, s.t.image.numcomps)
	for ci, c := range comps {
		if c.data == nil || int(c.w)*int(c.h) != n {
			return nil, fmt.Errorf("jpeg2000: decode: component %d has no %dx%d samples after decoding: %w", ci, h.Width, h.Height, codec.ErrCorrupt)
		}
	}
	size := 4
	switch {
	case h.Precision <= 8:
		size = 1
	case h.Precision <= 16:
		size = 2
	}
	k := h.Components
	// Memory from alloc is already the process's (a recycled frame): the
	// samples go straight into it, in one pass.
	if b := fitting(alloc, samples*size, size); b != nil {
		C.tl_j2k_store(s.t, unsafe.Pointer(unsafe.SliceData(b)), C.int(size), C.uint(mask))
		p := unsafe.Pointer(unsafe.SliceData(b))
		switch size {
		case 1:
			img.U8 = unsafe.Slice((*uint8)(p), samples)
		case 2:
			img.U16 = unsafe.Slice((*uint16)(p), samples)
		default:
			img.U32 = unsafe.Slice((*uint32)(p), samples)
		}
		return img, nil
	}
	// A new frame: the samples are narrowed inside OpenJPEG's buffers, which
	// are shrunk, before it is allocated, so that the frame never lies
	// beside the int32 samples.
	C.tl_j2k_narrow(s.t, C.int(size), C.uint(mask))
	switch size {
	case 1:
		img.U8 = make([]uint8, samples)
		for ci, c := range comps {
			interleave(img.U8, unsafe.Slice((*uint8)(unsafe.Pointer(c.data)), n), ci, k)
		}
	case 2:
		img.U16 = make([]uint16, samples)
		for ci, c := range comps {
			interleave(img.U16, unsafe.Slice((*uint16)(unsafe.Pointer(c.data)), n), ci, k)
		}
	default:
		img.U32 = make([]uint32, samples)
		for ci, c := range comps {
			interleave(img.U32, unsafe.Slice((*uint32)(unsafe.Pointer(c.data)), n), ci, k)
		}
	}
	return img, nil
}

// fitting returns the memory alloc hands out for n bytes of samples of size
// bytes each, or nil where alloc is nil or gives none, too little or memory
// misaligned for the samples.
func fitting(alloc func(int) []byte, n, size int) []byte {
	if alloc == nil {
		return nil
	}
	b := alloc(n)
	if len(b) < n || n == 0 || uintptr(unsafe.Pointer(unsafe.SliceData(b)))%uintptr(size) != 0 {
		return nil
	}
	return b[:n]
}

// threadBytes is how much code stream makes another decoding thread worth
// its start: OpenJPEG starts its threads for each frame (0.3 ms on two cores),
// and its threads share out code blocks, whose decoding costs in proportion
// to their bytes. Measured on two cores, one thread: a 64x64 MR (6 KB) and a
// 512x512 lossy CT (7 KB) decode 0.3 ms faster, a 1024x1024 lossy MR
// (113 KB) 40% slower.
const threadBytes = 32 << 10

// threadsFor is how many threads decode a code stream of n bytes: one per
// threadBytes, at most GOMAXPROCS.
func threadsFor(n int) int {
	return max(1, min(runtime.GOMAXPROCS(0), n/threadBytes))
}

// interleave stores component ci of k (src, one sample a pixel) into dst,
// where the components of each pixel follow each other.
func interleave[T uint8 | uint16 | uint32](dst, src []T, ci, k int) {
	if k == 1 {
		copy(dst, src)
		return
	}
	for i, v := range src {
		dst[i*k+ci] = v
	}
}
