package jpeg

import (
	"bytes"
	"errors"
	"testing"

	"teleread/internal/allocs"
	"teleread/viewer/codec"
	"teleread/viewer/codec/internal/corpus"
	"teleread/viewer/dataset/hostiletest"
)

const (
	tsBaseline = "1.2.840.10008.1.2.4.50"
	tsExtended = "1.2.840.10008.1.2.4.51"
)

// TestDecodeCorpus decodes frame 0 of every JPEG baseline/extended file of the
// corpus and compares it with the reference decode (GDCM). The references are
// lossy-process outputs, but libjpeg-family decoders with default settings
// reproduce them exactly, so any difference is reported; the README's
// tolerance decides pass or fail.
func TestDecodeCorpus(t *testing.T) {
	dir, entries := corpus.Listed(t, tsBaseline, tsExtended)
	for _, e := range entries {
		t.Run(e.ID, func(t *testing.T) {
			src := corpus.EntryFrame0(t, dir, &e)
			img, err := Decode(src)
			if e.Expectation.Render == "error" {
				if err == nil {
					t.Fatal("decoded a file the corpus marks as an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkAgainstReference(t, dir, &e, img)
		})
	}
}

func checkAgainstReference(t *testing.T, dir string, e *corpus.Entry, img *codec.Image) {
	t.Helper()
	wantColor := map[string]codec.ColorSpace{"RGB": codec.ColorRGB, "YBR_FULL": codec.ColorYBRFull, "MONOCHROME": codec.ColorUnknown}[e.Reference.DecodedColorSpace]
	if img.ColorSpace != wantColor {
		t.Errorf("colour space %v, want %v (%s)", img.ColorSpace, wantColor, e.Reference.DecodedColorSpace)
	}
	corpus.CheckStored(t, dir, e, img)
}

// TestDecodeDamaged feeds streams that must fail with an error, never crash,
// print, or come back as a grey-filled image.
func TestDecodeDamaged(t *testing.T) {
	dir := corpus.Dir(t)
	base := corpus.FileFrame0(t, dir, "sc_jpeg_baseline_ybr_full")
	ext := corpus.FileFrame0(t, dir, "nm1_jpeg_extended_fixed")
	// A frame header claiming 65535x65535 with 4 components: 16 Gi samples.
	huge := []byte{0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x14, 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0x04,
		1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 4, 0x11, 0, 0xFF, 0xD9}
	lossless := append([]byte(nil), base...)
	if i := sofOffset(t, lossless); i >= 0 {
		lossless[i] = 0xC3
	}
	tests := []struct {
		name    string
		src     []byte
		wantErr error
	}{
		{"empty", nil, codec.ErrCorrupt},
		{"not JPEG", []byte("DICM this is not a JPEG stream"), codec.ErrCorrupt},
		{"SOI only", []byte{0xFF, 0xD8}, codec.ErrCorrupt},
		{"baseline cut in the header", base[:100], codec.ErrCorrupt},
		{"baseline cut in the scan", base[:len(base)*2/3], codec.ErrCorrupt},
		{"extended cut in the scan", ext[:len(ext)/2], codec.ErrCorrupt},
		{"frame header over the size limit", huge, codec.ErrUnsupported},
		{"lossless process", lossless, codec.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := Decode(tt.src)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Decode = %v, %v; want error %v", img != nil, err, tt.wantErr)
			}
		})
	}
}

func sofOffset(t *testing.T, b []byte) int {
	t.Helper()
	for i := 0; i+1 < len(b); i++ {
		if b[i] == 0xFF && (b[i+1] == 0xC0 || b[i+1] == 0xC1) {
			return i + 1
		}
	}
	t.Fatal("no SOF0/SOF1 marker")
	return -1
}

func TestDecodeHeader(t *testing.T) {
	dir, entries := corpus.Listed(t, tsBaseline, tsExtended)
	for _, e := range entries {
		t.Run(e.ID, func(t *testing.T) {
			src := corpus.EntryFrame0(t, dir, &e)
			h, err := DecodeHeader(src)
			if err != nil {
				t.Fatal(err)
			}
			if h.Width != e.DICOM.Columns || h.Height != e.DICOM.Rows || h.Components != e.DICOM.SamplesPerPixel {
				t.Errorf("header %+v, want %dx%dx%d", h, e.DICOM.Columns, e.DICOM.Rows, e.DICOM.SamplesPerPixel)
			}
		})
	}
}

// TestFrameHeaderAgreesWithCheck: the decoder allocates its output from the
// frame header it finds, and the viewer checks the one codec.JPEGHeader
// finds against the DICOM header, so the two must be the same. The fuzzer
// found a 71-byte stream whose SOF55 the check read while the decoder skipped
// it and allocated 3.2 MB for the SOF0 behind it; a RST0 before the frame
// header was likewise read with a length by one walk and not the other.
func TestFrameHeaderAgreesWithCheck(t *testing.T) {
	sof := func(m byte, w, h uint16, comps byte) []byte {
		b := hostiletest.JPEGSOF(m, w, h, comps, 8)
		return b[2 : len(b)-2] // without SOI and EOI
	}
	soi := []byte{0xFF, 0xD8}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name string
		src  []byte
	}{
		{"SOF55 then SOF0", cat(soi, sof(0xF7, 8, 8, 1), sof(0xC0, 48, 22576, 3))},
		{"fuzzer's find", []byte("\xff\xd8\xff\xf7\x0000000000000000000100000000000000000000000000000\xff\xc0\x00\x11\bX0\x000\x03000000000")},
		{"RST0 before SOF0", cat(soi, []byte{0xFF, 0xD0}, sof(0xC0, 8, 8, 1))},
		{"TEM, then a segment a length read would skip into", cat(soi, []byte{0xFF, 0x01, 0x00, 0x08}, sof(0xC0, 16, 16, 1))},
		{"FF00 before the frame header", cat(soi, []byte{0xFF, 0x00, 0x00, 0x04}, sof(0xC0, 8, 8, 1))},
		{"plain SOF0", cat(soi, sof(0xC0, 8, 8, 3))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check, cerr := codec.JPEGHeader(tt.src)
			dec, derr := DecodeHeader(tt.src)
			if (cerr == nil) != (derr == nil) || cerr == nil && (check.Width != dec.Width || check.Height != dec.Height || check.Components != dec.Components) {
				t.Errorf("check reads %+v (%v), decoder %+v (%v)", check, cerr, dec, derr)
			}
			if cerr != nil {
				// Refused by the check: the decoder must not allocate a
				// frame from it either.
				if got, over := allocs.Bytes(64<<10, func() { Decode(tt.src) }); over {
					t.Errorf("decode of a stream the check refuses allocated %d bytes", got)
				}
			}
		})
	}
}
