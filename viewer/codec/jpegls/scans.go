package jpegls

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"sync"
	"unsafe"
)

// A stream coded without interleaving holds one scan per component, and each
// scan is coded on its own (T.87 A.2: the context statistics start afresh with
// every scan), so its components can be decoded at the same time: each scan is
// made into a single-component stream of its own (the frame header narrowed to
// that component, the other marker segments before the scan kept) and decoded
// by a CharLS decoder of its own, straight into its plane. CharLS decodes such
// a stream scan after scan on one thread.

// minParallelSamples is the smallest image whose scans are decoded at the same
// time: below it, starting the goroutines and decoders costs more than the
// decode itself.
const minParallelSamples = 64 << 10

// scanStreams returns one single-component stream per scan of src, a stream
// coded without interleaving, in the order of the frame header's components
// (the order CharLS lays the planes out in), or nil when src is laid out in
// any other way: a scan for several components or out of that order,
// subsampled components, a marker this splitter does not know. The caller
// then decodes src as a whole, so nil is always safe.
func scanStreams(src []byte) [][]byte {
	b := src
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return nil
	}
	// items are the marker segments from SOI to the last scan, in order; the
	// frame header (sofAt) is rewritten for each component.
	var items [][]byte
	sofAt := -1
	var comps [][]byte // the frame header's 3-byte component specifications
	type scan struct {
		items int    // how many items precede the scan
		sos   []byte // its header
		data  []byte // its coded data, up to the next marker
	}
	var scans []scan
	pos := 2
	for {
		// Markers may be preceded by any number of 0xFF fill bytes.
		for pos+1 < len(b) && b[pos] == 0xFF && b[pos+1] == 0xFF {
			pos++
		}
		if pos+1 >= len(b) || b[pos] != 0xFF {
			return nil
		}
		m := b[pos+1]
		if m == 0xD9 {
			break
		}
		switch {
		case m == 0xF7, m == 0xF8, m == 0xDA, m == 0xDD, m >= 0xE0 && m <= 0xEF, m == 0xFE:
		default:
			// Another frame type, DNL, a stray RSTm or SOI: not for the splitter.
			return nil
		}
		if pos+4 > len(b) {
			return nil
		}
		n := int(binary.BigEndian.Uint16(b[pos+2:]))
		end := pos + 2 + n
		if n < 2 || end > len(b) {
			return nil
		}
		seg := b[pos:end]
		switch m {
		case 0xF7: // SOF55
			if sofAt >= 0 || n < 8 || (n-8)%3 != 0 || int(seg[9]) != (n-8)/3 {
				return nil
			}
			sofAt = len(items)
			for c := 0; c < int(seg[9]); c++ {
				spec := seg[10+3*c : 13+3*c]
				if spec[1] != 0x11 { // subsampled
					return nil
				}
				comps = append(comps, spec)
			}
			items = append(items, seg)
		case 0xDA: // SOS
			// One component, interleave mode 0: Ls Ns Cs Tm NEAR ILV PT.
			if sofAt < 0 || n != 8 || seg[4] != 1 || seg[8] != 0 || len(scans) >= len(comps) || seg[5] != comps[len(scans)][0] {
				return nil
			}
			// The coded data run up to the next marker other than RSTm
			// (within coded data, 0xFF is followed by a byte below 0x80).
			i := end
			for {
				j := bytes.IndexByte(b[i:], 0xFF)
				if j < 0 || i+j+1 >= len(b) {
					return nil
				}
				i += j
				if c := b[i+1]; c >= 0x80 && (c < 0xD0 || c > 0xD7) {
					break
				}
				i++
			}
			scans = append(scans, scan{items: len(items), sos: seg, data: b[end:i]})
			end = i
		default:
			items = append(items, seg)
		}
		pos = end
	}
	if len(comps) < 2 || len(scans) != len(comps) {
		return nil
	}
	out := make([][]byte, len(scans))
	for k, s := range scans {
		size := 2 + len(s.sos) + len(s.data) + 2
		for _, it := range items[:s.items] {
			size += len(it)
		}
		st := make([]byte, 0, size)
		st = append(st, 0xFF, 0xD8)
		for i, it := range items[:s.items] {
			if i == sofAt {
				// FF F7, Lf = 11, P, Y, X, Nf = 1, this component.
				st = append(st, 0xFF, 0xF7, 0, 11)
				st = append(st, it[4:9]...)
				st = append(st, 1)
				st = append(st, comps[k]...)
				continue
			}
			st = append(st, it...)
		}
		st = append(st, s.sos...)
		st = append(st, s.data...)
		out[k] = append(st, 0xFF, 0xD9)
	}
	return out
}

// decodeScans decodes the single-component streams of scanStreams into
// consecutive planes of out, all at the same time, and reports
// whether every one decoded as h says its plane must be. On false, out holds
// anything and the caller decodes the whole stream.
func decodeScans[T uint8 | uint16](streams [][]byte, h Header, out []T) bool {
	plane := h.Width * h.Height
	if len(streams)*plane != len(out) {
		return false
	}
	ok := make([]bool, len(streams))
	var wg sync.WaitGroup
	last := len(streams) - 1
	for k, st := range streams[:last] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok[k] = decodePlane(st, h, out[k*plane:(k+1)*plane])
		}()
	}
	ok[last] = decodePlane(streams[last], h, out[last*plane:])
	wg.Wait()
	for _, v := range ok {
		if !v {
			return false
		}
	}
	return true
}

// decodePlane decodes one single-component stream into dst, when its header
// agrees with the whole stream's.
func decodePlane[T uint8 | uint16](src []byte, h Header, dst []T) bool {
	d, err := open(src)
	if err != nil {
		return false
	}
	defer d.close()
	p := d.h
	if p.Width != h.Width || p.Height != h.Height || p.Components != 1 || p.Precision != h.Precision || d.xform != 0 {
		return false
	}
	if decodeFastInto(d, src, dst) {
		return true
	}
	return d.decode(unsafe.Pointer(unsafe.SliceData(dst)), len(dst)*int(unsafe.Sizeof(T(0)))) == nil
}

// parallelScans reports whether an image of this many samples, coded
// without interleaving, is worth decoding scan by scan on several threads.
func parallelScans(samples int) bool {
	return samples >= minParallelSamples && runtime.GOMAXPROCS(0) > 1
}
