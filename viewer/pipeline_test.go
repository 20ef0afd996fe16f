package viewer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"math"
	"testing"

	"teleread/viewer/dataset"
)

func TestGrey8(t *testing.T) {
	tests := []struct {
		name string
		d    Display
		x    float64
		want uint8
	}{
		// PS3.3 C.11.2.1.2.1 with c=40, w=400: 0 up to -160, 255 above 239.
		{"linear below", Display{Window: Window{40, 400, Linear}}, -160, 0},
		{"linear above", Display{Window: Window{40, 400, Linear}}, 239.5, 255},
		{"linear centre", Display{Window: Window{40, 400, Linear}}, 40, 128}, // 127.82
		{"linear width 1", Display{Window: Window{10, 1, Linear}}, 10, 255},
		{"linear width 1 low", Display{Window: Window{10, 1, Linear}}, 9.5, 0},
		{"linear exact centre", Display{Window: Window{0, 100, LinearExact}}, 0, 128}, // 127.5
		{"linear exact top", Display{Window: Window{0, 100, LinearExact}}, 50, 255},
		{"linear exact bottom", Display{Window: Window{0, 100, LinearExact}}, -50, 0},
		{"linear exact width 0", Display{Window: Window{7, 0, LinearExact}}, 7, 0},
		{"sigmoid centre", Display{Window: Window{0, 100, Sigmoid}}, 0, 128},
		{"sigmoid quarter", Display{Window: Window{0, 100, Sigmoid}}, 25, 186}, // 255/(1+e^-1) = 186.4
		{"rescale", Display{Slope: 2, Intercept: -1024, Window: Window{0, 100, LinearExact}}, 512, 128},
		{"invert", Display{Window: Window{0, 100, LinearExact}, Invert: true}, 50, 0},
		{"modality LUT clips low", Display{ModalityLUT: &LUT{First: 10, Bits: 16, Data: []uint16{100, 200}},
			Window: Window{150, 100, LinearExact}}, 0, 0},
		{"modality LUT clips high", Display{ModalityLUT: &LUT{First: 10, Bits: 16, Data: []uint16{100, 200}},
			Window: Window{150, 100, LinearExact}}, 1000, 255},
		{"VOI LUT 16 bit", Display{VOILUT: &LUT{First: 0, Bits: 16, Data: []uint16{0, 32768, 65535}}}, 1, 128},
		{"VOI LUT first", Display{VOILUT: &LUT{First: -1, Bits: 8, Data: []uint16{0, 10, 255}}}, 1, 255},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.Grey8(tt.x); got != tt.want {
				t.Errorf("Grey8(%v) = %d, want %d", tt.x, got, tt.want)
			}
		})
	}
}

func TestYBRToRGB(t *testing.T) {
	tests := []struct {
		y, cb, cr float64
		r, g, b   uint8
	}{
		{128, 128, 128, 128, 128, 128},
		{0, 128, 255, 178, 0, 0}, // R = 1.402*127 = 178.05
		{255, 0, 0, 76, 255, 28}, // R = 255-179.5, G = 255+44.05+91.4, B = 255-226.8
	}
	for _, tt := range tests {
		r, g, b := YBRToRGB(tt.y, tt.cb, tt.cr)
		if r != tt.r || g != tt.g || b != tt.b {
			t.Errorf("YBRToRGB(%v,%v,%v) = %d,%d,%d, want %d,%d,%d", tt.y, tt.cb, tt.cr, r, g, b, tt.r, tt.g, tt.b)
		}
	}
}

