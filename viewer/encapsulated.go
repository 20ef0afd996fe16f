package viewer

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"unsafe"

	"teleread/viewer/codec"
	"teleread/viewer/dataset"
)

// decoder decodes one frame's code stream for an image.
type decoder struct {
	// start is the marker every code stream of the syntax begins with (nil: the
	// frames cannot be found by scanning, as for RLE).
	start  []byte
	decode func(src []byte, im *Image) (*codec.Image, error)
	// header reads what the code stream's own header declares, so that it is
	// checked against the DICOM header before the decoder allocates what it
	// says (nil: the decoder is handed the frame's size, as RLE is).
	header func(src []byte) (codec.StreamHeader, error)
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
	src, release, err := im.codeStream(n, dec.start)
	if err != nil {
		return nil, err
	}
	if err := im.checkStream(dec, src); err != nil {
		release()
		return nil, err
	}
	ci, err := dec.decode(src, im)
	release()
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", im.TransferSyntax, err)
	}
	return im.frameFromCodec(ci)
}

// checkStream compares what the code stream's header declares (size,
// components, tiles) with the DICOM header, before the decoder allocates
// anything from it.
func (im *Image) checkStream(dec decoder, src []byte) error {
	if dec.header == nil {
		return nil
	}
	h, err := dec.header(src)
	if err != nil {
		return fmt.Errorf("%w: %s header: %w", ErrInvalid, im.TransferSyntax, err)
	}
	if err := h.Check(codec.Expect{Width: im.Cols, Height: im.Rows, Components: im.Samples}); err != nil {
		return fmt.Errorf("%w: %s code stream: %w", ErrInvalid, im.TransferSyntax, err)
	}
	return nil
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
		b, err := im.File.PixelView(fr.Offset, int64(len(start)), nil)
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

// codeStream returns the concatenated fragments of frame n: the file's own
// bytes for a single fragment of a file in memory, else a pooled buffer that
// release gives back. Either way they are only read, and not kept after release.
func (im *Image) codeStream(n int, start []byte) (b []byte, release func(), err error) {
	from, to, err := im.frameFragments(n, start)
	if err != nil {
		return nil, nil, err
	}
	frags := im.File.Pixel.Fragments[from:to]
	var size int64
	for _, fr := range frags {
		size += fr.Length
	}
	if size > im.File.SourceSize() {
		return nil, nil, fmt.Errorf("%w: fragments of %d bytes", ErrTruncated, size)
	}
	scratch := getScratch(int(size))
	release = func() { putScratch(scratch) }
	if len(frags) == 1 {
		b, err := im.File.PixelView(frags[0].Offset, frags[0].Length, *scratch)
		if err != nil {
			release()
			return nil, nil, err
		}
		return b, release, nil
	}
	out := (*scratch)[:size]
	pos := int64(0)
	for _, fr := range frags {
		if err := im.File.ReadPixelRangeInto(out[pos:pos+fr.Length], fr.Offset); err != nil {
			release()
			return nil, nil, err
		}
		pos += fr.Length
	}
	return out, release, nil
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
	if f := im.adoptCodec(ci); f != nil {
		return f, nil
	}
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

// adoptCodec makes the frame from the codec's own samples when they are
// already of the frame's sample size (the codec's slices are not used again),
// masking and sign-extending them in place where that changes anything; nil
// when they are not.
func (im *Image) adoptCodec(ci *codec.Image) *Frame {
	f := im.frameHeader(im.ColorSpace())
	n := f.Len()
	switch {
	case im.BitsAllocated == 8 && len(ci.U8) == n && f.Signed:
		f.I8 = unsafe.Slice((*int8)(unsafe.Pointer(unsafe.SliceData(ci.U8))), n)
	case im.BitsAllocated == 8 && len(ci.U8) == n:
		f.U8 = ci.U8
	case im.BitsAllocated == 16 && len(ci.U16) == n && f.Signed:
		f.I16 = unsafe.Slice((*int16)(unsafe.Pointer(unsafe.SliceData(ci.U16))), n)
	case im.BitsAllocated == 16 && len(ci.U16) == n:
		f.U16 = ci.U16
	case im.BitsAllocated == 32 && len(ci.U32) == n && f.Signed:
		f.I32 = unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(ci.U32))), n)
	case im.BitsAllocated == 32 && len(ci.U32) == n:
		f.U32 = ci.U32
	default:
		return nil
	}
	// A codec's samples fit its precision (codec.Image), so unsigned ones of
	// no more than Bits Stored bits are already what masking would leave.
	if f.Signed || ci.Precision > f.BitsStored {
		f.keepStored()
	}
	return f
}

// CodeStream returns a copy of frame n's code stream (its fragments joined),
// found as the decoder finds it (offset tables, else start markers), for
// callers that rewrite encapsulated pixel data frame by frame.
func (im *Image) CodeStream(n int) ([]byte, error) {
	if n < 0 || n >= im.Frames {
		return nil, fmt.Errorf("%w: frame %d of %d", ErrInvalid, n, im.Frames)
	}
	var start []byte
	if dec, ok := decoders[im.TransferSyntax]; ok {
		start = dec.start
	}
	b, release, err := im.codeStream(n, start)
	if err != nil {
		return nil, err
	}
	defer release()
	return append([]byte(nil), b...), nil
}
