package viewer

import (
	"encoding/binary"
	"fmt"
	"sync"

	"teleread/viewer/dataset"
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
	total, ok := dataset.MulInt64(size, int64(im.Frames))
	if !ok {
		return nil, fmt.Errorf("%w: %d frames of %d bytes", ErrInvalid, im.Frames, size)
	}
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
	planar := im.Samples == 3 && im.PlanarConfiguration == 1
	if !swap8 && !planar && im.Photometric != "YBR_FULL_422" && hostLittleEndian {
		// The samples are stored as the frame keeps them: read them straight
		// into the frame, then fix the byte order and the unused bits in place.
		f := im.newFrameOverwritten(im.ColorSpace())
		raw := f.raw()
		if int64(len(raw)) != size {
			return nil, fmt.Errorf("%w: frame of %d bytes for %d samples", ErrInvalid, size, f.Len())
		}
		if err := im.File.ReadPixelRangeInto(raw, px.Offset+off); err != nil {
			return nil, err
		}
		if bigEndian {
			f.swapBytes()
		}
		f.keepStored()
		return f, nil
	}
	var b []byte
	var err error
	scratch := getScratch(int(end - start))
	defer putScratch(scratch)
	if swap8 {
		b = (*scratch)[:end-start]
		err = im.File.ReadPixelRangeInto(b, px.Offset+start) // swapped in place below
	} else {
		// Only read: a view of a file in memory, or read into a reused buffer.
		b, err = im.File.PixelView(px.Offset+start, end-start, *scratch)
	}
	if err != nil {
		return nil, err
	}
	if swap8 {
		swap16(b)
		b = b[off-start : off-start+size]
	}
	return im.frameFromNative(b, bigEndian), nil
}

// frameFromNative turns one frame's raw bytes (exactly its size) into a Frame.
func (im *Image) frameFromNative(b []byte, bigEndian bool) *Frame {
	if im.Photometric == "YBR_FULL_422" {
		return im.expand422(b)
	}
	planar := im.Samples == 3 && im.PlanarConfiguration == 1
	if planar && im.BitsAllocated == 8 && im.PixelRepresentation != 1 && !im.Float {
		// The common planar case (8-bit RGB): interleave straight from the
		// bytes, which writes every sample.
		f := im.newFrameOverwritten(im.ColorSpace())
		interleaveBytes(f.U8, b, im.Rows*im.Cols)
		f.keepStored()
		return f
	}
	f := im.newFrame(im.ColorSpace())
	if planar && f.U8 != nil {
		// The common planar case (8-bit RGB): interleave straight from the bytes.
		interleaveBytes(f.U8, b, im.Rows*im.Cols)
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

// storeLE16 is the common case of frameFromNative (16-bit little endian),
// kept free of per-sample closures and of loads through f in the loop.
func storeLE16(f *Frame, b []byte) {
	shift := uint(16-f.BitsStored) & 15
	if f.U16 != nil {
		mask := uint16(0xFFFF) >> shift
		dst := f.U16
		b = b[:2*len(dst)]
		for i := range dst {
			dst[i] = binary.LittleEndian.Uint16(b[2*i:2*i+2]) & mask
		}
		return
	}
	dst := f.I16
	b = b[:2*len(dst)]
	for i := range dst {
		// Shift the sign bit of Bits Stored to bit 15 and back: masks and sign-extends.
		dst[i] = int16(binary.LittleEndian.Uint16(b[2*i:2*i+2])<<shift) >> shift
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
	scratch := getScratch(int(end - start))
	defer putScratch(scratch)
	b, err := im.File.PixelView(px.Offset+start, end-start, *scratch)
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
	unpack1(out, b, int(first-start*8))
	return f, nil
}

// scratch keeps a few buffers that frames are read into before conversion
// (and fragments concatenated into), so that decoding a series does not
// allocate and fault in one per frame. Unlike a sync.Pool it is not emptied
// by each garbage collection, which at a series' allocation rate comes every
// few frames; it keeps at most maxScratchKept buffers of up to maxScratch.
var scratch struct {
	sync.Mutex
	free []*[]byte
}

const (
	maxScratch     = 32 << 20
	maxScratchKept = 4
)

// getScratch returns a buffer of at least n bytes (its length is n).
func getScratch(n int) *[]byte {
	scratch.Lock()
	for i, p := range scratch.free {
		if cap(*p) >= n {
			last := len(scratch.free) - 1
			scratch.free[i], scratch.free[last] = scratch.free[last], nil
			scratch.free = scratch.free[:last]
			scratch.Unlock()
			*p = (*p)[:n]
			return p
		}
	}
	scratch.Unlock()
	b := make([]byte, n)
	return &b
}

// putScratch gives a buffer from getScratch back; when maxScratchKept are
// kept already it replaces the smallest, if it is larger.
func putScratch(p *[]byte) {
	if cap(*p) > maxScratch {
		return
	}
	scratch.Lock()
	defer scratch.Unlock()
	if len(scratch.free) < maxScratchKept {
		scratch.free = append(scratch.free, p)
		return
	}
	small := 0
	for i, q := range scratch.free {
		if cap(*q) < cap(*scratch.free[small]) {
			small = i
		}
	}
	if cap(*p) > cap(*scratch.free[small]) {
		scratch.free[small] = p
	}
}

// unpack1 sets out[i] to bit bit+i of b, bits counted from the least
// significant of each byte; whole bytes are unpacked eight bits at a time.
func unpack1(out, b []byte, bit int) {
	i := 0
	for ; i < len(out) && (bit+i)%8 != 0; i++ {
		p := bit + i
		out[i] = b[p/8] >> (p % 8) & 1
	}
	k := (bit + i) / 8
	for ; i+8 <= len(out); i, k = i+8, k+1 {
		v := b[k]
		d := out[i : i+8 : i+8]
		d[0], d[1], d[2], d[3] = v&1, v>>1&1, v>>2&1, v>>3&1
		d[4], d[5], d[6], d[7] = v>>4&1, v>>5&1, v>>6&1, v>>7
	}
	for ; i < len(out); i++ {
		p := bit + i
		out[i] = b[p/8] >> (p % 8) & 1
	}
}
