// Package rle decodes DICOM RLE Lossless frames (transfer syntax
// 1.2.840.10008.1.2.5, PS3.5 Annex G): a 64-byte header of up to 15 segment
// offsets, then one PackBits-coded segment per byte plane, most significant
// byte of each sample first, the planes of sample 0 before those of sample 1.
package rle

import (
	"encoding/binary"
	"fmt"
	"sync"

	"teleread/viewer/codec"
)

const (
	headerSize  = 64
	maxSegments = 15
)

// Decode decodes one RLE Lossless frame of rows x cols pixels with
// samplesPerPixel samples of bitsAllocated (8, 16 or 32) bits each. Samples
// come out interleaved, in U8, U16 or U32 by bitsAllocated, whatever the
// Planar Configuration attribute says (RLE always codes colour by plane).
//
// Like GDCM, a segment that decodes to fewer bytes than its plane needs leaves
// the rest zero, and bytes beyond the plane are dropped; a header whose offsets
// point outside the data, or with fewer segments than the image needs, is an
// error wrapping codec.ErrCorrupt.
func Decode(src []byte, rows, cols, samplesPerPixel, bitsAllocated int) (*codec.Image, error) {
	img, err := decode(src, rows, cols, samplesPerPixel, bitsAllocated)
	if err != nil {
		return nil, fmt.Errorf("rle: decode: %w", err)
	}
	return img, nil
}

func decode(src []byte, rows, cols, spp, bitsAllocated int) (*codec.Image, error) {
	if bitsAllocated != 8 && bitsAllocated != 16 && bitsAllocated != 32 {
		return nil, fmt.Errorf("%w: %d bits allocated", codec.ErrUnsupported, bitsAllocated)
	}
	bps := bitsAllocated / 8
	if rows <= 0 || cols <= 0 || spp <= 0 || spp*bps > maxSegments {
		return nil, fmt.Errorf("%w: %dx%d pixels of %d samples of %d bits", codec.ErrCorrupt, cols, rows, spp, bitsAllocated)
	}
	pixels := int64(rows) * int64(cols)
	if pixels*int64(spp) > codec.MaxPixels {
		return nil, fmt.Errorf("%w: %dx%dx%d samples exceed the limit of %d", codec.ErrCorrupt, cols, rows, spp, codec.MaxPixels)
	}
	if len(src) < headerSize {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the RLE header", codec.ErrCorrupt, len(src))
	}
	nseg := int(binary.LittleEndian.Uint32(src))
	need := spp * bps
	if nseg > maxSegments {
		return nil, fmt.Errorf("%w: header declares %d segments", codec.ErrCorrupt, nseg)
	}
	if nseg < need {
		return nil, fmt.Errorf("%w: %d segments, the image needs %d", codec.ErrCorrupt, nseg, need)
	}
	// Only the segments the image needs are used; a segment ends where the
	// next declared one starts, the last at the end of the data.
	var offs [maxSegments + 1]int
	for i := range need {
		o := int64(binary.LittleEndian.Uint32(src[4+4*i:]))
		if o < headerSize || o > int64(len(src)) {
			return nil, fmt.Errorf("%w: segment %d at offset %d, data is %d bytes", codec.ErrCorrupt, i, o, len(src))
		}
		if i > 0 && int(o) < offs[i-1] {
			return nil, fmt.Errorf("%w: segment %d offset %d before segment %d", codec.ErrCorrupt, i, o, i-1)
		}
		offs[i] = int(o)
	}
	offs[need] = len(src)
	if nseg > need {
		if o := int64(binary.LittleEndian.Uint32(src[4+4*need:])); o >= int64(offs[need-1]) && o <= int64(len(src)) {
			offs[need] = int(o)
		}
	}
	// A segment of n bytes decodes to at most 64n bytes (two-byte runs of 128),
	// so a plane it cannot come near filling means data is missing; refuse it
	// before allocating.
	for i := range need {
		if n := int64(offs[i+1] - offs[i]); pixels > 64*n+128 {
			return nil, fmt.Errorf("%w: segment %d of %d bytes cannot fill %d pixels", codec.ErrCorrupt, i, n, pixels)
		}
	}

	img := &codec.Image{Width: cols, Height: rows, Components: spp, Precision: bitsAllocated}
	n := int(pixels)
	// segment decodes segment i into dst, zero-filling what it leaves short.
	segment := func(dst []byte, i int) {
		m := unpackBits(dst, src[offs[i]:offs[i+1]])
		clear(dst[m:])
	}
	switch bps {
	case 1:
		img.U8 = make([]uint8, n*spp)
		if spp == 1 {
			segment(img.U8, 0)
			return img, nil
		}
		planes := scratch(n * spp)
		defer release(planes)
		for s := range spp {
			segment(planes[s*n:(s+1)*n], s)
		}
		interleave8(img.U8, planes, n, spp)
	case 2:
		img.U16 = make([]uint16, n*spp)
		planes := scratch(2 * n)
		defer release(planes)
		hi, lo := planes[:n], planes[n:]
		for s := range spp {
			segment(hi, 2*s)
			segment(lo, 2*s+1)
			if spp == 1 {
				out := img.U16[:n]
				for i := range out {
					out[i] = uint16(hi[i])<<8 | uint16(lo[i])
				}
				continue
			}
			out := img.U16[s:]
			for i := range n {
				out[i*spp] = uint16(hi[i])<<8 | uint16(lo[i])
			}
		}
	case 4:
		img.U32 = make([]uint32, n*spp)
		planes := scratch(4 * n)
		defer release(planes)
		b0, b1, b2, b3 := planes[:n], planes[n:2*n], planes[2*n:3*n], planes[3*n:]
		for s := range spp {
			segment(b0, 4*s)
			segment(b1, 4*s+1)
			segment(b2, 4*s+2)
			segment(b3, 4*s+3)
			out := img.U32[s:]
			for i := range n {
				out[i*spp] = uint32(b0[i])<<24 | uint32(b1[i])<<16 | uint32(b2[i])<<8 | uint32(b3[i])
			}
		}
	}
	return img, nil
}