func TestExpandSegmented(t *testing.T) {
	tests := []struct {
		name    string
		data    []uint16
		want    []uint16
		wantErr bool
	}{
		{"discrete", []uint16{0, 3, 1, 2, 3}, []uint16{1, 2, 3}, false},
		{"linear", []uint16{0, 1, 0, 1, 4, 100}, []uint16{0, 25, 50, 75, 100}, false},
		{"indirect", []uint16{0, 2, 5, 6, 2, 1, 0, 0}, []uint16{5, 6, 5, 6}, false},
		{"linear first", []uint16{1, 4, 100}, nil, true},
		{"bad opcode", []uint16{7, 1, 1}, nil, true},
		{"indirect loop", []uint16{0, 1, 9, 2, 1, 7, 0, 2, 1, 0, 0}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := expandSegmented(tt.data, false, 1<<16)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && !equalU16(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func equalU16(a, b []uint16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestViewMapping(t *testing.T) {
	// 3 columns x 2 rows, values 0..5; an identity 8-bit VOI LUT shows them as they are.
	f := &Frame{Rows: 2, Cols: 3, Samples: 1, Color: Monochrome, BitsStored: 8, U8: []uint8{0, 1, 2, 3, 4, 5}}
	ident := make([]uint16, 256)
	for i := range ident {
		ident[i] = uint16(i)
	}
	tests := []struct {
		name string
		view View
		w, h int
		want []uint8
	}{
		{"identity", View{}, 3, 2, []uint8{0, 1, 2, 3, 4, 5}},
		{"rotate clockwise", View{Rotation: 1}, 2, 3, []uint8{3, 0, 4, 1, 5, 2}},
		{"rotate counter-clockwise", View{Rotation: -1}, 2, 3, []uint8{2, 5, 1, 4, 0, 3}},
		{"rotate half", View{Rotation: 2}, 3, 2, []uint8{5, 4, 3, 2, 1, 0}},
		{"flip horizontal", View{FlipH: true}, 3, 2, []uint8{2, 1, 0, 5, 4, 3}},
		{"flip vertical", View{FlipV: true}, 3, 2, []uint8{3, 4, 5, 0, 1, 2}},
		{"zoom 2", View{Zoom: 2}, 6, 4, []uint8{0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 3, 3, 4, 4, 5, 5}},
		{"fit letterbox", View{}, 3, 4, []uint8{0, 0, 0, 0, 1, 2, 3, 4, 5, 0, 0, 0}},
		{"pan one right", View{PanX: 1}, 3, 2, []uint8{0, 0, 1, 0, 3, 4}},
		{"bilinear identity", View{Interpolation: Bilinear}, 3, 2, []uint8{0, 1, 2, 3, 4, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &Display{VOILUT: &LUT{Bits: 8, Data: ident}, View: tt.view}
			var r CPURenderer
			if err := r.Upload(f); err != nil {
				t.Fatal(err)
			}
			dst := image.NewGray(image.Rect(0, 0, tt.w, tt.h))
			if err := r.Render(d, dst); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(dst.Pix, tt.want) {
				t.Fatalf("got %v, want %v", dst.Pix, tt.want)
			}
		})
	}
}

// elem is one element of a synthetic data set, explicit VR.
type elem struct {
	group, element uint16
	vr             string
	value          []byte
}

func us(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
func usBE(v uint16) []byte {
	return binary.BigEndian.AppendUint16(nil, v)
}

// synthFile builds a DICOM file (preamble, meta, explicit VR data set in the
// transfer syntax's byte order) from elements given in tag order.
func synthFile(ts string, bigEndian bool, elems []elem) []byte {
	var b bytes.Buffer
	b.Write(make([]byte, 128))
	b.WriteString("DICM")
	tsv := []byte(ts)
	if len(tsv)%2 == 1 {
		tsv = append(tsv, 0)
	}
	meta := []elem{{0x0002, 0x0010, "UI", tsv}}
	var mb bytes.Buffer
	for _, e := range meta {
		writeElem(&mb, e, false)
	}
	writeElem(&b, elem{0x0002, 0x0000, "UL", binary.LittleEndian.AppendUint32(nil, uint32(mb.Len()))}, false)
	b.Write(mb.Bytes())
	for _, e := range elems {
		writeElem(&b, e, bigEndian)
	}
	return b.Bytes()
}

func writeElem(b *bytes.Buffer, e elem, bigEndian bool) {
	var o binary.AppendByteOrder = binary.LittleEndian
	if bigEndian {
		o = binary.BigEndian
	}
	b.Write(o.AppendUint16(nil, e.group))
	b.Write(o.AppendUint16(nil, e.element))
	b.WriteString(e.vr)
	switch e.vr {
	case "OB", "OW", "OF", "SQ", "UN", "UT":
		b.Write([]byte{0, 0})
		if e.value == nil && e.vr == "OB" { // encapsulated: undefined length
			b.Write([]byte{0xFF, 0xFF, 0xFF, 0xFF})
			return
		}
		b.Write(o.AppendUint32(nil, uint32(len(e.value))))
	default:
		b.Write(o.AppendUint16(nil, uint16(len(e.value))))
	}
	b.Write(e.value)
}

func str(s string) []byte {
	if len(s)%2 == 1 {
		s += " "
	}
	return []byte(s)
}

// pixelHeader returns the image pixel description elements (bigEndian: US values
// in big endian) up to Pixel Representation.
func pixelHeader(bigEndian bool, spp, planar int, pi string, frames, rows, cols, ba, bs, pr int) []elem {
	u := us
	if bigEndian {
		u = usBE
	}
	return []elem{
		{0x0028, 0x0002, "US", u(uint16(spp))},
		{0x0028, 0x0004, "CS", str(pi)},
		{0x0028, 0x0006, "US", u(uint16(planar))},
		{0x0028, 0x0008, "IS", str(itoa(frames))},
		{0x0028, 0x0010, "US", u(uint16(rows))},
		{0x0028, 0x0011, "US", u(uint16(cols))},
		{0x0028, 0x0100, "US", u(uint16(ba))},
		{0x0028, 0x0101, "US", u(uint16(bs))},
		{0x0028, 0x0102, "US", u(uint16(bs - 1))},
		{0x0028, 0x0103, "US", u(uint16(pr))},
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var s []byte
	for ; n > 0; n /= 10 {
		s = append([]byte{byte('0' + n%10)}, s...)
	}
	return string(s)
}

func TestNativeFrames(t *testing.T) {
	le := func(vs ...uint16) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint16(b, v)
		}
		return b
	}
	tests := []struct {
		name    string
		ts      string
		be      bool
		head    []elem
		vr      string
		pixels  []byte
		frame   int
		want    []float64
		color   ColorSpace
		wantErr error
	}{
		{"rgb planar 1", dataset.ExplicitVRLittleEndian, false, pixelHeader(false, 3, 1, "RGB", 1, 1, 2, 8, 8, 0), "OB",
			[]byte{1, 2, 3, 4, 5, 6}, 0, []float64{1, 3, 5, 2, 4, 6}, RGB, nil},
		{"ybr 422 expanded", dataset.ExplicitVRLittleEndian, false, pixelHeader(false, 3, 0, "YBR_FULL_422", 1, 1, 2, 8, 8, 0), "OB",
			[]byte{10, 20, 100, 200}, 0, []float64{10, 100, 200, 20, 100, 200}, YBRFull, nil},
		{"signed 12 bit with junk above high bit", dataset.ExplicitVRLittleEndian, false, pixelHeader(false, 1, 0, "MONOCHROME2", 1, 1, 3, 16, 12, 1), "OW",
			le(0xF800, 0x07FF, 0xAFFF), 0, []float64{-2048, 2047, -1}, Monochrome, nil},
		{"unsigned 10 bit masked", dataset.ExplicitVRLittleEndian, false, pixelHeader(false, 1, 0, "MONOCHROME1", 1, 1, 2, 16, 10, 0), "OW",
			le(0xFC01, 0x03FF), 0, []float64{1, 1023}, Monochrome, nil},
		{"8 bit OW big endian swapped", dataset.ExplicitVRBigEndian, true, pixelHeader(true, 1, 0, "MONOCHROME2", 2, 1, 3, 8, 8, 0), "OW",
			[]byte{2, 1, 4, 3, 6, 5}, 1, []float64{4, 5, 6}, Monochrome, nil},
		{"16 bit big endian", dataset.ExplicitVRBigEndian, true, pixelHeader(true, 1, 0, "MONOCHROME2", 1, 1, 2, 16, 16, 1), "OW",
			[]byte{0xFF, 0xFE, 0x01, 0x02}, 0, []float64{-2, 258}, Monochrome, nil},
		{"1 bit frame off a byte boundary", dataset.ExplicitVRLittleEndian, false, pixelHeader(false, 1, 0, "MONOCHROME2", 3, 1, 3, 1, 1, 0), "OB",
			[]byte{0b1_011_010_0, 0b0}, 1, []float64{0, 1, 1}, Monochrome, nil},
		{"longer than needed", dataset.ExplicitVRLittleEndian, false, pixelHeader(false, 1, 0, "MONOCHROME2", 1, 1, 2, 8, 8, 0), "OB",
			[]byte{7, 8, 9, 10}, 0, []float64{7, 8}, Monochrome, nil},
		{"truncated", dataset.ExplicitVRLittleEndian, false, pixelHeader(false, 1, 0, "MONOCHROME2", 2, 2, 2, 16, 16, 0), "OW",
			le(1, 2, 3, 4, 5, 6), 0, nil, Monochrome, ErrTruncated},
		{"frame out of range", dataset.ExplicitVRLittleEndian, false, pixelHeader(false, 1, 0, "MONOCHROME2", 2, 1, 1, 8, 8, 0), "OB",
			[]byte{1, 2}, 2, nil, Monochrome, ErrFrameRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			elems := append(tt.head, elem{0x7FE0, 0x0010, tt.vr, tt.pixels})
			b := synthFile(tt.ts, tt.be, elems)
			file, err := dataset.Parse(bytes.NewReader(b), int64(len(b)), tt.name)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			im, err := NewImage(file)
			if err != nil {
				t.Fatalf("NewImage: %v", err)
			}
			f, err := im.Frame(tt.frame)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Frame: %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Frame: %v", err)
			}
			if got := frameValues(f); !equalF(got, tt.want) || f.Color != tt.color {
				t.Fatalf("got %v %v, want %v %v", got, f.Color, tt.want, tt.color)
			}
		})
	}
}

func equalF(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

func TestEncapsulatedFrameMapping(t *testing.T) {
	soi := func(n int) []byte { return append([]byte{0xFF, 0xD8}, make([]byte, n)...) }
	cont := func(n int) []byte { return append([]byte{0x00, 0x11}, make([]byte, n)...) }
	item := func(v []byte) []byte {
		b := []byte{0xFE, 0xFF, 0x00, 0xE0}
		b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
		return append(b, v...)
	}
	bot := func(offs ...uint32) []byte {
		var b []byte
		for _, o := range offs {
			b = binary.LittleEndian.AppendUint32(b, o)
		}
		return b
	}
	tests := []struct {
		name    string
		frames  int
		table   []byte
		frags   [][]byte
		want    [][2]int // [from, to) per frame
		wantErr bool
	}{
		{"one fragment per frame", 2, nil, [][]byte{soi(2), soi(4)}, [][2]int{{0, 1}, {1, 2}}, false},
		{"offset table", 2, bot(0, 24), [][]byte{soi(2), cont(2), soi(4)}, [][2]int{{0, 2}, {2, 3}}, false},
		{"scan for SOI", 2, nil, [][]byte{soi(2), cont(2), soi(4), cont(0)}, [][2]int{{0, 2}, {2, 4}}, false},
		{"single frame takes all", 1, nil, [][]byte{soi(2), cont(2)}, [][2]int{{0, 2}}, false},
		{"offsets off fragment starts", 2, bot(0, 5), [][]byte{soi(2), cont(2), soi(4)}, nil, true},
		{"too few code streams", 3, nil, [][]byte{soi(2), cont(2), soi(4), cont(0)}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var px []byte
			px = append(px, item(tt.table)...)
			for _, f := range tt.frags {
				px = append(px, item(f)...)
			}
			px = append(px, 0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0)
			elems := append(pixelHeader(false, 1, 0, "MONOCHROME2", tt.frames, 8, 8, 8, 8, 0), elem{0x7FE0, 0x0010, "OB", nil})
			b := append(synthFile(dataset.JPEGBaseline, false, elems), px...)
			file, err := dataset.Parse(bytes.NewReader(b), int64(len(b)), tt.name)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			im, err := NewImage(file)
			if err != nil {
				t.Fatal(err)
			}
			for n := 0; n < tt.frames; n++ {
				from, to, err := im.frameFragments(n, markerJPEG)
				if tt.wantErr {
					if err == nil {
						t.Fatalf("frame %d: fragments [%d,%d), want an error", n, from, to)
					}
					return
				}
				if err != nil {
					t.Fatalf("frame %d: %v", n, err)
				}
				if [2]int{from, to} != tt.want[n] {
					t.Errorf("frame %d: fragments [%d,%d), want %v", n, from, to, tt.want[n])
				}
			}
		})
	}
}
