package share

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"teleread/viewer"
	"teleread/viewer/dataset"
)

// Encapsulated pixel data can carry text of its own, outside the data set:
// JPEG comment (COM) and application (APPn) segments and JPEG 2000 comment
// (COM) marker segments, which scanners and PACS fill with patient names,
// IDs and dates. The de-identified export removes them from each frame's code
// stream without decoding or recompressing it: the compressed image data are
// copied byte for byte, so the decoded pixels stay identical.
//
// Two application segments are kept, because decoders read colour
// information from them: APP0 "JFIF" (cut to its fixed fields, any thumbnail
// dropped) and APP14 "Adobe" (its fixed 12 bytes, the colour transform flag
// among them). Every other APPn (EXIF, ICC, XMP, vendor data) is removed:
// DICOM carries colour and geometry in the data set.

// ErrCodeStream is returned when a frame's code stream cannot be parsed well
// enough to strip it; the instance is then left out rather than copied with
// its text.
var ErrCodeStream = errors.New("share: unreadable code stream")

// codeStreamKind is how a transfer syntax's frames are stripped.
type codeStreamKind uint8

const (
	streamNone   codeStreamKind = iota // not rewritten (RLE, video, native)
	streamJPEG                         // ISO 10918 (DCT and lossless)
	streamJPEGLS                       // ISO 14495 (bit stuffing differs)
	streamJ2K                          // ISO 15444-1 and -15 code streams
)

func streamKind(ts string) codeStreamKind {
	switch ts {
	case dataset.JPEGBaseline, dataset.JPEGExtended, dataset.JPEGLossless, dataset.JPEGLosslessSV1:
		return streamJPEG
	case dataset.JPEGLSLossless, dataset.JPEGLSNearLossless:
		return streamJPEGLS
	case dataset.JPEG2000Lossless, dataset.JPEG2000, dataset.HTJ2KLossless, dataset.HTJ2KLosslessRPCL, dataset.HTJ2K:
		return streamJ2K
	}
	return streamNone
}

// strippedFrames returns f's frames with their text segments removed, or nil
// when the transfer syntax is not one whose code streams are rewritten or
// when no frame had anything to remove.
func strippedFrames(f *dataset.File) ([][]byte, error) {
	kind := streamKind(f.TransferSyntax)
	if kind == streamNone || f.Pixel == nil || !f.Pixel.Encapsulated {
		return nil, nil
	}
	im, err := viewer.NewImage(f)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCodeStream, f.Name, err)
	}
	frames := make([][]byte, im.NumFrames())
	changed := false
	for n := range frames {
		orig, err := im.CodeStream(n)
		if err != nil {
			return nil, fmt.Errorf("%w: %s frame %d: %w", ErrCodeStream, f.Name, n+1, err)
		}
		var b []byte
		if kind == streamJ2K {
			b, err = stripJ2K(orig)
		} else {
			b, err = stripJPEG(orig, kind == streamJPEGLS)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s frame %d: %w", ErrCodeStream, f.Name, n+1, err)
		}
		changed = changed || !bytes.Equal(b, orig)
		frames[n] = b
	}
	if !changed {
		return nil, nil // nothing to remove: the fragments are copied as they are
	}
	return frames, nil
}

var (
	jfifID  = []byte("JFIF\x00")
	adobeID = []byte("Adobe")
)

// stripJPEG removes COM and APPn segments (but see the package comment on
// JFIF and Adobe) from a JPEG or JPEG-LS code stream, and anything after EOI.
// Entropy-coded data are copied as they are.
func stripJPEG(b []byte, ls bool) ([]byte, error) {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return nil, errors.New("no JPEG SOI marker")
	}
	out := make([]byte, 0, len(b))
	out = append(out, 0xFF, 0xD8)
	i := 2
	for i < len(b) {
		if b[i] != 0xFF {
			return nil, fmt.Errorf("no marker at byte %d", i)
		}
		for i+1 < len(b) && b[i+1] == 0xFF { // fill bytes
			i++
		}
		if i+1 >= len(b) {
			break
		}
		m := b[i+1]
		switch {
		case m == 0xD9: // EOI: what follows is no part of the image
			return append(out, 0xFF, 0xD9), nil
		case m == 0x01 || m >= 0xD0 && m <= 0xD8: // TEM, RSTn, SOI: no length
			out = append(out, 0xFF, m)
			i += 2
			continue
		}
		if i+4 > len(b) {
			return nil, fmt.Errorf("marker %02X at byte %d is cut short", m, i)
		}
		l := int(binary.BigEndian.Uint16(b[i+2:]))
		if l < 2 || i+2+l > len(b) {
			return nil, fmt.Errorf("marker %02X at byte %d: length %d runs past the end", m, i, l)
		}
		seg := b[i : i+2+l]
		i += 2 + l
		switch {
		case m == 0xFE: // COM
		case m == 0xE0 && l >= 2+14 && bytes.HasPrefix(seg[4:], jfifID):
			// JFIF: identifier, version, units, densities; no thumbnail.
			k := append([]byte{0xFF, 0xE0, 0, 16}, seg[4:4+14]...)
			k[4+12], k[4+13] = 0, 0
			out = append(out, k...)
		case m == 0xEE && l >= 2+12 && bytes.HasPrefix(seg[4:], adobeID):
			out = append(out, 0xFF, 0xEE, 0, 14)
			out = append(out, seg[4:4+12]...)
		case m >= 0xE0 && m <= 0xEF: // other APPn
		default:
			out = append(out, seg...)
		}
		if m != 0xDA {
			continue
		}
		// Entropy-coded data after SOS run to the next marker: 0xFF followed
		// by anything but a stuffed zero (JPEG), a stuffed bit (JPEG-LS:
		// the next byte is below 0x80) or a restart marker.
		k := i
		for ; k+1 < len(b); k++ {
			if b[k] != 0xFF {
				continue
			}
			n := b[k+1]
			if n == 0 || n >= 0xD0 && n <= 0xD7 || ls && n < 0x80 {
				k++
				continue
			}
			break
		}
		if k+1 >= len(b) {
			k = len(b) // no EOI: keep the data to the end
		}
		out = append(out, b[i:k]...)
		i = k
	}
	return out, nil
}

