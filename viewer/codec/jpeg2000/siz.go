package jpeg2000

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"teleread/viewer/codec"
)

// SIZ reads the image and tile size (SIZ marker segment, ITU-T T.800 A.5.1)
// of a J2K code stream, or of the code stream in a JP2 file, in Go and without
// allocating: OpenJPEG allocates per tile and component as it reads the main
// header, so what SIZ declares is checked before OpenJPEG sees it.
func SIZ(src []byte) (codec.StreamHeader, error) {
	if bytes.HasPrefix(src, jp2Signature) {
		cs, err := jp2CodeStream(src)
		if err != nil {
			return codec.StreamHeader{}, err
		}
		src = cs
	}
	if !bytes.HasPrefix(src, j2kSignature) || len(src) < 4+2 {
		return codec.StreamHeader{}, fmt.Errorf("jpeg2000: SIZ: no SOC and SIZ markers: %w", codec.ErrCorrupt)
	}
	be := binary.BigEndian
	seg := src[4:]
	n := int(be.Uint16(seg))
	if n < 41 || n > len(seg) {
		return codec.StreamHeader{}, fmt.Errorf("jpeg2000: SIZ of %d bytes, %d left: %w", n, len(seg), codec.ErrCorrupt)
	}
	seg = seg[:n]
	x, y := be.Uint32(seg[4:]), be.Uint32(seg[8:])
	x0, y0 := be.Uint32(seg[12:]), be.Uint32(seg[16:])
	tw, th := be.Uint32(seg[20:]), be.Uint32(seg[24:])
	tx0, ty0 := be.Uint32(seg[28:]), be.Uint32(seg[32:])
	comps := int(be.Uint16(seg[36:]))
	if comps < 1 || n != 38+3*comps {
		return codec.StreamHeader{}, fmt.Errorf("jpeg2000: SIZ of %d bytes for %d components: %w", n, comps, codec.ErrCorrupt)
	}
	if x <= x0 || y <= y0 || tw == 0 || th == 0 || tx0 > x0 || ty0 > y0 || uint64(tx0)+uint64(tw) <= uint64(x0) || uint64(ty0)+uint64(th) <= uint64(y0) {
		return codec.StreamHeader{}, fmt.Errorf("jpeg2000: SIZ: image %d,%d to %d,%d, tiles %dx%d from %d,%d: %w", x0, y0, x, y, tw, th, tx0, ty0, codec.ErrCorrupt)
	}
	tilesX := (uint64(x-tx0) + uint64(tw) - 1) / uint64(tw)
	tilesY := (uint64(y-ty0) + uint64(th) - 1) / uint64(th)
	tiles := tilesX * tilesY
	if tiles > 1<<30 {
		tiles = 1 << 30
	}
	return codec.StreamHeader{
		Width:      int(x - x0),
		Height:     int(y - y0),
		Components: comps,
		Precision:  int(seg[38]&0x7F) + 1,
		Tiles:      int(tiles),
	}, nil
}

// jp2CodeStream returns the contents of the contiguous code stream box
// ("jp2c") of a JP2 file.
func jp2CodeStream(src []byte) ([]byte, error) {
	be := binary.BigEndian
	for b := src; len(b) >= 8; {
		size := uint64(be.Uint32(b))
		typ := string(b[4:8])
		hdr := uint64(8)
		switch size {
		case 0:
			size = uint64(len(b))
		case 1:
			if len(b) < 16 {
				return nil, fmt.Errorf("jpeg2000: JP2 box %q cut short: %w", typ, codec.ErrCorrupt)
			}
			size, hdr = be.Uint64(b[8:]), 16
		}
		if size < hdr || size > uint64(len(b)) {
			return nil, fmt.Errorf("jpeg2000: JP2 box %q of %d bytes, %d left: %w", typ, size, len(b), codec.ErrCorrupt)
		}
		if typ == "jp2c" {
			return b[hdr:size], nil
		}
		b = b[size:]
	}
	return nil, fmt.Errorf("jpeg2000: JP2 file without a code stream box: %w", codec.ErrCorrupt)
}
