// Package hostiletest builds the crafted DICOM files that the hostile-input
// tests feed to every reader: headers that overflow, deflate bombs, element
// floods, code streams whose headers disagree with the DICOM header. Small ones
// are also kept as files in testdata/hostile (see its README and Files); big
// ones are generated here when a test needs them, so the repository does not
// carry them.
//
// Every file is synthetic: no patient data, made by the functions below.
package hostiletest

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// Transfer syntaxes the builders write.
const (
	ExplicitVRLittleEndian         = "1.2.840.10008.1.2.1"
	DeflatedExplicitVRLittleEndian = "1.2.840.10008.1.2.1.99"
	JPEG2000Lossless               = "1.2.840.10008.1.2.4.90"
	JPEGLSLossless                 = "1.2.840.10008.1.2.4.80"
	JPEGBaseline                   = "1.2.840.10008.1.2.4.50"
)

// Element is one data element to write (explicit VR little endian).
type Element struct {
	Group, Elem uint16
	VR          string
	Value       []byte
	// Undefined writes an undefined length with Value as the raw bytes that
	// follow (items and delimiters).
	Undefined bool
}

// Str is a string element, padded to even length as PS3.5 requires.
func Str(group, elem uint16, vr, s string) Element {
	if len(s)%2 == 1 {
		pad := " "
		if vr == "UI" {
			pad = "\x00"
		}
		s += pad
	}
	return Element{Group: group, Elem: elem, VR: vr, Value: []byte(s)}
}

// US is an unsigned short element.
func US(group, elem uint16, v uint16) Element {
	return Element{Group: group, Elem: elem, VR: "US", Value: binary.LittleEndian.AppendUint16(nil, v)}
}

// Encode writes elements in explicit VR little endian.
func Encode(elems ...Element) []byte {
	var b bytes.Buffer
	for _, e := range elems {
		b.Write(binary.LittleEndian.AppendUint16(nil, e.Group))
		b.Write(binary.LittleEndian.AppendUint16(nil, e.Elem))
		b.WriteString(e.VR)
		n := uint32(len(e.Value))
		if e.Undefined {
			n = 0xFFFFFFFF
		}
		switch e.VR {
		case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV":
			b.Write([]byte{0, 0})
			b.Write(binary.LittleEndian.AppendUint32(nil, n))
		default:
			b.Write(binary.LittleEndian.AppendUint16(nil, uint16(n)))
		}
		b.Write(e.Value)
	}
	return b.Bytes()
}

// Meta returns the preamble, "DICM" and a file meta group naming ts.
func Meta(ts string) []byte {
	var b bytes.Buffer
	b.Write(make([]byte, 128))
	b.WriteString("DICM")
	b.Write(Encode(Str(0x0002, 0x0010, "UI", ts)))
	return b.Bytes()
}

// UIDs of the crafted instances (under the 2.25 root, made up for these files).
const (
	StudyUID  = "2.25.140000000000000000000000000000000001"
	SeriesUID = "2.25.140000000000000000000000000000000002"
	SOPClass  = "1.2.840.10008.5.1.4.1.1.7" // Secondary Capture
)

// Identity returns the elements that make a data set an instance the cache
// indexes: SOP Class and Instance, Study and Series UIDs, modality. n tells
// instances apart.
func Identity(n int) []Element {
	return []Element{
		Str(0x0008, 0x0016, "UI", SOPClass),
		Str(0x0008, 0x0018, "UI", fmt.Sprintf("2.25.14000000000000000000000000000000%04d", 1000+n)),
		Str(0x0008, 0x0060, "CS", "OT"),
		Str(0x0010, 0x0010, "PN", "HOSTILE^TEST"),
		Str(0x0020, 0x000D, "UI", StudyUID),
		Str(0x0020, 0x000E, "UI", SeriesUID),
	}
}

