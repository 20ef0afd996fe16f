package share

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"

	"teleread/cache/report"
	"teleread/viewer/dataset"
)

// Transfer syntaxes the writer produces or must recognise.
const (
	implicitVRLittleEndian = "1.2.840.10008.1.2"
	explicitVRLittleEndian = "1.2.840.10008.1.2.1"
	deflatedExplicitVRLE   = "1.2.840.10008.1.2.1.99"
	explicitVRBigEndian    = "1.2.840.10008.1.2.2"
)

// ErrValueTooLong is returned when a value does not fit its VR's length field.
var ErrValueTooLong = errors.New("value too long for its VR")

// elem is one element of a data set being written. Binary values are already
// in the output byte order. A sequence has VR "SQ" and items; pixel data at
// the top level is streamed from the source file (pixel set).
type elem struct {
	tag   dataset.Tag
	vr    string
	value []byte
	items [][]elem
	pixel *dataset.Pixels
	// frames, when set, replace the encapsulated pixel data's fragments: one
	// code stream per frame, each written as one fragment, with a Basic
	// Offset Table made for them.
	frames [][]byte
	// clean, when set, writes the pixel data decoded and blanked, as native
	// little endian frames (cleanpixels.go).
	clean *cleaner
}

// longVR lists the VRs with a 32-bit length in explicit VR (PS3.5 7.1.2).
var longVR = map[string]bool{
	"OB": true, "OD": true, "OF": true, "OL": true, "OV": true, "OW": true,
	"SQ": true, "SV": true, "UC": true, "UN": true, "UR": true, "UT": true, "UV": true,
}

// wordSize is the size of one binary value of a VR, for byte swapping; 0 for
// text and byte-stream VRs.
func wordSize(vr string) int {
	switch vr {
	case "US", "SS", "OW", "AT":
		return 2
	case "UL", "SL", "FL", "OL", "OF":
		return 4
	case "FD", "OD", "SV", "UV", "OV":
		return 8
	}
	return 0
}

// swapped returns b with each value of vr's word size byte-reversed (a copy).
func swapped(vr string, b []byte) []byte {
	n := wordSize(vr)
	if n == 0 || len(b)%n != 0 {
		return b
	}
	out := make([]byte, len(b))
	for i := 0; i < len(b); i += n {
		for j := 0; j < n; j++ {
			out[i+j] = b[i+n-1-j]
		}
	}
	return out
}

// sortElems orders elements by tag and drops later duplicates (seen in the
// wild; a valid data set has each tag once).
func sortElems(es []elem) []elem {
	sort.SliceStable(es, func(i, j int) bool { return es[i].tag < es[j].tag })
	out := es[:0]
	for i, e := range es {
		if i > 0 && e.tag == es[i-1].tag {
			continue
		}
		out = append(out, e)
	}
	return out
}

// encoder writes explicit VR data sets in one byte order.
type encoder struct {
	big bool
}

func (e encoder) u16(dst []byte, v uint16) []byte {
	if e.big {
		return binary.BigEndian.AppendUint16(dst, v)
	}
	return binary.LittleEndian.AppendUint16(dst, v)
}

func (e encoder) u32(dst []byte, v uint32) []byte {
	if e.big {
		return binary.BigEndian.AppendUint32(dst, v)
	}
	return binary.LittleEndian.AppendUint32(dst, v)
}

// header appends an element header with the given value length.
func (e encoder) header(dst []byte, t dataset.Tag, vr string, n uint64) ([]byte, error) {
	if len(vr) != 2 {
		return nil, fmt.Errorf("share: encode %v: bad VR %q", t, vr)
	}
	dst = e.u16(dst, t.Group())
	dst = e.u16(dst, t.Element())
	dst = append(dst, vr...)
	if longVR[vr] {
		if n >= 0xFFFFFFFF {
			return nil, fmt.Errorf("share: encode %v: %w", t, ErrValueTooLong)
		}
		dst = append(dst, 0, 0)
		return e.u32(dst, uint32(n)), nil
	}
	if n > 0xFFFF {
		return nil, fmt.Errorf("share: encode %v (VR %s, %d bytes): %w", t, vr, n, ErrValueTooLong)
	}
	return e.u16(dst, uint16(n)), nil
}

