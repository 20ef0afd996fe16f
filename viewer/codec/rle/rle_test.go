package rle

import (
	"encoding/binary"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"teleread/viewer/codec"
	"teleread/viewer/codec/internal/corpus"
)

// TestDCMTK compresses uncompressed corpus files with DCMTK's RLE encoder
// (dcmcrle) and checks that every frame decodes to the original samples.
func TestDCMTK(t *testing.T) {
	dcmcrle := corpus.Tool(t, "dcmcrle", "dcmtk")
	files := filepath.Join(corpus.Dir(t), "files")
	dir := t.TempDir()
	for _, id := range []string{
		"mr_small_explicit_le",    // 16 bit
		"sc_voi_lut_sequence",     // 8 bit, 512x512
		"sc_rgb_explicit_le",      // 8 bit RGB
		"us_rgb_planar1",          // 8 bit RGB, planar configuration 1
		"sc_rgb_16bit",            // 16 bit RGB: 6 segments
		"sc_rgb_32bit",            // 32 bit RGB: 12 segments
		"rtdose_32bit_multiframe", // 32 bit, 15 frames
		"emri_small_enhanced_mr",  // 16 bit, 10 frames
	} {
		t.Run(id, func(t *testing.T) {
			in := filepath.Join(files, id+".dcm")
			want, pi := corpus.NativeFrames(t, in)
			out := filepath.Join(dir, id+".dcm")
			if b, err := exec.Command(dcmcrle, in, out).CombinedOutput(); err != nil {
				t.Fatalf("dcmcrle: %v\n%s", err, b)
			}
			frames, _ := corpus.Frames(t, out, startsRLE)
			if len(frames) != len(want) {
				t.Fatalf("%d frames, want %d", len(frames), len(want))
			}
			for i, fb := range frames {
				img, err := decodeFrame(fb, pi)
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if !slices.Equal(corpus.Samples(img), want[i]) {
					t.Fatalf("frame %d differs from the original", i)
				}
			}
		})
	}
}

