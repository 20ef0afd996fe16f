package viewer

import (
	"sync"
	"unsafe"
)

// framePool keeps the sample memory of frames their users handed back with
// Recycle, so that decoding frame after frame (cine, a benchmark, a series
// read through once) does not allocate, zero and fault in a new frame each
// time: for a 640x480 RGB frame that, and the garbage collections the
// allocation rate brings, cost more than the decode itself. Like scratch it
// survives garbage collections and keeps at most framePoolKept blocks.
var framePool struct {
	sync.Mutex
	free [][]byte
}

const (
	// minPooledFrame is the smallest block kept: the Go allocator starts
	// blocks this large on a page boundary, so a block first allocated as
	// bytes is aligned for any sample type it is later viewed as.
	minPooledFrame = 64 << 10
	framePoolKept  = 4
)

// Recycle hands the frame's sample memory back for a later frame of any image
// to reuse. The caller must be done with f and with every slice taken from it
// (a Display, a texture upload still reading it); f is left without samples.
func (f *Frame) Recycle() {
	if f == nil {
		return
	}
	b := f.block()
	f.U8, f.I8, f.U16, f.I16, f.U32, f.I32, f.F32, f.F64 = nil, nil, nil, nil, nil, nil, nil, nil
	recycleBlock(b)
}

// recycleBlock keeps b, from Go's heap and no longer used, for a later frame
// when it is of a size the pool keeps.
func recycleBlock(b []byte) {
	if cap(b) < minPooledFrame || cap(b) > maxScratch {
		return
	}
	framePool.Lock()
	defer framePool.Unlock()
	if len(framePool.free) < framePoolKept {
		framePool.free = append(framePool.free, b)
		return
	}
	small := 0
	for i, q := range framePool.free {
		if cap(q) < cap(framePool.free[small]) {
			small = i
		}
	}
	if cap(b) > cap(framePool.free[small]) {
		framePool.free[small] = b
	}
}

// pooledFrameBytes returns a recycled block of at least n bytes, the first n
// zeroed (as make would give them) when zero is set, or nil when none fits. The smallest block that fits is
// taken, so that a small frame does not hold on to a large one.
func pooledFrameBytes(n int, zero bool) []byte {
	if n < minPooledFrame {
		return nil
	}
	framePool.Lock()
	best := -1
	for i, q := range framePool.free {
		if cap(q) >= n && (best < 0 || cap(q) < cap(framePool.free[best])) {
			best = i
		}
	}
	if best < 0 {
		framePool.Unlock()
		return nil
	}
	b := framePool.free[best]
	last := len(framePool.free) - 1
	framePool.free[best], framePool.free[last] = framePool.free[last], nil
	framePool.free = framePool.free[:last]
	framePool.Unlock()
	if zero {
		clear(b[:n])
	}
	return b
}

// pooledSlice returns a recycled slice of n values of T (zeroed when zero is
// set), or nil.
func pooledSlice[T int8 | uint8 | uint16 | int16 | uint32 | int32 | float32 | float64](n int, zero bool) []T {
	size := int(unsafe.Sizeof(T(0)))
	b := pooledFrameBytes(n*size, zero)
	if b == nil {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), cap(b)/size)[:n]
}

// block returns all the memory behind the frame's samples, to its capacity,
// as bytes.
func (f *Frame) block() []byte {
	switch {
	case f.U8 != nil:
		return f.U8[:cap(f.U8)]
	case f.I8 != nil:
		return bytesOf(f.I8[:cap(f.I8)])
	case f.U16 != nil:
		return bytesOf(f.U16[:cap(f.U16)])
	case f.I16 != nil:
		return bytesOf(f.I16[:cap(f.I16)])
	case f.U32 != nil:
		return bytesOf(f.U32[:cap(f.U32)])
	case f.I32 != nil:
		return bytesOf(f.I32[:cap(f.I32)])
	case f.F32 != nil:
		return bytesOf(f.F32[:cap(f.F32)])
	case f.F64 != nil:
		return bytesOf(f.F64[:cap(f.F64)])
	}
	return nil
}

// makeSamples is make([]T, n), from recycled memory when some fits; that is
// left as it was unless zero is set.
func makeSamples[T int8 | uint8 | uint16 | int16 | uint32 | int32 | float32 | float64](n int, zero bool) []T {
	if s := pooledSlice[T](n, zero); s != nil {
		return s
	}
	return make([]T, n)
}
