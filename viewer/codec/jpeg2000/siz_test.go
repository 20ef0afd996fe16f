package jpeg2000

import (
	"encoding/binary"
	"errors"
	"testing"

	"teleread/internal/allocs"
	"teleread/viewer/codec"
	"teleread/viewer/codec/internal/corpus"
	"teleread/viewer/dataset/hostiletest"
)

// TestSIZ: what the main header declares is read in Go, and Check refuses
// what the DICOM header does not say, before OpenJPEG allocates: a 664-byte
// stream of 16 components of 255x255 in 1x1 tiles took 1.7 GB in 5.6 s.
func TestSIZ(t *testing.T) {
	grey8 := codec.Expect{Width: 8, Height: 8, Components: 1}
	tests := []struct {
		name    string
		src     []byte
		want    codec.Expect
		wantErr error
	}{
		{"agrees", hostiletest.J2K(8, 8, 1, 8, 8), grey8, nil},
		{"16 components 1x1 tiles", hostiletest.J2K(255, 255, 16, 1, 1), codec.Expect{Width: 255, Height: 255, Components: 16}, codec.ErrMismatch},
		{"16384 components", hostiletest.J2K(255, 255, 16384, 1, 1), grey8, codec.ErrMismatch},
		{"60000x60000", hostiletest.J2K(60000, 60000, 1, 60000, 60000), grey8, codec.ErrMismatch},
		{"65025 tiles", hostiletest.J2K(255, 255, 1, 1, 1), codec.Expect{Width: 255, Height: 255, Components: 1}, codec.ErrMismatch},
		{"no SIZ", []byte{0xFF, 0x4F, 0xFF, 0x90, 0, 10}, grey8, codec.ErrCorrupt},
		{"SIZ length past the end", hostiletest.J2K(8, 8, 1, 8, 8)[:30], grey8, codec.ErrCorrupt},
		{"zero tile width", hostiletest.J2K(8, 8, 1, 0, 8), grey8, codec.ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := SIZ(tt.src)
			if err == nil {
				err = h.Check(tt.want)
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("got %v, want %v", err, tt.wantErr)
			}
		})
	}
	// Decode itself refuses the tiles before OpenJPEG reads the header.
	if _, err := Decode(hostiletest.J2K(255, 255, 16, 1, 1)); !errors.Is(err, codec.ErrCorrupt) {
		t.Errorf("Decode of 65025 tiles: %v", err)
	}
}

// TestSIZCorpus: the SIZ read in Go says what OpenJPEG's header says, for
// every JPEG 2000 file of the corpus.
func TestSIZCorpus(t *testing.T) {
	dir, entries := corpus.Listed(t, tsLossless, tsLossy)
	for _, e := range entries {
		if e.Expectation.Render == "error" {
			continue
		}
		src, err := corpus.Frame0(dir+"/"+e.File, e.Frames())
		if err != nil {
			t.Fatal(err)
		}
		got, err := SIZ(src)
		if err != nil {
			t.Errorf("%s: %v", e.ID, err)
			continue
		}
		want, err := DecodeHeader(src)
		if err != nil {
			t.Fatalf("%s: %v", e.ID, err)
		}
		if got.Width != want.Width || got.Height != want.Height || got.Components != want.Components || got.Tiles < 1 || got.Tiles > codec.MaxTiles {
			t.Errorf("%s: SIZ %+v, OpenJPEG %+v", e.ID, got, want)
		}
	}
}

// FuzzStreamHeaders covers the code stream header checks that stand before
// the decoders (SIZ for JPEG 2000, the frame header for JPEG and JPEG-LS): no
// input crashes them, each allocates at most a few small error values
// whatever the input declares, and a header that passes Check is within the
// limits the decoders are promised.
func FuzzStreamHeaders(f *testing.F) {
	f.Add(hostiletest.J2K(8, 8, 1, 8, 8), uint16(8), uint16(8), uint8(1))
	f.Add(hostiletest.J2K(255, 255, 16384, 1, 1), uint16(255), uint16(255), uint8(1))
	f.Add(hostiletest.JPEGSOF(0xC0, 8, 8, 3, 8), uint16(8), uint16(8), uint8(3))
	f.Add(hostiletest.JPEGSOF(0xF7, 65535, 65535, 1, 16), uint16(65535), uint16(65535), uint8(1))
	dir, entries := corpus.Listed(f, tsLossless, tsLossy)
	for _, e := range entries {
		if src, err := corpus.Frame0(dir+"/"+e.File, e.Frames()); err == nil && len(src) < 1<<16 {
			f.Add(src, uint16(e.DICOM.Columns), uint16(e.DICOM.Rows), uint8(e.DICOM.SamplesPerPixel))
		}
	}
	f.Fuzz(func(t *testing.T, src []byte, w, h uint16, c uint8) {
		want := codec.Expect{Width: int(w), Height: int(h), Components: int(c)}
		for _, read := range []func([]byte) (codec.StreamHeader, error){SIZ, codec.JPEGHeader} {
			var hd codec.StreamHeader
			var err error
			if n, over := allocs.Objects(16, func() {
				if hd, err = read(src); err == nil {
					err = hd.Check(want)
				}
			}); over {
				t.Fatalf("%d allocations for a %d-byte stream", n, len(src))
			}
			if err == nil && (hd.Tiles > codec.MaxTiles || uint64(hd.Width)*uint64(hd.Height)*uint64(hd.Components) > codec.MaxPixels ||
				hd.Width != want.Width || hd.Height != want.Height || hd.Components != want.Components) {
				t.Fatalf("accepted %+v for %+v", hd, want)
			}
		}
	})
}

// TestJP2CodeStream: the SIZ of a JP2-wrapped stream is found in its jp2c box.
func TestJP2CodeStream(t *testing.T) {
	cs := hostiletest.J2K(8, 8, 1, 8, 8)
	jp2 := append([]byte{}, jp2Signature...)
	jp2 = binary.BigEndian.AppendUint32(jp2, uint32(8+len(cs)))
	jp2 = append(append(jp2, "jp2c"...), cs...)
	h, err := SIZ(jp2)
	if err != nil || h.Width != 8 || h.Height != 8 || h.Components != 1 {
		t.Errorf("got %+v, %v", h, err)
	}
}
