package ljpeg

import "fmt"

// fastBits is how many bits of look-ahead the Huffman lookup table covers. With 11
// bits most code words of a lossless table and their extra bits are decoded by one
// table read (the table is 8 KiB, well inside L1 cache).
const fastBits = 11

// Entries of huffTable.fast, packed into an int32 so that the table stays small:
//
//   - a finished difference: bits 0-4 hold the bits consumed (code and extra
//     bits, 1-fastBits) and bits 8- the signed difference;
//   - a code word whose extra bits do not fit: bits 0-4 are zero, bits 8-12 hold
//     the code length and bits 16- SSSS (fastShortCode is set);
//   - zero: the code is longer than fastBits.
//
// The hot loop thus tests one field to take the common case.
const (
	fastLenMask   = 0x1f
	fastShortCode = 0x20
)

// huffTable is one DC Huffman table (class 0) of a lossless scan, built from DHT.
type huffTable struct {
	fast    [1 << fastBits]int32
	maxcode [18]int32 // largest code of each length, -1 when none; [17] is a sentinel
	valptr  [17]int32 // index into vals of the first code of each length
	mincode [17]int32
	vals    [256]uint8
	nvals   int
}

// build fills the table from the 16 code-length counts and the symbols of a DHT
// segment. It rejects tables whose canonical codes do not fit their lengths,
// as libjpeg does.
func (t *huffTable) build(counts *[16]uint8, symbols []uint8) error {
	t.nvals = copy(t.vals[:], symbols)
	for i := range t.fast {
		t.fast[i] = 0
	}
	code := int32(0)
	k := int32(0)
	for l := 1; l <= 16; l++ {
		n := int32(counts[l-1])
		t.valptr[l] = k
		t.mincode[l] = code
		if n == 0 {
			t.maxcode[l] = -1
		} else {
			t.maxcode[l] = code + n - 1
			if t.maxcode[l] >= 1<<l {
				return fmt.Errorf("huffman table codes overflow %d bits", l)
			}
		}
		for i := int32(0); i < n; i++ {
			if l <= fastBits {
				t.fillFast(code, l, t.vals[k])
			}
			code++
			k++
		}
		code <<= 1
	}
	t.maxcode[17] = 1 << 30 // never reached: lengths stop at 16
	return nil
}

// fillFast writes the look-ahead entries of one code word of length l with symbol
// ssss. When the extra bits fit in the look-ahead too, every combination of them
// gets its own entry holding the finished difference.
func (t *huffTable) fillFast(code int32, l int, ssss uint8) {
	shift := fastBits - l
	base := int(code) << shift
	s := int(ssss)
	extra := s
	if s > 16 {
		// Not a valid lossless category: the entries send the decoder to the
		// path that reports it.
		extra = fastBits
	}
	if s == 16 {
		extra = 0 // SSSS 16 means the difference 32768, with no extra bits
	}
	if l+extra > fastBits {
		e := fastShortCode | int32(l)<<8 | int32(s)<<16
		for i := 0; i < 1<<shift; i++ {
			t.fast[base+i] = e
		}
		return
	}
	rest := shift - extra
	for v := 0; v < 1<<extra; v++ {
		d := extend(int32(v), s)
		e := int32(l+extra) | d<<8
		start := base + v<<rest
		for i := 0; i < 1<<rest; i++ {
			t.fast[start+i] = e
		}
	}
}

// extend turns the s extra bits v of category s into the signed difference (T.81
// F.2.2.1, and H.1.2.2 for s = 16).
func extend(v int32, s int) int32 {
	switch {
	case s == 0:
		return 0
	case s == 16:
		return 32768
	case v < 1<<(s-1):
		return v - (1 << s) + 1
	}
	return v
}
