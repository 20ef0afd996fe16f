package viewer

import (
	"encoding/binary"
	"math"
	"slices"
	"unsafe"
)

// integer is every sample type a Frame keeps integer values in.
type integer interface {
	~uint8 | ~int8 | ~uint16 | ~int16 | ~uint32 | ~int32
}

// keepStored keeps the low bs bits of each value of s, sign-extended from bit
// bs-1 when T is signed: shifting the stored bits to the top and back both masks
// (unsigned) and sign-extends (signed).
func keepStored[T integer](s []T, bs int) {
	shift := int(unsafe.Sizeof(T(0)))*8 - bs
	if shift <= 0 {
		return
	}
	for i, v := range s {
		s[i] = v << shift >> shift
	}
}

// convertStored stores the raw bit patterns of src into dst (the first len(dst)
// values), keeping the low bs bits, sign-extended when D is signed.
func convertStored[D integer, S ~uint8 | ~uint16 | ~uint32](dst []D, src []S, bs int) {
	shift := int(unsafe.Sizeof(D(0)))*8 - bs
	src = src[:len(dst)]
	if shift <= 0 {
		for i, v := range src {
			dst[i] = D(v)
		}
		return
	}
	for i, v := range src {
		dst[i] = D(v) << shift >> shift
	}
}

// interleave reorders three planes of planeLen samples (RR..GG..BB..) into
// interleaved triples (R,G,B,R,...).
func interleave[T any](s []T, planeLen int) {
	planes := slices.Clone(s[:3*planeLen])
	for c := range 3 {
		p := planes[c*planeLen : (c+1)*planeLen]
		for i, v := range p {
			s[3*i+c] = v
		}
	}
}

// interleave undoes planar configuration 1 on the frame's samples.
func (f *Frame) interleave(planeLen int) {
	switch {
	case f.U8 != nil:
		interleave(f.U8, planeLen)
	case f.I8 != nil:
		interleave(f.I8, planeLen)
	case f.U16 != nil:
		interleave(f.U16, planeLen)
	case f.I16 != nil:
		interleave(f.I16, planeLen)
	case f.U32 != nil:
		interleave(f.U32, planeLen)
	case f.I32 != nil:
		interleave(f.I32, planeLen)
	case f.F32 != nil:
		interleave(f.F32, planeLen)
	case f.F64 != nil:
		interleave(f.F64, planeLen)
	}
}

// keepStored masks the frame's integer samples to Bits Stored and sign-extends
// them when signed.
func (f *Frame) keepStored() {
	bs := f.BitsStored
	switch {
	case f.U8 != nil:
		keepStored(f.U8, bs)
	case f.I8 != nil:
		keepStored(f.I8, bs)
	case f.U16 != nil:
		keepStored(f.U16, bs)
	case f.I16 != nil:
		keepStored(f.I16, bs)
	case f.U32 != nil:
		keepStored(f.U32, bs)
	case f.I32 != nil:
		keepStored(f.I32, bs)
	}
}

// loadNative fills the frame's slice, in stored order, with the raw sample
// patterns of b (exactly the frame's bytes) in the given byte order.
func (f *Frame) loadNative(b []byte, bigEndian bool) {
	switch {
	case f.U8 != nil:
		copy(f.U8, b)
	case f.I8 != nil:
		for i := range f.I8 {
			f.I8[i] = int8(b[i])
		}
	case f.U16 != nil:
		load16(f.U16, b, bigEndian)
	case f.I16 != nil:
		load16(f.I16, b, bigEndian)
	case f.U32 != nil:
		load32(f.U32, b, bigEndian)
	case f.I32 != nil:
		load32(f.I32, b, bigEndian)
	case f.F32 != nil && bigEndian:
		for i := range f.F32 {
			f.F32[i] = math.Float32frombits(binary.BigEndian.Uint32(b[4*i:]))
		}
	case f.F32 != nil:
		for i := range f.F32 {
			f.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case f.F64 != nil && bigEndian:
		for i := range f.F64 {
			f.F64[i] = math.Float64frombits(binary.BigEndian.Uint64(b[8*i:]))
		}
	case f.F64 != nil:
		for i := range f.F64 {
			f.F64[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		}
	}
}

func load16[T ~uint16 | ~int16](dst []T, b []byte, bigEndian bool) {
	b = b[:2*len(dst)]
	if bigEndian {
		for i := range dst {
			dst[i] = T(binary.BigEndian.Uint16(b[2*i:]))
		}
		return
	}
	for i := range dst {
		dst[i] = T(binary.LittleEndian.Uint16(b[2*i:]))
	}
}

func load32[T ~uint32 | ~int32](dst []T, b []byte, bigEndian bool) {
	b = b[:4*len(dst)]
	if bigEndian {
		for i := range dst {
			dst[i] = T(binary.BigEndian.Uint32(b[4*i:]))
		}
		return
	}
	for i := range dst {
		dst[i] = T(binary.LittleEndian.Uint32(b[4*i:]))
	}
}

// storeCodec stores a codec's raw sample patterns (interleaved, at least the
// frame's length) into the frame's integer slice, masked to Bits Stored and
// sign-extended when signed.
func storeCodec[S ~uint8 | ~uint16 | ~uint32](f *Frame, src []S) {
	bs := f.BitsStored
	switch {
	case f.U8 != nil:
		convertStored(f.U8, src, bs)
	case f.I8 != nil:
		convertStored(f.I8, src, bs)
	case f.U16 != nil:
		convertStored(f.U16, src, bs)
	case f.I16 != nil:
		convertStored(f.I16, src, bs)
	case f.U32 != nil:
		convertStored(f.U32, src, bs)
	case f.I32 != nil:
		convertStored(f.I32, src, bs)
	}
}
