package jpeg2000

import (
	"encoding/binary"
	"errors"
	"path/filepath"
	"testing"

	"teleread/viewer/codec"
	"teleread/viewer/codec/internal/corpus"
)

const (
	tsLossless = "1.2.840.10008.1.2.4.90"
	tsLossy    = "1.2.840.10008.1.2.4.91"
)

// TestDecodeCorpus decodes frame 0 of every JPEG 2000 file of the corpus and
// compares it with the reference decode (GDCM): exactly for lossless files,
// within the README's tolerance for lossy ones. Files the corpus marks as
// render errors must fail to decode.
func TestDecodeCorpus(t *testing.T) {
	dir, entries := corpus.Listed(t, tsLossless, tsLossy)
	for _, e := range entries {
		t.Run(e.ID, func(t *testing.T) {
			src, err := corpus.Frame0(filepath.Join(dir, e.File), e.Frames())
			if e.Expectation.Render == "error" {
				if err != nil {
					t.Logf("frame 0 cannot be extracted: %v", err)
					return
				}
				img, err := Decode(src)
				if err == nil {
					t.Fatalf("decoded a %dx%d frame the corpus marks as an error", img.Width, img.Height)
				}
				if !errors.Is(err, codec.ErrCorrupt) {
					t.Errorf("error %v does not wrap codec.ErrCorrupt", err)
				}
				t.Logf("refused: %v", err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			img, err := Decode(src)
			if err != nil {
				t.Fatal(err)
			}
			wantColor := map[string]codec.ColorSpace{"RGB": codec.ColorRGB, "MONOCHROME": codec.ColorUnknown}[e.Reference.DecodedColorSpace]
			if img.ColorSpace != wantColor {
				t.Errorf("colour space %v, want %v (%s)", img.ColorSpace, wantColor, e.Reference.DecodedColorSpace)
			}
			corpus.CheckStored(t, dir, &e, img)
		})
	}
}

// TestDecodeDamaged feeds streams that must fail with an error, never crash
// or print.
func TestDecodeDamaged(t *testing.T) {
	dir := corpus.Dir(t)
	src := corpus.FileFrame0(t, dir, "mr_small_j2k_lossless")
	// A main header (SIZ, COD, QCD) claiming 65535x65535 with 4 components:
	// 16 Gi samples, refused before any tile is allocated.
	huge := []byte{0xFF, 0x4F, 0xFF, 0x51, 0x00, 0x32, 0x00, 0x00,
		0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0xFF, 0xFF, // Xsiz, Ysiz
		0, 0, 0, 0, 0, 0, 0, 0, // XOsiz, YOsiz
		0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0xFF, 0xFF, // XTsiz, YTsiz
		0, 0, 0, 0, 0, 0, 0, 0, // XTOsiz, YTOsiz
		0x00, 0x04, 0x0F, 1, 1, 0x0F, 1, 1, 0x0F, 1, 1, 0x0F, 1, 1,
		0xFF, 0x52, 0x00, 0x0C, 0x00, 0x00, 0x00, 0x01, 0x00, 0x05, 0x04, 0x04, 0x00, 0x01, // COD: 5 levels, 5/3
		0xFF, 0x5C, 0x00, 0x13, 0x40, // QCD: no quantisation, 2 guard bits
		0x48, 0x50, 0x50, 0x58, 0x50, 0x50, 0x58, 0x50, 0x50, 0x58, 0x50, 0x50, 0x58, 0x50, 0x50, 0x58,
		0xFF, 0x90, 0x00, 0x0A, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // SOT
		0xFF, 0x93, 0xFF, 0xD9}
	tests := []struct {
		name    string
		src     []byte
		wantErr error
	}{
		{"empty", nil, codec.ErrCorrupt},
		{"not JPEG 2000", []byte("DICM this is not a JPEG 2000 stream"), codec.ErrCorrupt},
		{"SOC SIZ only", src[:4], codec.ErrCorrupt},
		{"cut in the main header", src[:40], codec.ErrCorrupt},
		{"cut in the tile data", src[:len(src)/2], codec.ErrCorrupt},
		{"main header over the size limit", huge, codec.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := Decode(tt.src)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Decode = %v, %v; want error %v", img != nil, err, tt.wantErr)
			}
			t.Logf("%v", err)
		})
	}
}

func TestDecodeHeader(t *testing.T) {
	dir := corpus.Dir(t)
	tests := []struct {
		id   string
		want Header
	}{
		{"mr_small_j2k_lossless", Header{Width: 64, Height: 64, Components: 1, Precision: 16, Signed: true}},
		{"us1_j2k_lossless_ybr_rct", Header{Width: 640, Height: 480, Components: 3, Precision: 8, MCT: true}},
		{"dx_j2k_lossless_16bit", Header{Width: 1420, Height: 1416, Components: 1, Precision: 16}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			h, err := DecodeHeader(corpus.FileFrame0(t, dir, tt.id))
			if err != nil {
				t.Fatal(err)
			}
			if h != tt.want {
				t.Errorf("header %+v, want %+v", h, tt.want)
			}
		})
	}
}

// TestDecodeJP2 checks that a JP2-wrapped code stream, which some encoders put
// in DICOM although the standard wants a raw one, decodes like the raw stream.
func TestDecodeJP2(t *testing.T) {
	dir, entries := corpus.Listed(t, tsLossless)
	e := corpus.Lookup(t, entries, "mr_small_j2k_lossless")
	src := corpus.EntryFrame0(t, dir, e)
	box := func(typ string, body ...[]byte) []byte {
		n := 8
		for _, b := range body {
			n += len(b)
		}
		out := binary.BigEndian.AppendUint32(nil, uint32(n))
		out = append(out, typ...)
		for _, b := range body {
			out = append(out, b...)
		}
		return out
	}
	ihdr := binary.BigEndian.AppendUint32(nil, 64) // height
	ihdr = binary.BigEndian.AppendUint32(ihdr, 64) // width
	ihdr = append(ihdr, 0, 1, 0x80|15, 7, 0, 0)    // 1 component, signed 16 bits, wavelet, known colour space, no IPR
	colr := []byte{1, 0, 0, 0, 0, 0, 17}           // enumerated colour space: greyscale
	ftyp := append([]byte("jp2 "), 0, 0, 0, 0, 'j', 'p', '2', ' ')
	var jp2 []byte
	jp2 = append(jp2, jp2Signature...)
	jp2 = append(jp2, box("ftyp", ftyp)...)
	jp2 = append(jp2, box("jp2h", box("ihdr", ihdr), box("colr", colr))...)
	jp2 = append(jp2, box("jp2c", src)...)

	h, err := DecodeHeader(jp2)
	if err != nil {
		t.Fatal(err)
	}
	if !h.JP2 {
		t.Error("header does not say JP2")
	}
	img, err := Decode(jp2)
	if err != nil {
		t.Fatal(err)
	}
	corpus.CheckStored(t, dir, e, img)
}