// planePool holds the byte-plane scratch buffers between frames: a cine loop
// decodes hundreds of same-sized frames, and reusing the planes halves what
// each one allocates.
var planePool sync.Pool

func scratch(n int) []byte {
	if p, ok := planePool.Get().(*[]byte); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]byte, n)
}

func release(b []byte) {
	planePool.Put(&b)
}

// interleave8 merges spp byte planes of n samples into pixel order.
func interleave8(out, planes []byte, n, spp int) {
	if spp == 3 {
		r, g, b := planes[:n], planes[n:2*n], planes[2*n:3*n]
		out = out[:3*n]
		for i, j := 0, 0; i < len(r) && j+2 < len(out); i, j = i+1, j+3 {
			out[j], out[j+1], out[j+2] = r[i], g[i], b[i]
		}
		return
	}
	for s := range spp {
		p := planes[s*n : (s+1)*n]
		o := out[s:]
		for i, v := range p {
			o[i*spp] = v
		}
	}
}

// unpackBits decodes one PackBits segment (PS3.5 G.3.1) into dst, stopping when
// dst is full or the segment ends; it returns how many bytes it wrote. A run
// that reaches past either end is cut there.
func unpackBits(dst, seg []byte) int {
	o, i := 0, 0
	for i < len(seg) && o < len(dst) {
		c := int(int8(seg[i]))
		i++
		switch {
		case c >= 0: // c+1 literal bytes
			n := min(c+1, len(seg)-i, len(dst)-o)
			copy(dst[o:o+n], seg[i:i+n])
			o += n
			i += c + 1
		case c != -128: // the next byte 1-c times
			if i >= len(seg) {
				return o
			}
			v := seg[i]
			i++
			n := min(1-c, len(dst)-o)
			fill(dst[o:o+n], v)
			o += n
		}
	}
	return o
}

// fill sets every byte of run to v, eight at a time: replicate runs of up to
// 128 bytes are what flat image regions compress to.
func fill(run []byte, v byte) {
	w := uint64(v) * 0x0101010101010101
	for len(run) >= 8 {
		binary.LittleEndian.PutUint64(run, w)
		run = run[8:]
	}
	for i := range run {
		run[i] = v
	}
}
