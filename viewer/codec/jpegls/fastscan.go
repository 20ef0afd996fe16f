package jpegls

/*
#include "fastscan.h"
*/
import "C"

import (
	"bytes"
	"encoding/binary"
	"unsafe"
)

// A DICOM JPEG-LS frame is nearly always one component in one scan: a CT,
// MR or CR slice. For those, fastscan.c decodes the scan (T.87 with
// CharLS's choices, specialised for that layout: a 512x512 near-lossless CT
// opens and decodes in 3.0 ms against 4.0 ms through CharLS, README
// "Decoding"), and CharLS decodes everything else. The
// fast decoder declines any stream it is not sure CharLS decodes the same way,
// and then CharLS decodes it: FuzzFastScan holds the two to the same samples.

// plainScan is the one scan of a stream fastscan.c can take, with its coding
// parameters resolved as CharLS resolves them (T.87 C.2.4.1.1).
type plainScan struct {
	data                            []byte // the entropy-coded data
	maxval, near, t1, t2, t3, reset int
}

// findPlainScan returns src's scan when src holds one component of h's size
// in one scan with nothing fastscan.c does not implement: no restart
// interval, no mapping table, no point transform, MAXVAL 2^P-1, thresholds
// and RESET that CharLS accepts. ok is false for anything else, and the
// caller decodes with CharLS; false is always safe.
func findPlainScan(src []byte, h Header) (s plainScan, ok bool) {
	if h.Components != 1 || h.Precision < 2 || h.Precision > 16 || h.Width < 1 || h.Height < 1 {
		return s, false
	}
	b := src
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return s, false
	}
	var sof, lse bool
	var id byte   // the component's identifier in the frame header
	var pc [5]int // MAXVAL, T1, T2, T3, RESET as the stream gives them; 0 is default
	pos := 2
	for {
		for pos+1 < len(b) && b[pos] == 0xFF && b[pos+1] == 0xFF {
			pos++
		}
		if pos+4 > len(b) || b[pos] != 0xFF {
			return s, false
		}
		m := b[pos+1]
		n := int(binary.BigEndian.Uint16(b[pos+2:]))
		end := pos + 2 + n
		if n < 2 || end > len(b) {
			return s, false
		}
		seg := b[pos+4 : end]
		switch {
		case m == 0xF7: // SOF55: P Y X Nf, one component not subsampled
			if sof || len(seg) != 9 || seg[5] != 1 || seg[7] != 0x11 ||
				int(seg[0]) != h.Precision || int(binary.BigEndian.Uint16(seg[1:])) != h.Height ||
				int(binary.BigEndian.Uint16(seg[3:])) != h.Width {
				return s, false
			}
			sof, id = true, seg[6]
		case m == 0xF8: // LSE: only preset coding parameters, once
			if lse || len(seg) != 11 || seg[0] != 1 {
				return s, false
			}
			lse = true
			for i := range pc {
				pc[i] = int(binary.BigEndian.Uint16(seg[1+2*i:]))
			}
		case m >= 0xE0 && m <= 0xEF, m == 0xFE: // APPn, COM
		case m == 0xDA: // SOS: Ns=1, Tm=0, ILV=0, point transform 0
			if !sof || len(seg) != 6 || seg[0] != 1 || seg[1] != id || seg[2] != 0 || seg[4] != 0 || seg[5] != 0 {
				return s, false
			}
			s.near = int(seg[3])
			// The data run up to the first marker; it must be EOI.
			i := end
			for {
				j := bytes.IndexByte(b[i:], 0xFF)
				if j < 0 || i+j+1 >= len(b) {
					return s, false
				}
				if i += j; b[i+1] >= 0x80 {
					break
				}
				i++
			}
			if b[i+1] != 0xD9 {
				return s, false
			}
			s.data = b[end:i]
			return s, s.resolve(h.Precision, pc)
		default: // DRI, a second frame, DNL, a stray RSTm or SOI
			return s, false
		}
		pos = end
	}
}

