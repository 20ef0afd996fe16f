package ljpeg

import (
	"encoding/binary"
	"errors"
	"fmt"
)

var (
	errBadCode   = errors.New("invalid Huffman code")
	errTruncated = errors.New("truncated: entropy-coded data ends early")
)

// decodeDiffs decodes len(diff) differences coded with table t. The bit reader's
// state lives in locals for the duration of the loop so that the compiler keeps
// it in registers.
func decodeDiffs(br *bitReader, t *huffTable, diff []int32) error {
	acc, bits, buf, n, pos := br.acc, br.bits, br.buf, br.n, br.pos
	for i := range diff {
		if bits < 32 {
			// Refill to at least 56 valid bits (see bitReader).
			if pos <= n {
				acc |= binary.BigEndian.Uint64(buf[pos:pos+8]) >> bits
			} else if pos*8-int(bits) > n*8 {
				// Past the end of the data: stop now rather than at the
				// end of the row, so a scan costs no more than its bytes.
				br.acc, br.bits, br.pos = acc, bits, pos
				return errTruncated
			}
			pos += int(63-bits) >> 3
			bits |= 56
		}
		e := t.fast[acc>>(64-fastBits)]
		if l := uint(e & fastLenMask); l != 0 {
			acc <<= l
			bits -= l
			diff[i] = e >> 8
			continue
		}
		v, used, err := slowDiff(t, acc, e)
		if err != nil {
			br.acc, br.bits, br.pos = acc, bits, pos
			return err
		}
		acc <<= used
		bits -= used
		diff[i] = v
	}
	br.acc, br.bits, br.pos = acc, bits, pos
	return nil
}

// decodeDiffsInterleaved decodes the differences of columns [from, to) of an
// interleaved scan, which come in pixel order: component k's difference of
// column x goes to diffs[k*w+x], decoded with tabs[k].
func decodeDiffsInterleaved(br *bitReader, tabs []*huffTable, diffs []int32, w, from, to int) error {
	acc, bits, buf, n, pos := br.acc, br.bits, br.buf, br.n, br.pos
	for x := from; x < to; x++ {
		o := x
		for _, t := range tabs {
			if bits < 32 {
				if pos <= n {
					acc |= binary.BigEndian.Uint64(buf[pos:pos+8]) >> bits
				} else if pos*8-int(bits) > n*8 {
					br.acc, br.bits, br.pos = acc, bits, pos
					return errTruncated
				}
				pos += int(63-bits) >> 3
				bits |= 56
			}
			e := t.fast[acc>>(64-fastBits)]
			if l := uint(e & fastLenMask); l != 0 {
				acc <<= l
				bits -= l
				diffs[o] = e >> 8
				o += w
				continue
			}
			v, used, err := slowDiff(t, acc, e)
			if err != nil {
				br.acc, br.bits, br.pos = acc, bits, pos
				return err
			}
			acc <<= used
			bits -= used
			diffs[o] = v
			o += w
		}
	}
	br.acc, br.bits, br.pos = acc, bits, pos
	return nil
}

// decodeDiffs3 is decodeDiffsInterleaved for the common three-component
// (colour) scan, unrolled: it is most of the time spent on a colour frame.
func decodeDiffs3(br *bitReader, tabs []*huffTable, diffs []int32, w, from, to int) error {
	acc, bits, buf, n, pos := br.acc, br.bits, br.buf, br.n, br.pos
	t0, t1, t2 := tabs[0], tabs[1], tabs[2]
	d0, d1, d2 := diffs[:to], diffs[w:w+to], diffs[2*w:2*w+to]
	for x := from; x < to; x++ {
		// Component 0.
		if bits < 32 {
			if pos <= n {
				acc |= binary.BigEndian.Uint64(buf[pos:pos+8]) >> bits
			} else if pos*8-int(bits) > n*8 {
				br.acc, br.bits, br.pos = acc, bits, pos
				return errTruncated
			}
			pos += int(63-bits) >> 3
			bits |= 56
		}
		if e := t0.fast[acc>>(64-fastBits)]; e&fastLenMask != 0 {
			l := uint(e & fastLenMask)
			acc <<= l
			bits -= l
			d0[x] = e >> 8
		} else {
			v, used, err := slowDiff(t0, acc, e)
			if err != nil {
				br.acc, br.bits, br.pos = acc, bits, pos
				return err
			}
			acc <<= used
			bits -= used
			d0[x] = v
		}
		// Component 1.
		if bits < 32 {
			if pos <= n {
				acc |= binary.BigEndian.Uint64(buf[pos:pos+8]) >> bits
			} else if pos*8-int(bits) > n*8 {
				br.acc, br.bits, br.pos = acc, bits, pos
				return errTruncated
			}
			pos += int(63-bits) >> 3
			bits |= 56
		}
		if e := t1.fast[acc>>(64-fastBits)]; e&fastLenMask != 0 {
			l := uint(e & fastLenMask)
			acc <<= l
			bits -= l
			d1[x] = e >> 8
		} else {
			v, used, err := slowDiff(t1, acc, e)
			if err != nil {
				br.acc, br.bits, br.pos = acc, bits, pos
				return err
			}
			acc <<= used
			bits -= used
			d1[x] = v
		}
		// Component 2.
		if bits < 32 {
			if pos <= n {
				acc |= binary.BigEndian.Uint64(buf[pos:pos+8]) >> bits
			} else if pos*8-int(bits) > n*8 {
				br.acc, br.bits, br.pos = acc, bits, pos
				return errTruncated
			}
			pos += int(63-bits) >> 3
			bits |= 56
		}
		if e := t2.fast[acc>>(64-fastBits)]; e&fastLenMask != 0 {
			l := uint(e & fastLenMask)
			acc <<= l
			bits -= l
			d2[x] = e >> 8
		} else {
			v, used, err := slowDiff(t2, acc, e)
			if err != nil {
				br.acc, br.bits, br.pos = acc, bits, pos
				return err
			}
			acc <<= used
			bits -= used
			d2[x] = v
		}
	}
	br.acc, br.bits, br.pos = acc, bits, pos
	return nil
}

// slowDiff decodes a difference that the look-ahead table could not finish:
// a code longer than fastBits, or a short code whose extra bits did not fit.
// acc holds at least 32 valid bits; it returns the value and the bits used.
func slowDiff(t *huffTable, acc uint64, e int32) (int32, uint, error) {
	var l uint
	var s int
	if e&fastShortCode != 0 {
		l = uint(e>>8) & 31
		s = int(e >> 16)
	} else {
		code := int32(acc >> 48)
		for l = fastBits + 1; l <= 16; l++ {
			if code>>(16-l) <= t.maxcode[l] {
				break
			}
		}
		if l > 16 {
			return 0, 0, errBadCode
		}
		c := code >> (16 - l)
		idx := t.valptr[l] + c - t.mincode[l]
		if c < t.mincode[l] || idx < 0 || int(idx) >= t.nvals {
			return 0, 0, errBadCode
		}
		s = int(t.vals[idx])
	}
	if s > 16 {
		return 0, 0, fmt.Errorf("difference category %d", s)
	}
	extra := uint(s)
	if s == 16 {
		extra = 0
	}
	v := int32((acc << l) >> (64 - extra))
	if extra == 0 {
		v = 0
	}
	return extend(v, s), l + extra, nil
}
