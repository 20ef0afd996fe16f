// Package ljpeg decodes JPEG lossless code streams: ITU-T T.81 process 14 (SOF3,
// Huffman coding, predictors 1-7, point transform, 2-16 bit precision, 1-4
// components), as DICOM stores them under the transfer syntaxes JPEG Lossless
// (1.2.840.10008.1.2.4.57) and its selection-value-1 case (1.2.840.10008.1.2.4.70).
//
// Reconstruction follows the modular arithmetic of T.81 H.2.1 exactly as libjpeg
// and GDCM implement it: predictions and reconstructed samples are kept modulo
// 2^16, so streams from encoders that rely on the wrap-around (8-bit ultrasound
// encoders, the predictor 6 overflow of some old toolkits) decode to the same
// values as those references.
package ljpeg

import (
	"fmt"

	"teleread/viewer/codec"
)

// JPEG markers this decoder looks at (T.81 table B.1).
const (
	markerSOF0  = 0xC0
	markerSOF3  = 0xC3
	markerDHT   = 0xC4
	markerJPG   = 0xC8
	markerDAC   = 0xCC
	markerSOF15 = 0xCF
	markerRST0  = 0xD0
	markerRST7  = 0xD7
	markerSOI   = 0xD8
	markerEOI   = 0xD9
	markerSOS   = 0xDA
	markerDRI   = 0xDD
	markerTEM   = 0x01
)

type component struct {
	id      uint8
	decoded bool
}

type decoder struct {
	src []byte
	pos int

	frameSeen bool
	precision int
	width     int
	height    int
	comps     []component
	compBuf   [4]component

	tables [4]*huffTable

	restartInterval int
	pred6           int // pred6Unknown until the first predictor 6 row is seen

	img *codec.Image

	br    bitReader
	clean []byte // unstuffed entropy-coded data, reused between intervals
}

// Decode decodes one JPEG lossless (SOF3) code stream into an Image. Samples
// are the raw bit patterns of the stream (U8 for precision up to 8 bits, U16
// otherwise), interleaved when there are several components, without any
// colour conversion. Other JPEG processes return an error wrapping
// codec.ErrUnsupported; a damaged or truncated stream one wrapping
// codec.ErrCorrupt.
func Decode(src []byte) (*codec.Image, error) {
	d := &decoder{src: src}
	if err := d.decode(); err != nil {
		return nil, fmt.Errorf("ljpeg: decode: %w", err)
	}
	if err := checkPrecision(d.img); err != nil {
		return nil, fmt.Errorf("ljpeg: decode: %w", err)
	}
	return d.img, nil
}

// checkPrecision refuses an image holding a sample wider than its precision.
// Reconstruction is modulo 2^16 (T.81 H.2.1), so a valid stream of P-bit
// samples never leaves P bits; a damaged one can, and a wrapped value shown
// as tissue is worse than an error. One OR per sample: about 1% of a decode.
func checkPrecision(img *codec.Image) error {
	if img == nil || img.Precision >= 16 {
		return nil
	}
	var or uint16
	for _, v := range img.U8 {
		or |= uint16(v)
	}
	for _, v := range img.U16 {
		or |= v
	}
	if or>>img.Precision != 0 {
		return corrupt("a sample is wider than the frame's %d-bit precision", img.Precision)
	}
	return nil
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{codec.ErrCorrupt}, args...)...)
}

func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{codec.ErrUnsupported}, args...)...)
}

func (d *decoder) decode() error {
	if len(d.src) < 2 || d.src[0] != 0xFF || d.src[1] != markerSOI {
		return corrupt("no SOI marker")
	}
	d.pos = 2
	for {
		m, ok := d.nextMarker()
		if !ok {
			// Data ended without EOI: accept it when every component was
			// decoded, as libjpeg does (with a warning).
			if d.complete() {
				return nil
			}
			return corrupt("truncated: no EOI before the end of the data")
		}
		switch {
		case m == markerEOI:
			if !d.complete() {
				return corrupt("EOI before every component was decoded")
			}
			return nil
		case m == markerSOF3:
			if err := d.readSOF(); err != nil {
				return err
			}
		case m == markerDHT:
			if err := d.readDHT(); err != nil {
				return err
			}
		case m == markerDAC:
			return unsupported("arithmetic coding")
		case m >= markerSOF0 && m <= markerSOF15 && m != markerJPG:
			return unsupported("JPEG process SOF%d (only lossless SOF3 is decoded here)", m-markerSOF0)
		case m == markerDRI:
			if err := d.readDRI(); err != nil {
				return err
			}
		case m == markerSOS:
			if err := d.readScan(); err != nil {
				return err
			}
		case m >= markerRST0 && m <= markerRST7, m == markerTEM, m == markerSOI:
			// Stand-alone markers with no segment; a stray RST between scans is
			// ignored as libjpeg does.
		default:
			if _, err := d.segment(); err != nil {
				return err
			}
		}
	}
}