// padded returns v with a padding byte when its length is odd (PS3.5 7.1.1).
func padded(vr string, v []byte) []byte {
	if len(v)%2 == 0 {
		return v
	}
	pad := byte(' ')
	switch vr {
	case "UI", "OB", "UN", "OW", "OF", "OD", "OL", "OV":
		pad = 0
	}
	if wordSize(vr) > 0 {
		pad = 0
	}
	return append(append(make([]byte, 0, len(v)+1), v...), pad)
}

// dataSet appends elements without pixel data (items and sequences are
// written with defined lengths).
func (e encoder) dataSet(dst []byte, es []elem) ([]byte, error) {
	for _, el := range es {
		var err error
		if dst, err = e.element(dst, el); err != nil {
			return nil, err
		}
	}
	return dst, nil
}

func (e encoder) element(dst []byte, el elem) ([]byte, error) {
	if el.pixel != nil {
		return nil, fmt.Errorf("share: encode %v: pixel data inside a sequence", el.tag)
	}
	if el.vr == "SQ" {
		var body []byte
		for _, it := range el.items {
			b, err := e.dataSet(nil, it)
			if err != nil {
				return nil, err
			}
			if uint64(len(b)) >= 0xFFFFFFFF {
				return nil, fmt.Errorf("share: encode %v: %w", el.tag, ErrValueTooLong)
			}
			body = e.u16(body, 0xFFFE)
			body = e.u16(body, 0xE000)
			body = e.u32(body, uint32(len(b)))
			body = append(body, b...)
		}
		dst, err := e.header(dst, el.tag, "SQ", uint64(len(body)))
		if err != nil {
			return nil, err
		}
		return append(dst, body...), nil
	}
	v := padded(el.vr, el.value)
	dst, err := e.header(dst, el.tag, el.vr, uint64(len(v)))
	if err != nil {
		return nil, err
	}
	return append(dst, v...), nil
}

// metaGroup returns the File Meta Information (PS3.10 7.1) with its group
// length element, preceded by the preamble and "DICM". Meta is always
// explicit VR little endian.
func metaGroup(sopClass, sopInstance, ts string) ([]byte, error) {
	le := encoder{}
	body, err := le.dataSet(nil, []elem{
		{tag: 0x00020001, vr: "OB", value: []byte{0, 1}},
		{tag: dataset.MediaStorageSOPClassUID, vr: "UI", value: []byte(sopClass)},
		{tag: dataset.MediaStorageSOPInstanceUID, vr: "UI", value: []byte(sopInstance)},
		{tag: dataset.TransferSyntaxUID, vr: "UI", value: []byte(ts)},
		{tag: dataset.ImplementationClassUID, vr: "UI", value: []byte(report.ImplementationClassUID)},
		{tag: 0x00020013, vr: "SH", value: []byte(report.ImplementationVersionName)},
	})
	if err != nil {
		return nil, err
	}
	out := make([]byte, 128, 128+4+12+len(body))
	out = append(out, "DICM"...)
	out, err = le.header(out, dataset.FileMetaInformationGroupLength, "UL", 4)
	if err != nil {
		return nil, err
	}
	out = le.u32(out, uint32(len(body)))
	return append(out, body...), nil
}

// writePart10 writes a complete file: meta, then the top-level elements in
// tag order, streaming pixel data from src byte for byte.
func writePart10(w io.Writer, sopClass, sopInstance, ts string, es []elem, src *dataset.File) (int64, error) {
	head, err := metaGroup(sopClass, sopInstance, ts)
	if err != nil {
		return 0, err
	}
	enc := encoder{big: ts == explicitVRBigEndian}
	var total int64
	put := func(b []byte) error {
		n, err := w.Write(b)
		total += int64(n)
		return err
	}
	if err := put(head); err != nil {
		return total, err
	}
	buf := make([]byte, 0, 64<<10)
	for _, el := range sortElems(es) {
		if el.pixel == nil {
			if buf, err = enc.element(buf, el); err != nil {
				return total, err
			}
			continue
		}
		if err := put(buf); err != nil {
			return total, err
		}
		buf = buf[:0]
		if el.clean != nil {
			if err := el.clean.writeTo(put, el.tag); err != nil {
				return total, err
			}
			continue
		}
		if el.frames != nil {
			if err := enc.framesData(put, el.tag, el.frames); err != nil {
				return total, err
			}
			continue
		}
		if err := enc.pixelData(put, el.pixel, src); err != nil {
			return total, err
		}
	}
	return total, put(buf)
}

// copyChunk bounds one read of pixel data from the source.
const copyChunk = 1 << 20