// Image describes the image attributes of a crafted file. Rows and Columns
// are text so that they can overflow: written as IS when they do not fit US.
type Image struct {
	Rows, Cols     string
	Frames         string // "" leaves Number of Frames out
	Samples        uint16
	Bits           uint16
	Photometric    string
	TransferSyntax string
	// Pixel is the value of Pixel Data (OB native, or the raw items of
	// encapsulated data when Encapsulated is set).
	Pixel        []byte
	Encapsulated bool
}

// dim writes Rows or Columns: US when the text is a number that fits, else IS
// (what a writer that does not know the VR, or an attacker, produces).
func dim(elem uint16, s string) Element {
	var v uint32
	if _, err := fmt.Sscan(s, &v); err == nil && v <= 0xFFFF && fmt.Sprint(v) == s {
		return US(0x0028, elem, uint16(v))
	}
	return Str(0x0028, elem, "IS", s)
}

// File returns the whole PS3.10 file for the image, instance n.
func (im Image) File(n int) []byte {
	ts := im.TransferSyntax
	if ts == "" {
		ts = ExplicitVRLittleEndian
	}
	els := Identity(n)
	samples, bits, photo := im.Samples, im.Bits, im.Photometric
	if samples == 0 {
		samples = 1
	}
	if bits == 0 {
		bits = 8
	}
	if photo == "" {
		photo = "MONOCHROME2"
	}
	els = append(els, US(0x0028, 0x0002, samples), Str(0x0028, 0x0004, "CS", photo))
	if im.Frames != "" {
		els = append(els, Str(0x0028, 0x0008, "IS", im.Frames))
	}
	els = append(els, dim(0x0010, im.Rows), dim(0x0011, im.Cols),
		US(0x0028, 0x0100, bits), US(0x0028, 0x0101, bits), US(0x0028, 0x0102, bits-1), US(0x0028, 0x0103, 0))
	px := Element{Group: 0x7FE0, Elem: 0x0010, VR: "OB", Value: im.Pixel}
	if im.Encapsulated {
		px.Undefined = true
	}
	return append(append(Meta(ts), Encode(els...)...), Encode(px)...)
}

// Fragments encodes encapsulated pixel data: an empty Basic Offset Table, one
// item per fragment, the sequence delimiter.
func Fragments(frags ...[]byte) []byte {
	var b bytes.Buffer
	item := func(v []byte) {
		b.Write([]byte{0xFE, 0xFF, 0x00, 0xE0})
		b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(v))))
		b.Write(v)
	}
	item(nil)
	for _, f := range frags {
		if len(f)%2 == 1 {
			f = append(f[:len(f):len(f)], 0)
		}
		item(f)
	}
	b.Write([]byte{0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0})
	return b.Bytes()
}

