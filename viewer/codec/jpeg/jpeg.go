// Package jpeg decodes DICOM JPEG frames of the DCT processes: baseline
// (1.2.840.10008.1.2.4.50, 8-bit) and extended (1.2.840.10008.1.2.4.51, 8 or
// 12-bit). 8-bit streams go to libjpeg-turbo; 12-bit streams to the IJG 6b
// library GDCM builds for 12 bits, because libjpeg-turbo 2.1 has no 12-bit
// decoder in the same library.
//
// Samples come out as the code stream holds them, without colour conversion:
// YCbCr stays YCbCr (chroma upsampled with libjpeg's default "fancy" filter)
// and is reported as codec.ColorYBRFull; RGB streams (Adobe APP14 transform 0,
// or component IDs 'R','G','B') are reported as codec.ColorRGB. These are the
// values GDCM, DCMTK (dcmdjpeg +cn) and Pillow produce.
package jpeg

/*
#cgo pkg-config: libjpeg
#cgo LDFLAGS: -lgdcmjpeg12
#include <stdlib.h>
#include "decode.h"
*/
import "C"

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"teleread/viewer/codec"
)

// Header is what the frame header (SOF) of a JPEG stream says about the image.
type Header struct {
	Width, Height int
	Components    int
	Precision     int  // bits per sample: 8 or 12 for the DCT processes
	Process       byte // the SOF marker's low byte: 0xC0 baseline, 0xC1 extended, 0xC2 progressive, 0xC3 lossless, ...
}

// DecodeHeader reads the frame header without decoding any entropy-coded data.
func DecodeHeader(src []byte) (Header, error) {
	h, err := parseHeader(src)
	if err != nil {
		return Header{}, fmt.Errorf("jpeg: read header: %w", err)
	}
	return h, nil
}

// parseHeader walks the marker segments up to the first SOF, the JPEG-LS
// SOF55 (FFF7) included: the frame header is the one codec.JPEGHeader reads
// and the viewer checks against the DICOM header, so a stream cannot show a
// small SOF55 to the check and have the decoder allocate from a large SOF0
// after it. SOF55 is then refused as a process this package does not do.
func parseHeader(b []byte) (Header, error) {
	if len(b) < 2 || b[0] != 0xFF || b[1] != 0xD8 {
		return Header{}, fmt.Errorf("no SOI marker: %w", codec.ErrCorrupt)
	}
	p := 2
	for {
		// Markers may be preceded by any number of 0xFF fill bytes.
		if p >= len(b) || b[p] != 0xFF {
			return Header{}, fmt.Errorf("no marker at offset %d: %w", p, codec.ErrCorrupt)
		}
		for p < len(b) && b[p] == 0xFF {
			p++
		}
		if p >= len(b) {
			return Header{}, fmt.Errorf("no frame header: %w", codec.ErrCorrupt)
		}
		m := b[p]
		p++
		switch {
		case m == 0x01 || (m >= 0xD0 && m <= 0xD7):
			continue // TEM, RSTn: no length
		case m == 0xD8 || m == 0xD9 || m == 0xDA || m == 0x00:
			return Header{}, fmt.Errorf("marker FF%02X before the frame header: %w", m, codec.ErrCorrupt)
		}
		if p+2 > len(b) {
			return Header{}, fmt.Errorf("truncated marker segment FF%02X: %w", m, codec.ErrCorrupt)
		}
		n := int(binary.BigEndian.Uint16(b[p:]))
		if n < 2 || p+n > len(b) {
			return Header{}, fmt.Errorf("marker segment FF%02X of %d bytes with %d left: %w", m, n, len(b)-p, codec.ErrCorrupt)
		}
		seg := b[p+2 : p+n]
		p += n
		if (m < 0xC0 || m > 0xCF || m == 0xC4 || m == 0xC8 || m == 0xCC) && m != 0xF7 {
			continue
		}
		if len(seg) < 6 {
			return Header{}, fmt.Errorf("short frame header: %w", codec.ErrCorrupt)
		}
		h := Header{
			Precision:  int(seg[0]),
			Height:     int(binary.BigEndian.Uint16(seg[1:])),
			Width:      int(binary.BigEndian.Uint16(seg[3:])),
			Components: int(seg[5]),
			Process:    m,
		}
		if h.Width == 0 || h.Height == 0 || h.Components == 0 {
			return Header{}, fmt.Errorf("frame header says %dx%d, %d components: %w", h.Width, h.Height, h.Components, codec.ErrCorrupt)
		}
		if len(seg) < 6+3*h.Components {
			// A segment too short for its components: the output would be
			// allocated from a header libjpeg then refuses.
			return Header{}, fmt.Errorf("frame header of %d bytes for %d components: %w", len(seg), h.Components, codec.ErrCorrupt)
		}
		return h, nil
	}
}