// copyRange writes n bytes at off of src's pixel source through put.
func copyRange(put func([]byte) error, src *dataset.File, off, n int64) error {
	for n > 0 {
		k := min(n, copyChunk)
		b, err := src.ReadPixelRange(off, k)
		if err != nil {
			return err
		}
		if err := put(b); err != nil {
			return err
		}
		off += k
		n -= k
	}
	return nil
}

// framesData writes encapsulated pixel data from rewritten frames: one
// fragment per frame (padded to even length, PS3.5 A.4), and a Basic Offset
// Table pointing at each, unless the offsets outgrow 32 bits (then the table
// stays empty, and one fragment per frame still finds every frame).
func (e encoder) framesData(put func([]byte) error, tag dataset.Tag, frames [][]byte) error {
	h, err := e.header(nil, tag, "OB", 0)
	if err != nil {
		return err
	}
	h = h[:len(h)-4]
	h = e.u32(h, 0xFFFFFFFF)
	item := func(dst []byte, n uint32) []byte {
		dst = e.u16(dst, 0xFFFE)
		dst = e.u16(dst, 0xE000)
		return e.u32(dst, n)
	}
	var bot []byte
	off := int64(0)
	for _, fr := range frames {
		if off > 0xFFFFFFFF {
			bot = nil
			break
		}
		bot = binary.LittleEndian.AppendUint32(bot, uint32(off)) // little endian in every encapsulated syntax
		off += 8 + int64(len(fr)+len(fr)%2)
	}
	h = item(h, uint32(len(bot)))
	h = append(h, bot...)
	if err := put(h); err != nil {
		return err
	}
	for _, fr := range frames {
		n := len(fr) + len(fr)%2
		if int64(n) >= 0xFFFFFFFF {
			return fmt.Errorf("share: pixel fragment of %d bytes: %w", n, ErrValueTooLong)
		}
		if err := put(item(nil, uint32(n))); err != nil {
			return err
		}
		if err := put(fr); err != nil {
			return err
		}
		if len(fr)%2 == 1 {
			if err := put([]byte{0}); err != nil {
				return err
			}
		}
	}
	end := e.u16(nil, 0xFFFE)
	end = e.u16(end, 0xE0DD)
	return put(e.u32(end, 0))
}

// pixelData writes the pixel data element. Encapsulated data keep their Basic
// Offset Table and fragments exactly (the item headers are rewritten in the
// same little endian form, so table offsets stay valid); native data keep
// their bytes, with one zero byte of padding when the source's length was odd.
func (e encoder) pixelData(put func([]byte) error, p *dataset.Pixels, src *dataset.File) error {
	if p.Encapsulated {
		h, err := e.header(nil, p.Tag, "OB", 0)
		if err != nil {
			return err
		}
		h = h[:len(h)-4]
		h = e.u32(h, 0xFFFFFFFF)
		item := func(dst []byte, n uint32) []byte {
			dst = e.u16(dst, 0xFFFE)
			dst = e.u16(dst, 0xE000)
			return e.u32(dst, n)
		}
		h = item(h, uint32(4*len(p.OffsetTable)))
		for _, o := range p.OffsetTable {
			h = binary.LittleEndian.AppendUint32(h, o) // PS3.5 A.4: offsets are little endian in every encapsulated syntax
		}
		if err := put(h); err != nil {
			return err
		}
		for _, fr := range p.Fragments {
			if fr.Length < 0 || fr.Length >= 0xFFFFFFFF {
				return fmt.Errorf("share: pixel fragment of %d bytes: %w", fr.Length, ErrValueTooLong)
			}
			if err := put(item(nil, uint32(fr.Length))); err != nil {
				return err
			}
			if err := copyRange(put, src, fr.Offset, fr.Length); err != nil {
				return err
			}
		}
		end := e.u16(nil, 0xFFFE)
		end = e.u16(end, 0xE0DD)
		return put(e.u32(end, 0))
	}
	vr := p.VR
	if vr == "" || vr == "UN" {
		vr = "OW"
	}
	n := p.Length
	h, err := e.header(nil, p.Tag, vr, uint64(n+n%2))
	if err != nil {
		return err
	}
	if err := put(h); err != nil {
		return err
	}
	if err := copyRange(put, src, p.Offset, n); err != nil {
		return err
	}
	if n%2 == 1 {
		return put([]byte{0})
	}
	return nil
}