// header builds an RLE header for the given segments and appends them.
func header(segs ...[]byte) []byte {
	b := make([]byte, 64)
	binary.LittleEndian.PutUint32(b, uint32(len(segs)))
	off := 64
	for i, s := range segs {
		binary.LittleEndian.PutUint32(b[4+4*i:], uint32(off))
		off += len(s)
	}
	for _, s := range segs {
		b = append(b, s...)
	}
	return b
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name                  string
		src                   []byte
		rows, cols, spp, bits int
		want                  []uint32
		wantErr               error
	}{
		{name: "literal", src: header([]byte{3, 1, 2, 3, 4}), rows: 2, cols: 2, spp: 1, bits: 8,
			want: []uint32{1, 2, 3, 4}},
		{name: "replicate", src: header([]byte{0xFD, 7}), rows: 1, cols: 4, spp: 1, bits: 8,
			want: []uint32{7, 7, 7, 7}},
		{name: "-128 is a no-op", src: header([]byte{0x80, 0xFF, 9, 0x80, 1, 5, 6}), rows: 1, cols: 4, spp: 1, bits: 8,
			want: []uint32{9, 9, 5, 6}},
		{name: "short segment filled with zeros", src: header([]byte{1, 5, 6}), rows: 1, cols: 4, spp: 1, bits: 8,
			want: []uint32{5, 6, 0, 0}},
		{name: "literal run past the segment end", src: header([]byte{5, 5, 6}), rows: 1, cols: 4, spp: 1, bits: 8,
			want: []uint32{5, 6, 0, 0}},
		{name: "replicate without its byte", src: header([]byte{0, 5, 0xFE}), rows: 1, cols: 4, spp: 1, bits: 8,
			want: []uint32{5, 0, 0, 0}},
		{name: "long segment cut to the plane", src: header([]byte{0xF9, 3, 0, 4}), rows: 1, cols: 4, spp: 1, bits: 8,
			want: []uint32{3, 3, 3, 3}},
		{name: "16 bit, high byte first", src: header([]byte{1, 0x12, 0xAB}, []byte{1, 0x34, 0xCD}), rows: 1, cols: 2, spp: 1, bits: 16,
			want: []uint32{0x1234, 0xABCD}},
		{name: "RGB interleaved", src: header([]byte{1, 1, 2}, []byte{1, 3, 4}, []byte{1, 5, 6}), rows: 1, cols: 2, spp: 3, bits: 8,
			want: []uint32{1, 3, 5, 2, 4, 6}},
		{name: "32 bit", src: header([]byte{0, 0x12}, []byte{0, 0x34}, []byte{0, 0x56}, []byte{0, 0x78}), rows: 1, cols: 1, spp: 1, bits: 32,
			want: []uint32{0x12345678}},
		{name: "16 bit RGB", src: header([]byte{0, 1}, []byte{0, 2}, []byte{0, 3}, []byte{0, 4}, []byte{0, 5}, []byte{0, 6}), rows: 1, cols: 1, spp: 3, bits: 16,
			want: []uint32{0x0102, 0x0304, 0x0506}},
		{name: "extra segments ignored", src: header([]byte{0, 1}, []byte{0, 2}), rows: 1, cols: 1, spp: 1, bits: 8,
			want: []uint32{1}},
		{name: "extra segment with a bogus offset", src: func() []byte {
			b := header([]byte{1, 1, 2}, []byte{0, 2})
			binary.LittleEndian.PutUint32(b[8:], 0xFFFFFF)
			return b
		}(), rows: 1, cols: 2, spp: 1, bits: 8, want: []uint32{1, 2}},
		{name: "segment ends at the next declared one", src: header([]byte{0, 1}, []byte{0, 2}), rows: 1, cols: 2, spp: 1, bits: 8,
			want: []uint32{1, 0}},

		{name: "too few segments", src: header([]byte{0, 1}), rows: 1, cols: 1, spp: 3, bits: 8, wantErr: codec.ErrCorrupt},
		{name: "no segments", src: header(), rows: 1, cols: 1, spp: 1, bits: 8, wantErr: codec.ErrCorrupt},
		{name: "16 segments", src: func() []byte { b := header([]byte{0, 1}); b[0] = 16; return b }(), rows: 1, cols: 1, spp: 1, bits: 8, wantErr: codec.ErrCorrupt},
		{name: "offset beyond data", src: func() []byte { b := header([]byte{0, 1}); b[4] = 200; return b }(), rows: 1, cols: 1, spp: 1, bits: 8, wantErr: codec.ErrCorrupt},
		{name: "offset inside header", src: func() []byte { b := header([]byte{0, 1}); b[4] = 8; return b }(), rows: 1, cols: 1, spp: 1, bits: 8, wantErr: codec.ErrCorrupt},
		{name: "offsets out of order", src: func() []byte {
			b := header([]byte{0, 1}, []byte{0, 2})
			b[4], b[8] = 66, 64
			return b
		}(), rows: 1, cols: 1, spp: 1, bits: 16, wantErr: codec.ErrCorrupt},
		{name: "short header", src: make([]byte, 63), rows: 1, cols: 1, spp: 1, bits: 8, wantErr: codec.ErrCorrupt},
		{name: "12 bits allocated", src: header([]byte{0, 1}), rows: 1, cols: 1, spp: 1, bits: 12, wantErr: codec.ErrUnsupported},
		{name: "zero rows", src: header([]byte{0, 1}), rows: 0, cols: 1, spp: 1, bits: 8, wantErr: codec.ErrCorrupt},
		{name: "over MaxPixels", src: header([]byte{0, 1}), rows: 1 << 14, cols: 1 << 14, spp: 1, bits: 8, wantErr: codec.ErrCorrupt},
		{name: "segment far too short for the plane", src: header([]byte{0x81, 1}), rows: 100, cols: 100, spp: 1, bits: 8, wantErr: codec.ErrCorrupt},
		{name: "32 bit RGBA needs 16 segments", src: header([]byte{0, 1}), rows: 1, cols: 1, spp: 4, bits: 32, wantErr: codec.ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Decode(tc.src, tc.rows, tc.cols, tc.spp, tc.bits)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("got %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := corpus.Samples(img); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if img.Width != tc.cols || img.Height != tc.rows || img.Components != tc.spp || img.Precision != tc.bits {
				t.Fatalf("image %dx%dx%d P%d", img.Width, img.Height, img.Components, img.Precision)
			}
		})
	}
}

// TestTruncated cuts a real frame at every length: never a panic, and every
// cut that loses header bytes is an error.
func TestTruncated(t *testing.T) {
	frames, pi := corpus.Frames(t, filepath.Join(corpus.Dir(t), "files", "sc_rgb_rle.dcm"), startsRLE)
	src := frames[0]
	last := int(binary.LittleEndian.Uint32(src[4+4*(pi.SamplesPerPixel-1):]))
	for n := range len(src) {
		_, err := decodeFrame(src[:n], pi)
		// A cut before the last segment's offset leaves an offset pointing
		// past the data; cuts inside the last segment decode with zeros, as
		// GDCM does.
		if n < last && !errors.Is(err, codec.ErrCorrupt) {
			t.Fatalf("cut at %d of %d: got %v, want ErrCorrupt", n, len(src), err)
		}
	}
}