// stripJ2K removes COM marker segments (0xFF64) from a JPEG 2000 code stream's
// main and tile-part headers, fixing each changed tile-part's length (Psot)
// and dropping the main header's TLM segments, whose tile-part lengths would
// no longer hold (they are an optional index). Anything after EOC is dropped.
func stripJ2K(b []byte) ([]byte, error) {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0x4F {
		return nil, errors.New("no JPEG 2000 SOC marker")
	}
	seg := func(i int) (m byte, l int, err error) {
		if i+4 > len(b) || b[i] != 0xFF {
			return 0, 0, fmt.Errorf("no marker segment at byte %d", i)
		}
		l = int(binary.BigEndian.Uint16(b[i+2:]))
		if l < 2 || i+2+l > len(b) {
			return 0, 0, fmt.Errorf("marker %02X at byte %d: length %d runs past the end", b[i+1], i, l)
		}
		return b[i+1], l, nil
	}
	var main, tiles []byte
	main = append(main, 0xFF, 0x4F)
	var tlm [][2]int // TLM segments' ranges in main
	i := 2
	for {
		if i+2 <= len(b) && b[i] == 0xFF && (b[i+1] == 0x90 || b[i+1] == 0xD9) {
			break // SOT or EOC
		}
		m, l, err := seg(i)
		if err != nil {
			return nil, err
		}
		switch m {
		case 0x64: // COM
		case 0x55: // TLM
			tlm = append(tlm, [2]int{len(main), len(main) + 2 + l})
			main = append(main, b[i:i+2+l]...)
		default:
			main = append(main, b[i:i+2+l]...)
		}
		i += 2 + l
	}
	changed := false
	for i < len(b) {
		if b[i] == 0xFF && i+1 < len(b) && b[i+1] == 0xD9 {
			tiles = append(tiles, 0xFF, 0xD9)
			break
		}
		m, l, err := seg(i)
		if err != nil {
			return nil, err
		}
		if m != 0x90 || l != 10 {
			return nil, fmt.Errorf("expected SOT at byte %d, found %02X", i, m)
		}
		psot := int(binary.BigEndian.Uint32(b[i+6:]))
		end := i + psot
		if psot == 0 || end > len(b) { // last tile-part, or a cut stream
			end = len(b)
			if end-2 > i && b[end-2] == 0xFF && b[end-1] == 0xD9 {
				end -= 2
			}
		}
		sot := len(tiles)
		tiles = append(tiles, b[i:i+12]...)
		j := i + 12
		removed := 0
		for j+2 <= end && !(b[j] == 0xFF && b[j+1] == 0x93) { // up to SOD
			m, l, err := seg(j)
			if err != nil {
				return nil, err
			}
			if m == 0x64 {
				removed += 2 + l
			} else {
				tiles = append(tiles, b[j:j+2+l]...)
			}
			j += 2 + l
		}
		if j > end {
			return nil, fmt.Errorf("tile-part at byte %d: header runs past its length", i)
		}
		tiles = append(tiles, b[j:end]...)
		if removed > 0 {
			changed = true
			if psot != 0 {
				binary.BigEndian.PutUint32(tiles[sot+6:], uint32(psot-removed))
			}
		}
		i = end
	}
	if changed {
		for k := len(tlm) - 1; k >= 0; k-- {
			main = append(main[:tlm[k][0]], main[tlm[k][1]:]...)
		}
	}
	return append(main, tiles...), nil
}
