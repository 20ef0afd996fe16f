package viewer

import (
	"encoding/binary"
	"math"
	"math/bits"
	"slices"
	"unsafe"
)

// hostLittleEndian says whether this machine keeps integers little endian, the
// byte order of the frame slices' memory that raw exposes.
var hostLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// raw returns the memory of the frame's samples as bytes, in the machine's
// byte order.
func (f *Frame) raw() []byte {
	switch {
	case f.U8 != nil:
		return f.U8
	case f.I8 != nil:
		return bytesOf(f.I8)
	case f.U16 != nil:
		return bytesOf(f.U16)
	case f.I16 != nil:
		return bytesOf(f.I16)
	case f.U32 != nil:
		return bytesOf(f.U32)
	case f.I32 != nil:
		return bytesOf(f.I32)
	case f.F32 != nil:
		return bytesOf(f.F32)
	case f.F64 != nil:
		return bytesOf(f.F64)
	}
	return nil
}

// bytesOf views a slice of fixed-size numbers as its bytes.
func bytesOf[T int8 | uint16 | int16 | uint32 | int32 | float32 | float64](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(s[0])))
}

// swapBytes reverses the byte order of each of the frame's samples in place.
func (f *Frame) swapBytes() {
	switch {
	case f.U16 != nil:
		swapSlice16(f.U16)
	case f.I16 != nil:
		swapSlice16(unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(f.I16))), len(f.I16)))
	case f.U32 != nil:
		swapSlice32(f.U32)
	case f.I32 != nil:
		swapSlice32(unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(f.I32))), len(f.I32)))
	case f.F32 != nil:
		swapSlice32(unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(f.F32))), len(f.F32)))
	case f.F64 != nil:
		s := unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(f.F64))), len(f.F64))
		for i, v := range s {
			s[i] = bits.ReverseBytes64(v)
		}
	}
}

// swapSlice16 reverses the bytes of each value of s, eight bytes at a time.
func swapSlice16(s []uint16) {
	swap16(bytesOf(s))
}

func swapSlice32(s []uint32) {
	for i, v := range s {
		s[i] = bits.ReverseBytes32(v)
	}
}

// swap16 swaps the two bytes of every 16-bit word of b (a trailing odd byte
// stays), eight bytes at a time.
func swap16(b []byte) {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i : i+8])
		x = (x&0x00FF00FF00FF00FF)<<8 | (x>>8)&0x00FF00FF00FF00FF
		binary.LittleEndian.PutUint64(b[i:i+8], x)
	}
	for ; i+1 < len(b); i += 2 {
		b[i], b[i+1] = b[i+1], b[i]
	}
}

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
	interleaveFrom(s, slices.Clone(s[:3*planeLen]), planeLen)
}

// interleaveFrom writes the three planes of src, planeLen samples each, into
// dst as interleaved triples, in one sequential pass over dst.
func interleaveFrom[T any](dst, src []T, planeLen int) {
	interleave3(dst, src[:planeLen], src[planeLen:2*planeLen], src[2*planeLen:3*planeLen])
}

// interleave3 writes p0[i], p1[i], p2[i] to dst[3i:3i+3].
func interleave3[T any](dst, p0, p1, p2 []T) {
	p1, p2 = p1[:len(p0)], p2[:len(p0)]
	dst = dst[:3*len(p0)]
	for i := range p0 {
		o := dst[3*i : 3*i+3 : 3*i+3]
		o[0], o[1], o[2] = p0[i], p1[i], p2[i]
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
