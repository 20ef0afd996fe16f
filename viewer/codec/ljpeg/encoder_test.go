package ljpeg

// A minimal JPEG lossless encoder, for tests only: it writes the stream
// features that the DCMTK encoder does not (component-per-scan images,
// restart intervals, several Huffman tables in one DHT segment, codes longer
// than the decoder's look-ahead) so the decoder can be checked on them.

type encParams struct {
	w, h, nc    int
	precision   int
	psv, pt     int
	restart     int  // restart interval in MCUs; 0: none
	interleaved bool // one scan for all components, else one scan each
	// pred6Int16 codes predictor 6 with the signed 16-bit arithmetic of the
	// encoder whose predictor 6 overflowed (see pred6Overflows).
	pred6Int16 bool
}

// Two Huffman tables: tableA has codes of every length 2-16 (so the decoder's
// slow path is used for the long ones), tableB gives every category 5 bits.
var (
	tableACounts = [16]uint8{0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}
	tableBCounts = [16]uint8{0, 0, 0, 0, 17}
	categories   = []uint8{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
)

type code struct {
	bits uint32
	len  int
}

func canonicalCodes(counts [16]uint8, symbols []uint8) map[uint8]code {
	m := map[uint8]code{}
	c, k := uint32(0), 0
	for l := 1; l <= 16; l++ {
		for range counts[l-1] {
			m[symbols[k]] = code{c, l}
			c++
			k++
		}
		c <<= 1
	}
	return m
}

type bitWriter struct {
	out  []byte
	acc  uint32
	nacc int
}

func (w *bitWriter) put(bits uint32, n int) {
	for i := n - 1; i >= 0; i-- {
		w.acc = w.acc<<1 | (bits>>i)&1
		w.nacc++
		if w.nacc == 8 {
			b := byte(w.acc)
			w.out = append(w.out, b)
			if b == 0xFF {
				w.out = append(w.out, 0)
			}
			w.acc, w.nacc = 0, 0
		}
	}
}

func (w *bitWriter) flush() {
	for w.nacc != 0 {
		w.put(1, 1)
	}
}

func segment(out []byte, marker byte, body []byte) []byte {
	out = append(out, 0xFF, marker, byte((len(body)+2)>>8), byte(len(body)+2))
	return append(out, body...)
}

// predict returns the prediction of T.81 H.1.2.1 for a sample, given the
// reconstructed samples of its component, in libjpeg's modular arithmetic.
func predict(rec []uint16, w, x, y, psv int, initial int32, restartX, restartY int) int32 {
	at := func(x, y int) int32 { return int32(rec[y*w+x]) }
	switch {
	case x == restartX && y == restartY:
		return initial
	case y == restartY && x > restartX:
		return at(x-1, y)
	case x == 0:
		return at(x, y-1)
	}
	ra, rb, rc := at(x-1, y), at(x, y-1), at(x-1, y-1)
	switch psv {
	case 1:
		return ra
	case 2:
		return rb
	case 3:
		return rc
	case 4:
		return ra + rb - rc
	case 5:
		return ra + (rb-rc)>>1
	case 6:
		return rb + (ra-rc)>>1
	case psv6Int16:
		return int32(int16(rb)) + (int32(int16(ra))-int32(int16(rc)))>>1
	}
	return (ra + rb) >> 1
}

// encodeDiff writes one difference (modulo 2^16) with its Huffman code.
func encodeDiff(bw *bitWriter, codes map[uint8]code, d int32) {
	d &= 0xFFFF
	if d == 0x8000 {
		c := codes[16]
		bw.put(c.bits, c.len)
		return
	}
	if d > 0x8000 {
		d -= 0x10000
	}
	mag := d
	if mag < 0 {
		mag = -mag
	}
	s := 0
	for mag>>s != 0 {
		s++
	}
	c := codes[uint8(s)]
	bw.put(c.bits, c.len)
	if s > 0 {
		v := d
		if d < 0 {
			v = d + 1<<s - 1
		}
		bw.put(uint32(v)&(1<<s-1), s)
	}
}

// encodeLossless encodes planar samples (one slice per component, values below
// 2^precision) as a JPEG lossless stream.
func encodeLossless(p encParams, planes [][]uint16) []byte {
	out := []byte{0xFF, 0xD8}
	sof := []byte{byte(p.precision), byte(p.h >> 8), byte(p.h), byte(p.w >> 8), byte(p.w), byte(p.nc)}
	for c := range p.nc {
		sof = append(sof, byte(c+1), 0x11, 0)
	}
	out = segment(out, 0xC3, sof)
	// Both tables in one DHT segment.
	dht := []byte{0x00}
	dht = append(dht, tableACounts[:]...)
	dht = append(dht, categories...)
	dht = append(dht, 0x01)
	dht = append(dht, tableBCounts[:]...)
	dht = append(dht, categories...)
	out = segment(out, 0xC4, dht)
	if p.restart > 0 {
		out = segment(out, 0xDD, []byte{byte(p.restart >> 8), byte(p.restart)})
	}
	codes := []map[uint8]code{canonicalCodes(tableACounts, categories), canonicalCodes(tableBCounts, categories)}
	tableOf := func(c int) int { return c % 2 }

	var scans [][]int
	if p.interleaved {
		all := make([]int, p.nc)
		for c := range all {
			all[c] = c
		}
		scans = [][]int{all}
	} else {
		for c := range p.nc {
			scans = append(scans, []int{c})
		}
	}
	initial := int32(1) << (p.precision - p.pt - 1)
	for _, comps := range scans {
		sos := []byte{byte(len(comps))}
		for _, c := range comps {
			sos = append(sos, byte(c+1), byte(tableOf(c)<<4))
		}
		sos = append(sos, byte(p.psv), 0, byte(p.pt))
		out = segment(out, 0xDA, sos)
		rec := make([][]uint16, p.nc)
		for c := range rec {
			rec[c] = make([]uint16, p.w*p.h)
		}
		bw := &bitWriter{}
		restartX, restartY, mcus, rst := 0, 0, 0, 0
		for y := range p.h {
			for x := range p.w {
				if p.restart > 0 && mcus == p.restart {
					bw.flush()
					out = append(out, bw.out...)
					out = append(out, 0xFF, byte(0xD0+rst%8))
					rst++
					bw = &bitWriter{}
					restartX, restartY, mcus = x, y, 0
				}
				for _, c := range comps {
					v := planes[c][y*p.w+x] >> p.pt
					psv := p.psv
					if psv == 6 && p.pred6Int16 {
						psv = psv6Int16
					}
					pred := predict(rec[c], p.w, x, y, psv, initial, restartX, restartY)
					encodeDiff(bw, codes[tableOf(c)], int32(v)-pred)
					rec[c][y*p.w+x] = v
				}
				mcus++
			}
		}
		bw.flush()
		out = append(out, bw.out...)
	}
	return append(out, 0xFF, 0xD9)
}
