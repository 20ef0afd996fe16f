package viewer

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"teleread/viewer/codec"
	"teleread/viewer/dataset"
)

// decoder decodes one frame's code stream for an image.
type decoder struct {
	// start is the marker every code stream of the syntax begins with (nil: the
	// frames cannot be found by scanning, as for RLE).
	start  []byte
	decode func(src []byte, im *Image) (*codec.Image, error)
}

// decoders maps an encapsulated transfer syntax UID to its decoder; codecs.go
// registers them.
var decoders = map[string]decoder{}

var (
	markerJPEG = []byte{0xFF, 0xD8}             // SOI of JPEG and JPEG-LS
	markerJ2K  = []byte{0xFF, 0x4F, 0xFF, 0x51} // SOC followed by SIZ
)

// encapsulatedFrame reads and decodes frame n of encapsulated pixel data.
func (im *Image) encapsulatedFrame(n int) (*Frame, error) {
	dec, ok := decoders[im.TransferSyntax]
	if !ok {
		return nil, fmt.Errorf("%w: transfer syntax %s", ErrUnsupported, im.TransferSyntax)
	}
	src, err := im.codeStream(n, dec.start)
	if err != nil {
		return nil, err
	}
	ci, err := dec.decode(src, im)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", im.TransferSyntax, err)
	}
	return im.frameFromCodec(ci)
}

// frameFragments returns the indices [from, to) of the fragments holding frame n.
func (im *Image) frameFragments(n int, start []byte) (from, to int, err error) {
	px := im.File.Pixel
	frags := px.Fragments
	if len(frags) == 0 {
		return 0, 0, fmt.Errorf("%w: no fragments", ErrTruncated)
	}
	if im.Frames == 1 {
		return 0, len(frags), nil
	}
	// Extended Offset Table (PS3.5 A.4, 7FE0,0001): 64-bit offsets of each frame's
	// first item, in the same unit as the Basic Offset Table.
	if offs := im.extendedOffsets(); len(offs) == im.Frames {
		return im.fragmentsByOffsets(n, offs)
	}
	if len(px.OffsetTable) == im.Frames {
		offs := make([]int64, len(px.OffsetTable))
		for i, o := range px.OffsetTable {
			offs[i] = int64(o)
		}
		return im.fragmentsByOffsets(n, offs)
	}
	if len(frags) == im.Frames {
		return n, n + 1, nil
	}
	if start == nil {
		return 0, 0, fmt.Errorf("%w: %d fragments for %d frames and no offset table", ErrInvalid, len(frags), im.Frames)
	}
	// Frames span several fragments: a frame starts at every fragment that begins
	// with the code stream's start marker.
	var starts []int
	for i, fr := range frags {
		if fr.Length < int64(len(start)) {
			continue
		}
		b, err := im.File.ReadPixelRange(fr.Offset, int64(len(start)))
		if err != nil {
			return 0, 0, err
		}
		if bytes.Equal(b, start) {
			starts = append(starts, i)
		}
	}
	if len(starts) != im.Frames || starts[0] != 0 {
		return 0, 0, fmt.Errorf("%w: found %d code streams in %d fragments for %d frames", ErrInvalid, len(starts), len(frags), im.Frames)
	}
	from = starts[n]
	to = len(frags)
	if n+1 < len(starts) {
		to = starts[n+1]
	}
	return from, to, nil
}

// extendedOffsets returns the Extended Offset Table, when the file has one.
func (im *Image) extendedOffsets() []int64 {
	e := im.File.DataSet.Get(dataset.ExtendedOffsetTable)
	if e == nil || len(e.Value)%8 != 0 {
		return nil
	}
	var order binary.ByteOrder = binary.LittleEndian
	if im.File.DataSet.BigEndian() {
		order = binary.BigEndian
	}
	out := make([]int64, len(e.Value)/8)
	for i := range out {
		out[i] = int64(order.Uint64(e.Value[8*i:]))
	}
	return out
}

// fragmentsByOffsets maps frame n to fragments through item offsets (relative to the
// first fragment's item header): the fragments from offs[n] up to offs[n+1].
func (im *Image) fragmentsByOffsets(n int, offs []int64) (from, to int, err error) {
	itemOffs := im.File.Pixel.FragmentItemOffsets
	from, to = -1, -1
	if n+1 == len(offs) {
		to = len(itemOffs)
	}
	for i, o := range itemOffs {
		if o == offs[n] {
			from = i
		}
		if n+1 < len(offs) && o == offs[n+1] {
			to = i
		}
	}
	if from < 0 || to <= from {
		return 0, 0, fmt.Errorf("%w: offset table entry %d (%d) or the next one is not the start of a fragment", ErrInvalid, n, offs[n])
	}
	return from, to, nil
}

// codeStream returns the concatenated fragments of frame n.
func (im *Image) codeStream(n int, start []byte) ([]byte, error) {
	from, to, err := im.frameFragments(n, start)
	if err != nil {
		return nil, err
	}
	frags := im.File.Pixel.Fragments[from:to]
	var size int64
	for _, fr := range frags {
		size += fr.Length
	}
	if size > im.File.SourceSize() {
		return nil, fmt.Errorf("%w: fragments of %d bytes", ErrTruncated, size)
	}
	out := make([]byte, 0, size)
	for _, fr := range frags {
		b, err := im.File.ReadPixelRange(fr.Offset, fr.Length)
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	return out, nil
}

// frameFromCodec checks a decoded code stream against the header and keeps its
// samples as stored values (masked to Bits Stored, sign-extended when signed).
func (im *Image) frameFromCodec(ci *codec.Image) (*Frame, error) {
	if ci.Width != im.Cols || ci.Height != im.Rows || ci.Components != im.Samples {
		return nil, fmt.Errorf("%w: code stream is %dx%d with %d components, header says %dx%d with %d",
			ErrInvalid, ci.Width, ci.Height, ci.Components, im.Cols, im.Rows, im.Samples)
	}
	if im.Float {
		return nil, fmt.Errorf("%w: compressed float pixel data", ErrUnsupported)
	}
	// The header's Photometric Interpretation says what the samples are, as in the
	// references: JPEG data stay as coded (YBR_FULL_422 -> YBRFull); JPEG 2000
	// YBR_RCT/ICT come out of the codec as RGB, which ColorSpace already says.
	f := im.newFrame(im.ColorSpace())
	n := f.Len()
	switch {
	case ci.U8 != nil && len(ci.U8) >= n:
		storeCodec(f, ci.U8)
	case ci.U16 != nil && len(ci.U16) >= n:
		storeCodec(f, ci.U16)
	case ci.U32 != nil && len(ci.U32) >= n:
		storeCodec(f, ci.U32)
	default:
		return nil, fmt.Errorf("%w: decoder returned too few samples", ErrInvalid)
	}
	return f, nil
}