// complete says whether a frame was seen and every one of its components decoded.
func (d *decoder) complete() bool {
	if !d.frameSeen {
		return false
	}
	for _, c := range d.comps {
		if !c.decoded {
			return false
		}
	}
	return true
}

// nextMarker returns the next marker code at or after d.pos, skipping fill bytes
// and, like libjpeg, any garbage bytes before it. It reports false at the end of
// the data.
func (d *decoder) nextMarker() (byte, bool) {
	src := d.src
	for d.pos < len(src) {
		if src[d.pos] != 0xFF {
			d.pos++
			continue
		}
		for d.pos < len(src) && src[d.pos] == 0xFF {
			d.pos++
		}
		if d.pos >= len(src) {
			return 0, false
		}
		m := src[d.pos]
		d.pos++
		if m != 0 {
			return m, true
		}
	}
	return 0, false
}

// segment returns the body of the length-prefixed marker segment at d.pos and
// moves past it.
func (d *decoder) segment() ([]byte, error) {
	if len(d.src)-d.pos < 2 {
		return nil, corrupt("truncated marker segment")
	}
	n := int(d.src[d.pos])<<8 | int(d.src[d.pos+1])
	if n < 2 {
		return nil, corrupt("marker segment length %d", n)
	}
	if n > len(d.src)-d.pos {
		return nil, corrupt("truncated marker segment: length %d, %d bytes left", n, len(d.src)-d.pos)
	}
	b := d.src[d.pos+2 : d.pos+n]
	d.pos += n
	return b, nil
}

func (d *decoder) readSOF() error {
	if d.frameSeen {
		return corrupt("more than one SOF marker")
	}
	b, err := d.segment()
	if err != nil {
		return err
	}
	if len(b) < 6 {
		return corrupt("SOF3 segment too short")
	}
	p := int(b[0])
	h := int(b[1])<<8 | int(b[2])
	w := int(b[3])<<8 | int(b[4])
	nc := int(b[5])
	if p < 2 || p > 16 {
		return corrupt("precision %d outside 2-16", p)
	}
	if h == 0 {
		return unsupported("height defined by a DNL marker")
	}
	if w == 0 {
		return corrupt("width 0")
	}
	if nc < 1 || nc > 4 {
		return unsupported("%d components", nc)
	}
	if len(b) != 6+3*nc {
		return corrupt("SOF3 length %d for %d components", len(b)+2, nc)
	}
	d.comps = d.compBuf[:nc]
	for i := range d.comps {
		c := b[6+3*i:]
		d.comps[i] = component{id: c[0]}
		hv := c[1]
		if hv>>4 == 0 || hv&15 == 0 {
			return corrupt("sampling factors %#x", hv)
		}
		if nc > 1 && hv != 0x11 {
			return unsupported("subsampled component %d (%#x)", i, hv)
		}
	}
	samples := int64(w) * int64(h) * int64(nc)
	if samples > codec.MaxPixels {
		return corrupt("%dx%dx%d samples exceed the limit of %d", w, h, nc, codec.MaxPixels)
	}
	// Every sample costs at least one bit of Huffman code, so a header claiming
	// more samples than the stream has bits is a lie; refuse it before allocating.
	if samples > 8*int64(len(d.src)) {
		return corrupt("truncated: %d samples cannot fit in %d bytes", samples, len(d.src))
	}
	d.frameSeen = true
	d.precision, d.width, d.height = p, w, h
	img := &codec.Image{Width: w, Height: h, Components: nc, Precision: p}
	if p <= 8 {
		img.U8 = make([]uint8, samples)
	} else {
		img.U16 = make([]uint16, samples)
	}
	d.img = img
	return nil
}

func (d *decoder) readDHT() error {
	b, err := d.segment()
	if err != nil {
		return err
	}
	for len(b) > 0 {
		if len(b) < 17 {
			return corrupt("DHT segment too short")
		}
		tc, th := b[0]>>4, b[0]&15
		if tc > 1 || th > 3 {
			return corrupt("DHT table class %d id %d", tc, th)
		}
		var counts [16]uint8
		copy(counts[:], b[1:17])
		total := 0
		for _, c := range counts {
			total += int(c)
		}
		if total > 256 || total > len(b)-17 {
			return corrupt("DHT table with %d codes in %d bytes", total, len(b)-17)
		}
		symbols := b[17 : 17+total]
		b = b[17+total:]
		if tc != 0 {
			continue // AC tables have no use in a lossless scan
		}
		t := d.tables[th]
		if t == nil {
			t = new(huffTable)
		}
		if err := t.build(&counts, symbols); err != nil {
			d.tables[th] = nil
			return corrupt("DHT: %v", err)
		}
		d.tables[th] = t
	}
	return nil
}

func (d *decoder) readDRI() error {
	b, err := d.segment()
	if err != nil {
		return err
	}
	if len(b) != 2 {
		return corrupt("DRI length %d", len(b)+2)
	}
	d.restartInterval = int(b[0])<<8 | int(b[1])
	return nil
}
