package rle

import (
	"testing"

	"teleread/viewer/codec"
	"teleread/viewer/codec/internal/corpus"
)

// maxFuzzInput caps fuzz inputs; with the segment-length check the output is
// bounded by 64 bytes per input byte and plane.
const maxFuzzInput = 1 << 16

// FuzzDecode takes the image geometry from the first four bytes of the input
// (rows, columns, samples, bytes per sample) so that headers and geometry vary
// together.
func FuzzDecode(f *testing.F) {
	for _, s := range corpus.Streams(f, startsRLE, rleLossless) {
		geom := []byte{byte(s.Rows), byte(s.Columns), byte(s.SamplesPerPixel), byte(s.BitsAllocated / 8)}
		f.Add(append(geom, s.Frames[0]...))
	}
	seed := header([]byte{0x81, 7}, []byte{1, 1, 2})
	f.Add(append([]byte{1, 2, 1, 2}, seed...))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 4 || len(in) > maxFuzzInput {
			return
		}
		rows, cols, spp, bytes := int(in[0]), int(in[1]), int(in[2]%5), int(in[3]%5)
		decode := func(src []byte) (*codec.Image, error) { return Decode(src, rows, cols, spp, 8*bytes) }
		// The promise above: 64 bytes of output per input byte and plane
		// (and 1 MiB of state).
		img := corpus.CheckDecodeBounded(t, in[4:], 1<<20+64*uint64(len(in))*uint64(max(1, spp*bytes)), decode)
		if img != nil && (img.Width != cols || img.Height != rows || img.Components != spp) {
			t.Fatalf("%dx%dx%d image for %dx%dx%d", img.Width, img.Height, img.Components, cols, rows, spp)
		}
	})
}

// BenchmarkDecode decodes each RLE corpus file's frames; frames/s is the figure
// to compare with GDCM (gdcmconv --raw) on the same files.
func BenchmarkDecode(b *testing.B) {
	streams := corpus.Streams(b, startsRLE, rleLossless)
	for _, id := range []string{"mr_small_rle", "sc_rgb_rle"} {
		s, ok := streams[id]
		if !ok {
			b.Fatalf("%s not in the corpus", id)
		}
		b.Run(id, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				for _, fr := range s.Frames {
					if _, err := decodeFrame(fr, s.Info); err != nil {
						b.Fatal(err)
					}
					n++
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}