// resolve fills in the coding parameters from those the stream gives (zero
// meaning the default), and reports whether CharLS accepts them and decodes
// them the standard's way (CharLS's clamp assumes MAXVAL 2^P-1, its run
// contexts keep RESET in a byte).
func (s *plainScan) resolve(precision int, pc [5]int) bool {
	top := 1<<precision - 1
	s.maxval = pc[0]
	if s.maxval == 0 {
		s.maxval = top
	}
	if s.maxval != top || s.near > 255 || 2*s.near > s.maxval {
		return false
	}
	t1, t2, t3 := defaultThresholds(s.maxval, s.near)
	s.t1, s.t2, s.t3, s.reset = pc[1], pc[2], pc[3], pc[4]
	if s.t1 == 0 {
		s.t1 = t1
	} else if s.t1 < s.near+1 || s.t1 > s.maxval {
		return false
	}
	if s.t2 == 0 {
		s.t2 = t2
	} else if s.t2 < s.t1 || s.t2 > s.maxval {
		return false
	}
	if s.t3 == 0 {
		s.t3 = t3
	} else if s.t3 < s.t2 || s.t3 > s.maxval {
		return false
	}
	if s.reset == 0 {
		s.reset = 64
	}
	// The defaults are computed with T.87's clamps, which may leave T2
	// below an explicit T1 (or T3 below T2): CharLS decodes those as
	// given; fastscan.c declines them.
	return s.reset >= 3 && s.reset <= 255 && s.t1 <= s.t2 && s.t2 <= s.t3
}

// defaultThresholds are T.87 C.2.4.1.1's default T1, T2, T3.
func defaultThresholds(maxval, near int) (t1, t2, t3 int) {
	clamp := func(i, j int) int {
		if i > maxval || i < j {
			return j
		}
		return i
	}
	if maxval >= 128 {
		f := (min(maxval, 4095) + 128) / 256
		t1 = clamp(f*(3-2)+2+3*near, near+1)
		t2 = clamp(f*(7-3)+3+5*near, t1)
		t3 = clamp(f*(21-4)+4+7*near, t2)
		return
	}
	f := 256 / (maxval + 1)
	t1 = clamp(max(2, 3/f+3*near), near+1)
	t2 = clamp(max(3, 7/f+5*near), t1)
	t3 = clamp(max(4, 21/f+7*near), t2)
	return
}

// fastScans says whether one-component scans go to fastscan.c first; tests
// turn it off to have CharLS's own answer.
var fastScans = true

// decodeFastInto decodes src, which d has open, into out with fastscan.c
// when src is a one-component stream without colour transform that it takes,
// and reports whether it did; on false the caller decodes with CharLS.
func decodeFastInto[T uint8 | uint16](d *decoder, src []byte, out []T) bool {
	if !fastScans || d.h.Components != 1 || d.xform != 0 {
		return false
	}
	s, ok := findPlainScan(src, d.h)
	return ok && decodeFast(s, d.h, out)
}

// decodeFast decodes s into out, which holds exactly width*height samples,
// and reports whether it did; on false out holds anything.
func decodeFast[T uint8 | uint16](s plainScan, h Header, out []T) bool {
	if len(out) != h.Width*h.Height || len(s.data) == 0 {
		return false
	}
	wide := C.int(0)
	if unsafe.Sizeof(out[0]) == 2 {
		wide = 1
	}
	// Both slices are passed for the call only; cgo pins them.
	rc := C.tr_jls_decode((*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(s.data))), C.size_t(len(s.data)),
		C.int(h.Width), C.int(h.Height), C.int(s.maxval), C.int(s.near),
		C.int(s.t1), C.int(s.t2), C.int(s.t3), C.int(s.reset),
		unsafe.Pointer(unsafe.SliceData(out)), wide)
	return rc == C.TR_JLS_OK
}
