package jpegls

/*
#include <stdlib.h>
#include <charls/charls.h>

// tr_jls_encode encodes one component with CharLS into dst; it returns the
// bytes written, or 0 when CharLS refuses.
static size_t tr_jls_encode(const void *src, size_t srclen, int w, int h, int bits, int near,
                            int maxval, int t1, int t2, int t3, int reset, void *dst, size_t dstlen) {
	charls_jpegls_encoder *e = charls_jpegls_encoder_create();
	if (!e)
		return 0;
	charls_frame_info fi = {(uint32_t)w, (uint32_t)h, bits, 1};
	charls_jpegls_pc_parameters pc = {maxval, t1, t2, t3, reset};
	size_t n = 0;
	if (charls_jpegls_encoder_set_frame_info(e, &fi) == 0 &&
	    charls_jpegls_encoder_set_near_lossless(e, near) == 0 &&
	    charls_jpegls_encoder_set_preset_coding_parameters(e, &pc) == 0 &&
	    charls_jpegls_encoder_set_destination_buffer(e, dst, dstlen) == 0 &&
	    charls_jpegls_encoder_encode_from_buffer(e, src, srclen, 0) == 0 &&
	    charls_jpegls_encoder_get_bytes_written(e, &n) != 0)
		n = 0;
	charls_jpegls_encoder_destroy(e);
	return n;
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// encodeParams are what encodeOne hands CharLS's encoder; zero thresholds,
// MAXVAL and RESET are the defaults.
type encodeParams struct {
	width, height, bits, near int
	maxval, t1, t2, t3, reset int
}

// encodeOne encodes one component of samples (uint8 up to 8 bits, else
// uint16) with CharLS. The tests use it to make streams of every coding
// parameter the fast scan decoder must agree with CharLS on; cgo cannot be
// used in test files, so it lives here.
func encodeOne[T uint8 | uint16](samples []T, p encodeParams) ([]byte, error) {
	if len(samples) != p.width*p.height || len(samples) == 0 {
		return nil, fmt.Errorf("jpegls: encode: %d samples for %dx%d", len(samples), p.width, p.height)
	}
	size := len(samples) * int(unsafe.Sizeof(samples[0]))
	dst := make([]byte, 2*size+1024)
	n := C.tr_jls_encode(unsafe.Pointer(unsafe.SliceData(samples)), C.size_t(size),
		C.int(p.width), C.int(p.height), C.int(p.bits), C.int(p.near),
		C.int(p.maxval), C.int(p.t1), C.int(p.t2), C.int(p.t3), C.int(p.reset),
		unsafe.Pointer(unsafe.SliceData(dst)), C.size_t(len(dst)))
	if n == 0 {
		return nil, fmt.Errorf("jpegls: encode: CharLS refused %+v", p)
	}
	return dst[:n], nil
}

// decodeFastExact is decodeFast with the scan's data and the samples in C
// memory of their exact sizes, which the tests use: under go test -asan
// (make test runs this package so) a read past the data or a write past the
// image is caught, where Go memory around them would hide it.
func decodeFastExact[T uint8 | uint16](s plainScan, h Header, out []T) bool {
	n := len(s.data)
	in := C.malloc(C.size_t(max(n, 1)))
	defer C.free(in)
	copy(unsafe.Slice((*byte)(in), n), s.data)
	s.data = unsafe.Slice((*byte)(in), n)
	size := len(out) * int(unsafe.Sizeof(T(0)))
	buf := C.malloc(C.size_t(max(size, 1)))
	defer C.free(buf)
	img := unsafe.Slice((*T)(buf), len(out))
	ok := decodeFast(s, h, img)
	copy(out, img)
	return ok
}
