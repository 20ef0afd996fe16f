package jpegls

import (
	"bytes"
	"path/filepath"
	"slices"
	"testing"
	"unsafe"

	"teleread/viewer/codec/internal/corpus"
)

// wholePlanes decodes src with one CharLS decoder, as CharLS lays a stream
// without interleaving out (plane after plane), never scan by scan.
func wholePlanes(src []byte) (Header, []uint16, []uint8, bool) {
	d, err := open(src)
	if err != nil {
		return Header{}, nil, nil, false
	}
	defer d.close()
	h := d.h
	n := h.Width * h.Height * h.Components
	if h.Width <= 0 || h.Height <= 0 || h.Components <= 0 || n > 4<<20 {
		return h, nil, nil, false
	}
	if h.Precision <= 8 {
		out := make([]uint8, n)
		return h, nil, out, d.decode(unsafe.Pointer(unsafe.SliceData(out)), n) == nil
	}
	out := make([]uint16, n)
	return h, out, nil, d.decode(unsafe.Pointer(unsafe.SliceData(out)), 2*n) == nil
}

// checkScans asserts what decoding scan by scan promises: when the splitter
// accepts src and every scan decodes, the whole stream decodes too, to the
// same samples. It reports whether src was decoded scan by scan.
func checkScans(t *testing.T, src []byte) bool {
	t.Helper()
	streams := scanStreams(src)
	if streams == nil {
		return false
	}
	h, whole16, whole8, wholeOK := wholePlanes(src)
	if h.Width <= 0 || h.Height <= 0 || h.Components != len(streams) || h.Width*h.Height*h.Components > 4<<20 {
		if h.Components != len(streams) && wholeOK {
			t.Fatalf("%d streams for %d components", len(streams), h.Components)
		}
		return false
	}
	var ok bool
	var scans16 []uint16
	var scans8 []uint8
	if h.Precision <= 8 {
		scans8 = make([]uint8, len(whole8)+len(whole16))
		ok = decodeScans(streams, h, scans8)
	} else {
		scans16 = make([]uint16, len(whole8)+len(whole16))
		ok = decodeScans(streams, h, scans16)
	}
	if !ok {
		return false
	}
	if !wholeOK {
		t.Fatalf("every scan decoded on its own, the whole stream did not")
	}
	if !slices.Equal(scans8, whole8) || !slices.Equal(scans16, whole16) {
		t.Fatalf("scan by scan and whole decodes differ")
	}
	return true
}

// TestScanStreams decodes the corpus streams coded without interleaving scan
// by scan and whole, and checks that the splitter refuses what it must leave
// to CharLS: interleaved streams, scans out of the frame header's order,
// subsampled components, damaged marker segments.
func TestScanStreams(t *testing.T) {
	dir, entries := corpus.Listed(t, tsLossless, tsNearLossless)
	planar := 0
	for _, e := range entries {
		if e.Expectation.Render == "error" {
			continue
		}
		src := corpus.EntryFrame0(t, dir, &e)
		h, err := DecodeHeader(src)
		if err != nil {
			t.Fatalf("%s: %v", e.ID, err)
		}
		want := h.Components > 1 && h.InterleaveMode == 0
		if got := checkScans(t, src); got != want {
			t.Errorf("%s (%d components, interleave mode %d): decoded scan by scan %v, want %v", e.ID, h.Components, h.InterleaveMode, got, want)
		}
		if want {
			planar++
		}
	}
	if planar == 0 {
		t.Fatal("no corpus stream coded without interleaving")
	}

	src := corpus.FileFrame0(t, dir, "rgb_jpegls_ilv0")
	sos := func(k int) int { // offset of the k-th SOS marker
		at := -1
		for i := 0; i+1 < len(src) && k >= 0; i++ {
			if src[i] == 0xFF && src[i+1] == 0xDA {
				at, k = i, k-1
			}
		}
		return at
	}
	sof := bytes.Index(src, []byte{0xFF, 0xF7})
	swapped := func() []byte { // the first two scans exchanged
		s0, s1, s2 := sos(0), sos(1), sos(2)
		out := slices.Clone(src[:s0])
		out = append(out, src[s1:s2]...)
		out = append(out, src[s0:s1]...)
		return append(out, src[s2:]...)
	}
	edit := func(at int, b ...byte) []byte {
		out := slices.Clone(src)
		copy(out[at:], b)
		return out
	}
	tests := []struct {
		name string
		src  []byte
	}{
		{"interleaved", corpus.FileFrame0(t, dir, "sc_rgb_jpegls_ilv2")},
		{"scans out of order", swapped()},
		{"subsampled component", edit(sof+11, 0x21)},
		{"scan for two components", edit(sos(1)+4, 2)},
		{"scan header of the wrong length", edit(sos(1)+2, 0, 9)},
		{"segment running past the end", edit(sof+2, 0xFF, 0xF0)},
		{"cut in the last scan", src[:len(src)-40]},
		{"no SOI", src[2:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scanStreams(tt.src); got != nil {
				t.Errorf("split into %d streams, want none", len(got))
			}
		})
	}
}

// FuzzScanStreams asserts, on any input the splitter accepts, that decoding
// scan by scan gives what CharLS gives for the whole stream, and that it
// never succeeds where the whole decode fails.
func FuzzScanStreams(f *testing.F) {
	dir := corpus.Dir(f)
	for _, e := range corpus.Entries(f, dir, tsLossless, tsNearLossless) {
		if src, err := corpus.Frame0(filepath.Join(dir, e.File), e.Frames()); err == nil && len(src) <= 1<<20 {
			f.Add(src)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > 1<<20 {
			return
		}
		checkScans(t, src)
	})
}
