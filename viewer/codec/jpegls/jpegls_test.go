package jpegls

import (
	"errors"
	"testing"

	"teleread/viewer/codec"
	"teleread/viewer/codec/internal/corpus"
)

const (
	tsLossless     = "1.2.840.10008.1.2.4.80"
	tsNearLossless = "1.2.840.10008.1.2.4.81"
)

// TestDecodeCorpus decodes frame 0 of every JPEG-LS file of the corpus and
// compares it bit for bit with the reference (JPEG-LS near-lossless decoding
// is deterministic, so it is exact too).
func TestDecodeCorpus(t *testing.T) {
	dir, entries := corpus.Listed(t, tsLossless, tsNearLossless)
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
			if img.ColorSpace != codec.ColorUnknown {
				t.Errorf("colour space %v for a stream without colour transform", img.ColorSpace)
			}
			corpus.CheckStored(t, dir, &e, img)
		})
	}
}

func TestDecodeHeader(t *testing.T) {
	dir, entries := corpus.Listed(t, tsLossless, tsNearLossless)
	tests := []struct {
		id   string
		want Header
	}{
		{"rgb_jpegls_ilv0", Header{Width: 256, Height: 256, Components: 3, Precision: 8, InterleaveMode: 0}},
		{"rgb_jpegls_ilv1", Header{Width: 256, Height: 256, Components: 3, Precision: 8, InterleaveMode: 1}},
		{"sc_rgb_jpegls_ilv2", Header{Width: 256, Height: 256, Components: 3, Precision: 8, InterleaveMode: 2}},
		{"sc_jpegls_7bit", Header{Width: 128, Height: 128, Components: 1, Precision: 7}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			e := corpus.Lookup(t, entries, tt.id)
			h, err := DecodeHeader(corpus.EntryFrame0(t, dir, e))
			if err != nil {
				t.Fatal(err)
			}
			if h != tt.want {
				t.Errorf("header %+v, want %+v", h, tt.want)
			}
		})
	}
	near := corpus.FileFrame0(t, dir, "ct2_jpegls_near_lossless")
	if h, err := DecodeHeader(near); err != nil || h.NearLossless == 0 {
		t.Errorf("near-lossless stream: header %+v, %v; want NEAR > 0", h, err)
	}
}

// TestDecodeDamaged feeds streams that must fail with an error, never crash.
func TestDecodeDamaged(t *testing.T) {
	dir := corpus.Dir(t)
	src := corpus.FileFrame0(t, dir, "ct2_jpegls_near_lossless")
	// SOI, SOF55 claiming 65535x65535 with 4 components of 16 bits, SOS, EOI.
	huge := []byte{0xFF, 0xD8, 0xFF, 0xF7, 0x00, 0x14, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x04,
		1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 4, 0x11, 0,
		0xFF, 0xDA, 0x00, 0x0E, 0x04, 1, 0, 2, 0, 3, 0, 4, 0, 0, 2, 0, 0xFF, 0xD9}
	tests := []struct {
		name    string
		src     []byte
		wantErr error
	}{
		{"empty", nil, codec.ErrCorrupt},
		{"not JPEG-LS", []byte("DICM this is not a JPEG-LS stream"), codec.ErrCorrupt},
		{"cut in the header", src[:20], codec.ErrCorrupt},
		// CharLS 2.4.1 took 11-33 s to fail on these before the EOI check.
		{"cut in the scan", src[:len(src)/2], codec.ErrCorrupt},
		{"cut near the start of the scan", src[:len(src)/10], codec.ErrCorrupt},
		{"cut in the scan, EOI appended", append(append([]byte(nil), src[:len(src)/2]...), 0xFF, 0xD9), codec.ErrCorrupt},
		{"valid stream with zero padding", append(append([]byte(nil), src...), 0), nil},
		{"frame header over the size limit", huge, codec.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := Decode(tt.src)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Decode = %v, %v; want error %v", img != nil, err, tt.wantErr)
			}
		})
	}
}

