package ljpeg

import "bytes"

// padding is how many zero bytes follow the entropy-coded data in bitReader.buf, so
// that a refill can always load 8 bytes at once.
const padding = 8

// bitReader holds the state for reading the entropy-coded segment of one
// restart interval after its byte stuffing has been removed (unstuff), so that
// the hot loop never looks for 0xFF00. The decoding loops (diff.go) keep the
// fields in locals and refill acc themselves, 8 bytes at a time, to at least
// 56 valid bits; past the end of the data they read zero bits, and the scan
// decoder reports the overrun as a truncated stream.
type bitReader struct {
	buf  []byte // data, then padding zero bytes
	n    int    // length of the data proper
	pos  int    // next byte of buf to load into acc
	acc  uint64 // the next bits, most significant first
	bits uint   // how many of acc's top bits are valid
}

func (br *bitReader) reset(buf []byte, n int) {
	br.buf, br.n, br.pos, br.acc, br.bits = buf, n, 0, 0, 0
}

// overrun says whether more bits were consumed than the data holds.
func (br *bitReader) overrun() bool {
	return br.pos*8-int(br.bits) > br.n*8
}

// unstuff copies the entropy-coded data that starts at src[pos] into dst without
// its stuffed zero bytes (0xFF00 -> 0xFF) and fill bytes, up to the next marker.
// It returns the data (with padding zero bytes after it, not counted in n) and
// the offset of the marker's 0xFF in src, or len(src) when the data ends first.
func unstuff(dst, src []byte, pos int) (buf []byte, n int, next int) {
	// The data cannot be longer than what is left of src, so one allocation
	// of that size serves every restart interval of the stream.
	if need := len(src) - pos + padding; cap(dst) < need {
		dst = make([]byte, 0, need)
	}
	dst = dst[:0]
	for pos < len(src) {
		// Copy up to the next 0xFF in one go.
		i := bytes.IndexByte(src[pos:], 0xFF)
		if i < 0 {
			i = len(src)
		} else {
			i += pos
		}
		dst = append(dst, src[pos:i]...)
		pos = i
		if pos >= len(src) {
			break
		}
		// src[pos] is 0xFF.
		j := pos + 1
		for j < len(src) && src[j] == 0xFF {
			j++ // fill bytes before a marker
		}
		if j >= len(src) {
			pos = len(src)
			break
		}
		if src[j] != 0 {
			pos = j - 1 // a marker: leave pos on its (last) 0xFF
			break
		}
		dst = append(dst, 0xFF)
		pos = j + 1
	}
	n = len(dst)
	var zero [padding]byte
	dst = append(dst, zero[:]...)
	return dst, n, pos
}
