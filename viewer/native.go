package viewer

import (
	"encoding/binary"
	"fmt"
)

// nativeFrameBytes returns how many bytes one native frame takes (for 1-bit data,
// how many bits) and whether the count is in bits.
func (im *Image) nativeFrameSize() (size int64, bits bool) {
	n := int64(im.Rows) * int64(im.Cols) * int64(im.Samples)
	if im.Photometric == "YBR_FULL_422" {
		n = int64(im.Rows) * int64(im.Cols) * 2 // Y1 Y2 Cb Cr per pair of pixels
	}
	if im.BitsAllocated == 1 {
		return n, true
	}
	return n * int64(im.BitsAllocated/8), false
}

// nativeFrame reads frame n of uncompressed pixel data: only its byte range.
func (im *Image) nativeFrame(n int) (*Frame, error) {
	px := im.File.Pixel
	size, bits := im.nativeFrameSize()
	total := size * int64(im.Frames)
	if bits {
		total = (total + 7) / 8
	}
	if px.Length < total {
		return nil, fmt.Errorf("%w: %d bytes of pixel data, %d frames of %dx%dx%d need %d",
			ErrTruncated, px.Length, im.Frames, im.Rows, im.Cols, im.Samples, total)
	}
	if im.Photometric == "YBR_FULL_422" && (im.BitsAllocated != 8 || int64(im.Rows)*int64(im.Cols)%2 != 0) {
		return nil, fmt.Errorf("%w: uncompressed YBR_FULL_422 with %d bits allocated and %dx%d pixels",
			ErrUnsupported, im.BitsAllocated, im.Rows, im.Cols)
	}
	bigEndian := im.File.DataSet.BigEndian()
	if bits {
		return im.unpackBits(n, size)
	}
	off := int64(n) * size
	start, end := off, off+size
	// 8-bit data in an OW value under big endian are byte-swapped per 16-bit word
	// (PS3.5 A.3): read whole words and swap them back.
	swap8 := bigEndian && im.BitsAllocated == 8 && px.VR == "OW"
	if swap8 {
		start &^= 1
		end = min((end+1)&^1, px.Length)
	}
	b, err := im.File.ReadPixelRange(px.Offset+start, end-start)
	if err != nil {
		return nil, err
	}
	if swap8 {
		for i := 0; i+1 < len(b); i += 2 {
			b[i], b[i+1] = b[i+1], b[i]
		}
		b = b[off-start : off-start+size]
	}
	return im.frameFromNative(b, bigEndian), nil
}

// frameFromNative turns one frame's raw bytes (exactly its size) into a Frame.
func (im *Image) frameFromNative(b []byte, bigEndian bool) *Frame {
	if im.Photometric == "YBR_FULL_422" {
		return im.expand422(b)
	}
	f := im.newFrame(im.ColorSpace())
	planar := im.Samples == 3 && im.PlanarConfiguration == 1
	if planar && f.U8 != nil {
		// The common planar case (8-bit RGB): interleave straight from the bytes.
		planeLen := im.Rows * im.Cols
		for c := range 3 {
			for i, v := range b[c*planeLen : (c+1)*planeLen] {
				f.U8[3*i+c] = v
			}
		}
		f.keepStored()
		return f
	}
	if (f.U16 != nil || f.I16 != nil) && !bigEndian {
		storeLE16(f, b)
	} else {
		f.loadNative(b, bigEndian)
		f.keepStored()
	}
	if planar {
		f.interleave(im.Rows * im.Cols)
	}
	return f
}

// storeLE16 is the common case of frameFromNative (16-bit little-endian grey),
// kept free of per-sample closures.
func storeLE16(f *Frame, b []byte) {
	bs := uint(f.BitsStored)
	mask := uint16(1<<bs - 1)
	if bs >= 16 {
		mask = 0xFFFF
	}
	if f.U16 != nil {
		for i := range f.U16 {
			f.U16[i] = binary.LittleEndian.Uint16(b[2*i:]) & mask
		}
		return
	}
	shift := 16 - bs
	for i := range f.I16 {
		// Shift the sign bit of Bits Stored to bit 15 and back: masks and sign-extends.
		f.I16[i] = int16(binary.LittleEndian.Uint16(b[2*i:])<<shift) >> shift
	}
}

// expand422 turns Y1 Y2 Cb Cr groups into one Y Cb Cr triple per pixel.
func (im *Image) expand422(b []byte) *Frame {
	f := im.newFrame(YBRFull)
	out := f.U8
	if out == nil { // signed 8-bit YBR makes no sense; keep the bit patterns
		f.I8, f.U8 = nil, make([]uint8, f.Len())
		f.Signed = false
		out = f.U8
	}
	for p := 0; p+3 < len(b) && 6*(p/4)+5 < len(out); p += 4 {
		y1, y2, cb, cr := b[p], b[p+1], b[p+2], b[p+3]
		o := 6 * (p / 4)
		out[o], out[o+1], out[o+2] = y1, cb, cr
		out[o+3], out[o+4], out[o+5] = y2, cb, cr
	}
	return f
}

// unpackBits reads frame n of 1-bit data (bits packed little-endian in each byte,
// frames not necessarily starting on a byte boundary) into 0/1 values.
func (im *Image) unpackBits(n int, bitsPerFrame int64) (*Frame, error) {
	px := im.File.Pixel
	first := int64(n) * bitsPerFrame
	start, end := first/8, (first+bitsPerFrame+7)/8
	b, err := im.File.ReadPixelRange(px.Offset+start, end-start)
	if err != nil {
		return nil, err
	}
	if im.File.DataSet.BigEndian() && px.VR == "OW" {
		return nil, fmt.Errorf("%w: 1-bit OW pixel data in big endian", ErrUnsupported)
	}
	f := im.newFrame(im.ColorSpace())
	f.BitsStored = 1
	out := f.U8
	if out == nil {
		f.I8, f.U8, f.Signed = nil, make([]uint8, f.Len()), false
		out = f.U8
	}
	bit := first - start*8
	for i := range out {
		p := bit + int64(i)
		out[i] = b[p/8] >> (p % 8) & 1
	}
	return f, nil
}
