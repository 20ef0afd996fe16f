package viewer

import "golang.org/x/sys/cpu"

// hasSSSE3 selects interleave3SSSE3 (PSHUFB) for planar 8-bit colour.
var hasSSSE3 = cpu.X86.HasSSSE3

// interleave3SSSE3 interleaves blocks groups of 16 pixels from three planes
// (16 bytes each) into dst (48 bytes each). Implemented in interleave_amd64.s.
//
//go:noescape
func interleave3SSSE3(dst, p0, p1, p2 *byte, blocks int)

// interleaveBytes is interleaveFrom for bytes: 16 pixels at a time with SSSE3,
// the rest one by one.
func interleaveBytes(dst, src []byte, planeLen int) {
	dst, src = dst[:3*planeLen], src[:3*planeLen]
	done := 0
	if blocks := planeLen / 16; hasSSSE3 && blocks > 0 {
		interleave3SSSE3(&dst[0], &src[0], &src[planeLen], &src[2*planeLen], blocks)
		done = 16 * blocks
	}
	interleave3(dst[3*done:], src[done:planeLen], src[planeLen+done:2*planeLen], src[2*planeLen+done:3*planeLen])
}
