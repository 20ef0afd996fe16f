//go:build !amd64

package viewer

// interleaveBytes is interleaveFrom for bytes.
func interleaveBytes(dst, src []byte, planeLen int) {
	interleaveFrom(dst, src, planeLen)
}