// Decode decodes one JPEG code stream (a DICOM frame) into an Image. Damaged
// entropy-coded data is an error wrapping codec.ErrCorrupt even where libjpeg
// would go on and fill the rest of the frame with grey; processes this package
// does not do (lossless, hierarchical, precisions other than 8 and 12) wrap
// codec.ErrUnsupported.
func Decode(src []byte) (*codec.Image, error) {
	h, err := parseHeader(src)
	if err != nil {
		return nil, fmt.Errorf("jpeg: decode: %w", err)
	}
	switch h.Process {
	case 0xC0, 0xC1, 0xC2, 0xC9, 0xCA:
	default:
		return nil, fmt.Errorf("jpeg: decode: SOF marker FF%02X: %w", h.Process, codec.ErrUnsupported)
	}
	if h.Precision != 8 && h.Precision != 12 {
		return nil, fmt.Errorf("jpeg: decode: %d-bit samples: %w", h.Precision, codec.ErrUnsupported)
	}
	if h.Components > 4 {
		return nil, fmt.Errorf("jpeg: decode: %d components: %w", h.Components, codec.ErrUnsupported)
	}
	samples := h.Width * h.Height * h.Components
	if samples > codec.MaxPixels {
		return nil, fmt.Errorf("jpeg: decode: %dx%dx%d samples exceed the limit of %d: %w", h.Width, h.Height, h.Components, codec.MaxPixels, codec.ErrUnsupported)
	}

	img := &codec.Image{Width: h.Width, Height: h.Height, Components: h.Components, Precision: h.Precision}
	var res C.tl_jpeg_result
	var rc C.int
	srcp := (*C.uchar)(unsafe.Pointer(unsafe.SliceData(src)))
	if h.Precision == 8 {
		img.U8 = make([]uint8, samples)
		rc = C.tl_jpeg8_decode(srcp, C.size_t(len(src)), unsafe.Pointer(unsafe.SliceData(img.U8)), C.size_t(samples), &res)
	} else {
		img.U16 = make([]uint16, samples)
		rc = C.tl_jpeg12_decode(srcp, C.size_t(len(src)), unsafe.Pointer(unsafe.SliceData(img.U16)), C.size_t(2*samples), &res)
	}
	msg := C.GoString(&res.msg[0])
	switch rc {
	case C.TL_JPEG_OK:
	case C.TL_JPEG_DAMAGED:
		return nil, fmt.Errorf("jpeg: decode: %s: %w", msg, codec.ErrCorrupt)
	case C.TL_JPEG_MISMATCH:
		return nil, fmt.Errorf("jpeg: decode: decoder output %dx%dx%d does not match the frame header %dx%dx%d: %w",
			res.width, res.height, res.components, h.Width, h.Height, h.Components, codec.ErrCorrupt)
	default:
		return nil, fmt.Errorf("jpeg: decode: %s: %w", msg, codec.ErrCorrupt)
	}
	if int(res.width) != h.Width || int(res.height) != h.Height || int(res.components) != h.Components {
		return nil, fmt.Errorf("jpeg: decode: decoder output %dx%dx%d does not match the frame header %dx%dx%d: %w",
			res.width, res.height, res.components, h.Width, h.Height, h.Components, codec.ErrCorrupt)
	}
	switch res.color {
	case C.TL_COLOR_RGB:
		img.ColorSpace = codec.ColorRGB
	case C.TL_COLOR_YCBCR:
		img.ColorSpace = codec.ColorYBRFull
	}
	return img, nil
}
