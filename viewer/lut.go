package viewer

import (
	"errors"
	"fmt"
	"math"

	"teleread/viewer/dataset"
)

// errLUT marks a LUT that cannot be read.
var errLUT = errors.New("bad lookup table")

// maxLUTEntries is the most entries a LUT Descriptor can announce (0 means 65536).
const maxLUTEntries = 1 << 16

// descriptor reads a LUT Descriptor: entries (0 meaning 65536), first mapped value
// (two's complement when the image is signed) and bits per entry.
func descriptor(d *dataset.DataSet, t dataset.Tag, signed bool) (n, first, bits int, err error) {
	w := d.Uint16s(t)
	if len(w) < 3 {
		return 0, 0, 0, fmt.Errorf("%w: descriptor %v has %d values", errLUT, t, len(w))
	}
	n, first, bits = int(w[0]), int(w[1]), int(w[2])
	if n == 0 {
		n = maxLUTEntries
	}
	if signed && first > 32767 {
		first -= 65536
	}
	return n, first, bits, nil
}

// lutEntries reads n entries of LUT data: one byte each when the value holds
// exactly n (or n+1, padded) bytes and the entries have at most 8 bits, else
// 16-bit words in the data set's byte order.
func lutEntries(d *dataset.DataSet, t dataset.Tag, n, bits int, allow8 bool) []uint16 {
	e := d.Get(t)
	if e == nil {
		return nil
	}
	if allow8 && (len(e.Value) == n || len(e.Value) == n+1) {
		out := make([]uint16, n)
		for i := range out {
			out[i] = uint16(e.Value[i])
		}
		return out
	}
	w := d.Uint16s(t)
	if len(w) > n {
		w = w[:n]
	}
	return w
}

// readLUT reads a Modality or VOI LUT Sequence item.
func readLUT(item *dataset.DataSet, signed bool) (*LUT, error) {
	n, first, bits, err := descriptor(item, dataset.LUTDescriptor, signed)
	if err != nil {
		return nil, err
	}
	data := lutEntries(item, dataset.LUTData, n, bits, bits <= 8)
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: no LUT Data", errLUT)
	}
	return &LUT{First: first, Bits: bits, Data: data}, nil
}

// readPalette reads the Red, Green and Blue Palette Color LUTs (normal or
// segmented); the Red descriptor gives entries, first value and bits for all three.
func readPalette(d *dataset.DataSet, signed bool) (*Palette, error) {
	n, first, bits, err := descriptor(d, dataset.RedPaletteColorLookupTableDescriptor, signed)
	if err != nil {
		return nil, fmt.Errorf("palette: %w", err)
	}
	chans := [3]struct{ plain, seg dataset.Tag }{
		{dataset.RedPaletteColorLookupTableData, dataset.SegmentedRedPaletteColorLookupTableData},
		{dataset.GreenPaletteColorLookupTableData, dataset.SegmentedGreenPaletteColorLookupTableData},
		{dataset.BluePaletteColorLookupTableData, dataset.SegmentedBluePaletteColorLookupTableData},
	}
	var luts [3]LUT
	for c, ch := range chans {
		var data []uint16
		switch {
		case d.Has(ch.plain):
			data = lutEntries(d, ch.plain, n, bits, true)
		case d.Has(ch.seg):
			var words []uint16
			if bits == 8 {
				for _, b := range d.Get(ch.seg).Value {
					words = append(words, uint16(b))
				}
			} else {
				words = d.Uint16s(ch.seg)
			}
			data, err = expandSegmented(words, bits == 8, n)
			if err != nil {
				return nil, fmt.Errorf("palette: %w", err)
			}
			if len(data) > n {
				data = data[:n]
			}
		}
		if len(data) == 0 {
			return nil, fmt.Errorf("palette: %w: no palette colour LUT data", errLUT)
		}
		luts[c] = LUT{First: first, Bits: bits, Data: data}
	}
	return &Palette{Red: luts[0], Green: luts[1], Blue: luts[2]}, nil
}

// expandSegmented expands Segmented Palette Color LUT Data (PS3.3 C.7.9.2):
// discrete, linear and indirect segments, linear ones rounded half to even. The
// output is capped at limit entries and indirect segments at a small depth, so a
// hostile table cannot loop or grow without bound.
func expandSegmented(data []uint16, eightBit bool, limit int) ([]uint16, error) {
	var lut []uint16
	err := expandSegments(data, eightBit, limit, -1, &lut, 0)
	return lut, err
}

func expandSegments(data []uint16, eightBit bool, limit, segments int, lut *[]uint16, depth int) error {
	if depth > 4 {
		return fmt.Errorf("%w: indirect segments nested too deep", errLUT)
	}
	off, read := 0, 0
	for off+1 < len(data) && len(*lut) < limit {
		op, length := data[off], int(data[off+1])
		off += 2
		switch op {
		case 0:
			end := min(off+length, len(data))
			*lut = append(*lut, data[off:end]...)
			off = end
		case 1:
			if len(*lut) == 0 {
				return fmt.Errorf("%w: linear segment first", errLUT)
			}
			if off >= len(data) {
				return fmt.Errorf("%w: truncated linear segment", errLUT)
			}
			y0, y1 := float64((*lut)[len(*lut)-1]), float64(data[off])
			off++
			length = min(length, limit-len(*lut))
			step := (y1 - y0) / float64(length)
			for i := 0; i < length; i++ {
				v := y1
				if i < length-1 {
					v = y0 + step + float64(i)*((y1-(y0+step))/float64(length-1))
				}
				*lut = append(*lut, uint16(math.RoundToEven(v)))
			}
		case 2:
			if len(*lut) == 0 {
				return fmt.Errorf("%w: indirect segment first", errLUT)
			}
			var at int
			if eightBit {
				if off+4 > len(data) {
					return fmt.Errorf("%w: truncated indirect segment", errLUT)
				}
				at = int(data[off+3])<<24 | int(data[off+2])<<16 | int(data[off+1])<<8 | int(data[off])
				off += 4
			} else {
				if off+2 > len(data) {
					return fmt.Errorf("%w: truncated indirect segment", errLUT)
				}
				at = int(data[off+1])<<16 | int(data[off])
				off += 2
			}
			if at < 0 || at >= len(data) {
				return fmt.Errorf("%w: indirect segment offset %d", errLUT, at)
			}
			if err := expandSegments(data[at:], eightBit, limit, length, lut, depth+1); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: segment opcode %d", errLUT, op)
		}
		read++
		if read == segments {
			return nil
		}
	}
	return nil
}