// TestEndsWithEOI checks the truncation test on the ends of fragments as
// encoders pad them (PS3.5 A.4: to an even length with one byte).
func TestEndsWithEOI(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want bool
	}{
		{"EOI", []byte{0xFF, 0xD8, 0x01, 0xFF, 0xD9}, true},
		{"EOI, zero pad", []byte{0xFF, 0xD8, 0x01, 0xFF, 0xD9, 0x00}, true},
		{"EOI, FF fill", []byte{0xFF, 0xD8, 0xFF, 0xD9, 0xFF, 0xFF}, true},
		// Orthanc 1.10 pads the odd-length streams it transcodes with any byte.
		{"EOI, non-zero pad to even", []byte{0xFF, 0xD8, 0x01, 0xFF, 0xD9, 0x0E}, true},
		{"EOI, one byte to odd", []byte{0xFF, 0xD8, 0x01, 0x02, 0xFF, 0xD9, 0x0E}, false},
		{"EOI, two bytes after", []byte{0xFF, 0xD8, 0xFF, 0xD9, 0x0E, 0x0E}, false},
		{"no EOI", []byte{0xFF, 0xD8, 0x01, 0x02, 0x03, 0x04}, false},
		{"too short", []byte{0xD9, 0x0E}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := endsWithEOI(tt.b); got != tt.want {
				t.Errorf("endsWithEOI(% x) = %v, want %v", tt.b, got, tt.want)
			}
		})
	}
}

// TestDecodeInto decodes frame 0 of every JPEG-LS corpus file into memory the
// caller hands out, filled with junk first: the image must be the reference
// (CharLS writes every sample), its samples must be that memory (no copy),
// and the planes of a stream coded without interleaving must be handed back.
// Memory of the wrong size is an error, not a crash.
func TestDecodeInto(t *testing.T) {
	dir, entries := corpus.Listed(t, tsLossless, tsNearLossless)
	sawPlanar := false
	for _, e := range entries {
		if e.Expectation.Render == "error" {
			continue
		}
		t.Run(e.ID, func(t *testing.T) {
			src := corpus.EntryFrame0(t, dir, &e)
			var given8 [][]uint8
			var given16 [][]uint16
			var done8 [][]uint8
			var done16 [][]uint16
			mem := Memory{
				U8: func(n int) []uint8 {
					s := make([]uint8, n)
					for i := range s {
						s[i] = 0xA5
					}
					given8 = append(given8, s)
					return s
				},
				U16: func(n int) []uint16 {
					s := make([]uint16, n)
					for i := range s {
						s[i] = 0xA5A5
					}
					given16 = append(given16, s)
					return s
				},
				DoneU8:  func(s []uint8) { done8 = append(done8, s) },
				DoneU16: func(s []uint16) { done16 = append(done16, s) },
			}
			img, err := DecodeInto(src, mem)
			if err != nil {
				t.Fatal(err)
			}
			corpus.CheckStored(t, dir, &e, img)
			h, err := DecodeHeader(src)
			if err != nil {
				t.Fatal(err)
			}
			planar := h.Components > 1 && h.InterleaveMode == 0
			sawPlanar = sawPlanar || planar
			wantGiven, wantDone := 1, 0
			if planar {
				wantGiven, wantDone = 2, 1
			}
			if img.U8 != nil {
				if len(given8) != wantGiven || len(done8) != wantDone || &img.U8[0] != &given8[len(given8)-1][0] ||
					planar && &done8[0][0] != &given8[0][0] {
					t.Errorf("%d buffers handed out, %d back; the image's samples are not the last one handed out, or the planes not the first", len(given8), len(done8))
				}
			} else if len(given16) != wantGiven || len(done16) != wantDone || &img.U16[0] != &given16[len(given16)-1][0] ||
				planar && &done16[0][0] != &given16[0][0] {
				t.Errorf("%d buffers handed out, %d back; the image's samples are not the last one handed out, or the planes not the first", len(given16), len(done16))
			}
			short := Memory{U8: func(n int) []uint8 { return make([]uint8, n-1) }, U16: func(n int) []uint16 { return make([]uint16, n-1) }}
			if _, err := DecodeInto(src, short); err == nil {
				t.Error("decoded into memory one sample short")
			}
		})
	}
	if !sawPlanar {
		t.Error("no corpus stream coded without interleaving")
	}
}
