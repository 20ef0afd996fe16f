package dataset

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"

	dicomtag "github.com/suyashkumar/dicom/pkg/tag"
)

// Element is one data element. Value holds the raw value bytes in the data set's
// byte order; sequences hold Items instead, and encapsulated values inside a
// sequence (an Icon Image Sequence's compressed pixel data) their Fragments'
// byte ranges in File.Source instead (the image's own pixel data is File.Pixel).
type Element struct {
	Tag       Tag
	VR        string
	Value     []byte
	Items     []*DataSet
	Fragments []Fragment
}

// DataSet is an ordered list of elements (a file's data set or a sequence item).
type DataSet struct {
	bigEndian bool
	elements  []*Element
	parent    *DataSet // the data set holding this sequence item (see adoptItems)
}

// BigEndian reports whether the data set's binary values are big endian.
func (d *DataSet) BigEndian() bool { return d != nil && d.bigEndian }

// Elements returns the elements in file order.
func (d *DataSet) Elements() []*Element {
	if d == nil {
		return nil
	}
	return d.elements
}

// Get returns the element with tag t, or nil.
func (d *DataSet) Get(t Tag) *Element {
	if d == nil {
		return nil
	}
	// Elements are in ascending tag order in a conformant file; a linear scan is
	// as fast as a map for the few dozen elements a data set has, and keeps
	// duplicate or unordered elements (seen in the wild) findable.
	for _, e := range d.elements {
		if e.Tag == t {
			return e
		}
	}
	return nil
}

// Has reports whether the data set has an element with tag t.
func (d *DataSet) Has(t Tag) bool { return d.Get(t) != nil }

// String returns the whole value as text with trailing spaces and NULs (and
// leading spaces, which are insignificant for every string VR but UT/ST/LT)
// removed; "" when absent.
func (d *DataSet) String(t Tag) string {
	e := d.Get(t)
	if e == nil {
		return ""
	}
	return trimValue(string(e.Value), e.VR)
}

func trimValue(s, vr string) string {
	s = strings.TrimRight(s, " \x00")
	switch vr {
	case "UT", "ST", "LT":
		return s
	}
	return strings.TrimLeft(s, " ")
}

// Strings returns the values of a multi-valued string element, split on '\'.
func (d *DataSet) Strings(t Tag) []string {
	e := d.Get(t)
	if e == nil || len(e.Value) == 0 {
		return nil
	}
	parts := strings.Split(string(e.Value), `\`)
	for i := range parts {
		parts[i] = trimValue(parts[i], e.VR)
	}
	return parts
}

// Ints returns the values of an integer element (US, SS, UL, SL, IS) or of a
// decimal string rounded towards zero.
func (d *DataSet) Ints(t Tag) []int {
	e := d.Get(t)
	if e == nil {
		return nil
	}
	var order binary.ByteOrder = binary.LittleEndian
	if d.bigEndian {
		order = binary.BigEndian
	}
	var out []int
	switch e.VR {
	case "US", "OW":
		for i := 0; i+2 <= len(e.Value); i += 2 {
			out = append(out, int(order.Uint16(e.Value[i:])))
		}
	case "SS":
		for i := 0; i+2 <= len(e.Value); i += 2 {
			out = append(out, int(int16(order.Uint16(e.Value[i:]))))
		}
	case "AT":
		// A tag: group then element, each in the data set's byte order.
		for i := 0; i+4 <= len(e.Value); i += 4 {
			out = append(out, int(order.Uint16(e.Value[i:]))<<16|int(order.Uint16(e.Value[i+2:])))
		}
	case "UL", "OL":
		for i := 0; i+4 <= len(e.Value); i += 4 {
			out = append(out, int(order.Uint32(e.Value[i:])))
		}
	case "SL":
		for i := 0; i+4 <= len(e.Value); i += 4 {
			out = append(out, int(int32(order.Uint32(e.Value[i:]))))
		}
	default:
		for _, s := range d.Strings(t) {
			if s == "" {
				continue
			}
			if v, err := strconv.Atoi(s); err == nil {
				out = append(out, v)
			} else if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && math.Abs(f) < 1<<53 {
				out = append(out, int(f))
			} else {
				return nil
			}
		}
	}
	return out
}

// Int returns the first value of Ints.
func (d *DataSet) Int(t Tag) (int, bool) {
	v := d.Ints(t)
	if len(v) == 0 {
		return 0, false
	}
	return v[0], true
}

// Floats returns the values of a numeric element: DS, IS, FL, FD, or the binary
// integer VRs.
func (d *DataSet) Floats(t Tag) []float64 {
	e := d.Get(t)
	if e == nil {
		return nil
	}
	var order binary.ByteOrder = binary.LittleEndian
	if d.bigEndian {
		order = binary.BigEndian
	}
	var out []float64
	switch e.VR {
	case "FL", "OF":
		for i := 0; i+4 <= len(e.Value); i += 4 {
			out = append(out, float64(math.Float32frombits(order.Uint32(e.Value[i:]))))
		}
	case "FD", "OD":
		for i := 0; i+8 <= len(e.Value); i += 8 {
			out = append(out, math.Float64frombits(order.Uint64(e.Value[i:])))
		}
	case "US", "SS", "UL", "SL", "OW":
		for _, v := range d.Ints(t) {
			out = append(out, float64(v))
		}
	default:
		for _, s := range d.Strings(t) {
			if s == "" {
				continue
			}
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return nil
			}
			out = append(out, f)
		}
	}
	return out
}

// Float returns the first value of Floats.
func (d *DataSet) Float(t Tag) (float64, bool) {
	v := d.Floats(t)
	if len(v) == 0 {
		return 0, false
	}
	return v[0], true
}

// Uint16s returns the value as 16-bit words in the data set's byte order (LUT
// data, whatever VR it was written with).
func (d *DataSet) Uint16s(t Tag) []uint16 {
	e := d.Get(t)
	if e == nil {
		return nil
	}
	out := make([]uint16, len(e.Value)/2)
	for i := range out {
		if d.bigEndian {
			out[i] = binary.BigEndian.Uint16(e.Value[2*i:])
		} else {
			out[i] = binary.LittleEndian.Uint16(e.Value[2*i:])
		}
	}
	return out
}

// Items returns the items of a sequence element, or nil.
func (d *DataSet) Items(t Tag) []*DataSet {
	e := d.Get(t)
	if e == nil {
		return nil
	}
	return e.Items
}

// dictVR returns the VR the data dictionary gives for t, for implicit VR data
// sets. Private and unknown tags are UN; tags with several VRs take the first
// (US for "US or SS", OW for "OB or OW"), which is what readers expect.
func dictVR(t Tag) string {
	switch {
	case t == PixelData:
		return "OW"
	case t.Group()%2 == 1:
		if t.Element() == 0 {
			return "UL"
		}
		if t.Element() < 0x0100 && t.Element() >= 0x0010 {
			return "LO" // private creator
		}
		return "UN"
	case t.Element() == 0:
		return "UL" // group length
	case t.Group()&0xFF00 == 0x6000 && t.Element() == 0x3000:
		return "OW" // overlay data in any overlay group
	case t.Group()&0xFF00 == 0x5000:
		return "UN" // retired curve groups
	}
	info, err := dicomtag.Find(dicomtag.Tag{Group: t.Group(), Element: t.Element()})
	if err != nil || len(info.VRs) == 0 {
		return "UN"
	}
	return info.VRs[0]
}