// DeflateBomb writes a Deflated Explicit VR Little Endian file whose data set
// inflates to inflated bytes: the identity elements, then an OB value of
// zeros filling the rest. The deflated stream is about inflated/1000 bytes.
func DeflateBomb(w io.Writer, inflated int64) error {
	head := Encode(Identity(0)...)
	if _, err := w.Write(Meta(DeflatedExplicitVRLittleEndian)); err != nil {
		return err
	}
	zw, err := flate.NewWriter(w, flate.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(head); err != nil {
		return err
	}
	fill := inflated - int64(len(head)) - 12
	if fill < 0 || fill > 0xFFFFFFFE {
		return fmt.Errorf("hostiletest: deflate bomb of %d bytes", inflated)
	}
	hdr := Encode(Element{Group: 0x0009, Elem: 0x1010, VR: "OB"})
	binary.LittleEndian.PutUint32(hdr[8:], uint32(fill&^1))
	if _, err := zw.Write(hdr); err != nil {
		return err
	}
	if _, err := io.CopyN(zw, zeros{}, fill&^1); err != nil {
		return err
	}
	return zw.Close()
}

// DeflatedZeros writes a deflated file whose data set is inflated bytes of
// zeros: to a reader, eight-byte elements (0000,0000) of length 0, millions of
// them.
func DeflatedZeros(w io.Writer, inflated int64) error {
	if _, err := w.Write(Meta(DeflatedExplicitVRLittleEndian)); err != nil {
		return err
	}
	zw, err := flate.NewWriter(w, flate.BestCompression)
	if err != nil {
		return err
	}
	if _, err := io.CopyN(zw, zeros{}, inflated); err != nil {
		return err
	}
	return zw.Close()
}

// ZeroLengthElements writes a plain explicit VR little endian file of about
// size bytes: identity elements, then zero-length private elements (tags
// ascending) filling the rest.
func ZeroLengthElements(w io.Writer, size int64) error {
	head := append(Meta(ExplicitVRLittleEndian), Encode(Identity(0)...)...)
	if _, err := w.Write(head); err != nil {
		return err
	}
	buf := make([]byte, 0, 64<<10)
	n := int64(len(head))
	for g, e := uint32(0x0009), uint32(0x1000); n+8 <= size; n += 8 {
		// Short-form VR keeps each element at 8 bytes: LO of length 0.
		buf = binary.LittleEndian.AppendUint16(buf, uint16(g))
		buf = binary.LittleEndian.AppendUint16(buf, uint16(e))
		buf = append(buf, 'L', 'O', 0, 0)
		if e++; e > 0xFFFF {
			e, g = 0x1000, g+2
		}
		if len(buf) >= cap(buf)-8 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	_, err := w.Write(buf)
	return err
}

// zeros reads as endless zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// Crafted is one small crafted file kept in testdata/hostile.
type Crafted struct {
	Name string // file name in testdata/hostile
	How  string // what it declares, for the README
	Data []byte
}

// Files returns the small crafted files kept in testdata/hostile; the test
// of this package checks that the files there are exactly these bytes (go test
// ./viewer/dataset/hostiletest -update writes them).
func Files() []Crafted {
	px16 := make([]byte, 16)
	return []Crafted{
		{"rows_overflow_is.dcm", "Rows written as IS 4611686018427387905 with Columns 4: the product wraps to 4 in 64 bits", Image{Rows: "4611686018427387905", Cols: "4", Pixel: px16}.File(1)},
		{"rows_cols_wrap.dcm", "Rows IS 4294967297, Columns IS 4294967295: the product wraps to -1", Image{Rows: "4294967297", Cols: "4294967295", Pixel: px16}.File(2)},
		{"rows_negative.dcm", "Rows IS -4, Columns 4", Image{Rows: "-4", Cols: "4", Pixel: px16}.File(3)},
		{"frames_huge.dcm", "2x2 pixels, Number of Frames 2147483647, 16 bytes of pixel data", Image{Rows: "2", Cols: "2", Frames: "2147483647", Pixel: px16}.File(4)},
		{"frames_encapsulated.dcm", "JPEG 2000, Number of Frames 100000 with one fragment", Image{Rows: "8", Cols: "8", Frames: "100000", TransferSyntax: JPEG2000Lossless, Encapsulated: true, Pixel: Fragments(J2K(8, 8, 1, 8, 8))}.File(5)},
		{"j2k_components.dcm", "8x8 grey header; its JPEG 2000 SIZ declares 16384 components of 255x255 in 1x1 tiles", Image{Rows: "8", Cols: "8", TransferSyntax: JPEG2000Lossless, Encapsulated: true, Pixel: Fragments(J2K(255, 255, 16384, 1, 1))}.File(6)},
		{"j2k_size.dcm", "8x8 grey header; its JPEG 2000 SIZ declares 60000x60000 pixels in one tile", Image{Rows: "8", Cols: "8", TransferSyntax: JPEG2000Lossless, Encapsulated: true, Pixel: Fragments(J2K(60000, 60000, 1, 60000, 60000))}.File(7)},
		{"j2k_tiles.dcm", "255x255 grey header; its JPEG 2000 SIZ agrees but declares 1x1 tiles (65025 of them)", Image{Rows: "255", Cols: "255", TransferSyntax: JPEG2000Lossless, Encapsulated: true, Pixel: Fragments(J2K(255, 255, 1, 1, 1))}.File(8)},
		{"jpegls_size.dcm", "8x8 grey header; its JPEG-LS SOF55 declares 65535x65535 pixels", Image{Rows: "8", Cols: "8", TransferSyntax: JPEGLSLossless, Encapsulated: true, Pixel: Fragments(JPEGSOF(0xF7, 65535, 65535, 1, 8))}.File(9)},
		{"jpeg_size.dcm", "8x8 grey header; its baseline JPEG SOF0 declares 65535x65535 pixels with 3 components", Image{Rows: "8", Cols: "8", TransferSyntax: JPEGBaseline, Encapsulated: true, Pixel: Fragments(JPEGSOF(0xC0, 65535, 65535, 3, 8))}.File(10)},
	}
}

// J2K returns a JPEG 2000 code stream start: SOC, a SIZ marker segment with
// the given image size, components (8-bit unsigned) and tile size, COD, QCD,
// then EOC; no tile data, so a decoder that believes the SIZ allocates what it
// declares before it finds nothing to decode.
func J2K(w, h uint32, comps uint16, tw, th uint32) []byte {
	var b bytes.Buffer
	be := binary.BigEndian
	b.Write([]byte{0xFF, 0x4F, 0xFF, 0x51})
	b.Write(be.AppendUint16(nil, uint16(38+3*int(comps))))
	b.Write(be.AppendUint16(nil, 0)) // Rsiz
	for _, v := range []uint32{w, h, 0, 0, tw, th, 0, 0} {
		b.Write(be.AppendUint32(nil, v))
	}
	b.Write(be.AppendUint16(nil, comps))
	for range comps {
		b.Write([]byte{7, 1, 1}) // 8 bits unsigned, no subsampling
	}
	// COD: no progression options, 1 layer, no transform, 0 decomposition levels, 64x64 code blocks, reversible 5/3.
	b.Write([]byte{0xFF, 0x52, 0x00, 0x0C, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x04, 0x04, 0x00, 0x01})
	// QCD: no quantisation, one band.
	b.Write([]byte{0xFF, 0x5C, 0x00, 0x04, 0x00, 0x40})
	b.Write([]byte{0xFF, 0xD9})
	return b.Bytes()
}

// JPEGSOF returns SOI and a start-of-frame segment (marker 0xFFsof: 0xC0
// baseline, 0xC3 lossless, 0xF7 JPEG-LS) declaring the size, components and
// precision, then EOI.
func JPEGSOF(sof byte, w, h uint16, comps, precision byte) []byte {
	be := binary.BigEndian
	b := []byte{0xFF, 0xD8, 0xFF, sof}
	b = be.AppendUint16(b, uint16(8+3*int(comps)))
	b = append(b, precision)
	b = be.AppendUint16(b, h)
	b = be.AppendUint16(b, w)
	b = append(b, comps)
	for i := range comps {
		b = append(b, i+1, 0x11, 0)
	}
	return append(b, 0xFF, 0xD9)
}

// DICOMDIR returns a DICOMDIR whose image records reference the given files
// (path components, as Referenced File ID holds them). A record given as nil
// is a broken one: its Referenced File ID is ".." and a component with a
// slash, which readers must refuse.
func DICOMDIR(refs [][]string) []byte {
	var items bytes.Buffer
	for _, r := range refs {
		id := strings.Join(r, `\`)
		if r == nil {
			id = `..\A/B`
		}
		item := Encode(Str(0x0004, 0x1430, "CS", "IMAGE"), Str(0x0004, 0x1500, "CS", id))
		items.Write([]byte{0xFE, 0xFF, 0x00, 0xE0})
		items.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(item))))
		items.Write(item)
	}
	items.Write([]byte{0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0})
	var b bytes.Buffer
	b.Write(make([]byte, 128))
	b.WriteString("DICM")
	b.Write(Encode(Str(0x0002, 0x0002, "UI", "1.2.840.10008.1.3.10"), Str(0x0002, 0x0010, "UI", ExplicitVRLittleEndian)))
	b.Write(Encode(Str(0x0004, 0x1130, "CS", "HOSTILE"), Element{Group: 0x0004, Elem: 0x1220, VR: "SQ", Value: items.Bytes(), Undefined: true}))
	return b.Bytes()
}
