package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrMismatch marks a code stream whose own header disagrees with what the
// DICOM header says the frame is (size or components), or declares a layout
// no DICOM frame needs (thousands of tiles). It is found from the code
// stream's first bytes, before a decoder allocates what they declare.
var ErrMismatch = errors.New("code stream header does not match the image")

// StreamHeader is what a code stream's own header declares.
type StreamHeader struct {
	Width, Height int
	Components    int
	Precision     int
	Tiles         int // JPEG 2000 tiles; 1 for JPEG and JPEG-LS
}

// Expect is what the DICOM header says a frame is: Columns, Rows and
// Samples per Pixel.
type Expect struct {
	Width, Height, Components int
}

// MaxTiles bounds the tiles of a JPEG 2000 frame: decoders allocate per tile
// and component from the main header, so 1x1 tiles of a 255x255 image (65025
// of them) took 1.7 GB. DICOM encoders write one tile, or a few large ones.
const MaxTiles = 4096

// Check reports, wrapping ErrMismatch, whether the stream's header declares
// something other than want, or more tiles than MaxTiles or samples than
// MaxPixels.
func (h StreamHeader) Check(want Expect) error {
	switch {
	case h.Width != want.Width || h.Height != want.Height || h.Components != want.Components:
		return fmt.Errorf("%dx%d with %d components, the DICOM header says %dx%d with %d: %w",
			h.Width, h.Height, h.Components, want.Width, want.Height, want.Components, ErrMismatch)
	case h.Tiles < 1 || h.Tiles > MaxTiles:
		return fmt.Errorf("%d tiles (at most %d): %w", h.Tiles, MaxTiles, ErrMismatch)
	case uint64(h.Width)*uint64(h.Height)*uint64(h.Components) > MaxPixels:
		return fmt.Errorf("%dx%dx%d samples exceed the limit of %d: %w", h.Width, h.Height, h.Components, MaxPixels, ErrMismatch)
	}
	return nil
}

// JPEGHeader reads the frame header (SOFn; SOF55 for JPEG-LS) of a JPEG,
// JPEG lossless or JPEG-LS code stream by walking its marker segments, without
// decoding anything. It allocates nothing beyond its result. TEM and RSTn
// stand alone (no length), as T.81 B.1.1.2 has them and the decoders walk
// them: read with a length, they made this walk land on another frame header
// than the decoder's.
func JPEGHeader(src []byte) (StreamHeader, error) {
	if len(src) < 4 || src[0] != 0xFF || src[1] != 0xD8 {
		return StreamHeader{}, fmt.Errorf("no SOI marker: %w", ErrCorrupt)
	}
	for i := 2; ; {
		// Fill bytes (0xFF) may precede a marker.
		for i < len(src) && src[i] == 0xFF && i+1 < len(src) && src[i+1] == 0xFF {
			i++
		}
		if i+4 > len(src) || src[i] != 0xFF {
			return StreamHeader{}, fmt.Errorf("no frame header before byte %d: %w", i, ErrCorrupt)
		}
		m := src[i+1]
		if m == 0x01 || m >= 0xD0 && m <= 0xD7 {
			i += 2
			continue
		}
		n := int(binary.BigEndian.Uint16(src[i+2:]))
		if n < 2 || i+2+n > len(src) {
			return StreamHeader{}, fmt.Errorf("marker segment %02X of %d bytes at %d: %w", m, n, i, ErrCorrupt)
		}
		switch m {
		case 0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF, 0xF7:
			seg := src[i+4 : i+2+n]
			if len(seg) < 6 {
				return StreamHeader{}, fmt.Errorf("frame header of %d bytes: %w", len(seg), ErrCorrupt)
			}
			h := StreamHeader{
				Precision:  int(seg[0]),
				Height:     int(binary.BigEndian.Uint16(seg[1:])),
				Width:      int(binary.BigEndian.Uint16(seg[3:])),
				Components: int(seg[5]),
				Tiles:      1,
			}
			if len(seg) < 6+3*h.Components {
				return StreamHeader{}, fmt.Errorf("frame header of %d bytes for %d components: %w", len(seg), h.Components, ErrCorrupt)
			}
			return h, nil
		case 0x00, 0xD8, 0xD9, 0xDA:
			return StreamHeader{}, fmt.Errorf("marker %02X before the frame header: %w", m, ErrCorrupt)
		}
		i += 2 + n
	}
}
