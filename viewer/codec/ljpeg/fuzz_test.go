package ljpeg

import (
	"testing"

	"teleread/viewer/codec/internal/corpus"
)

// maxFuzzInput caps fuzz inputs (the decoder's allocation is bounded by 16
// bytes of output per input byte); large inputs also slow the fuzzer's
// mutator to a crawl, so corpus frames are seeded by their first seedPrefix
// bytes: headers, tables and the start of the entropy-coded data.
const (
	maxFuzzInput = 64 << 10
	seedPrefix   = 8 << 10
)

// FuzzDecode feeds lossless JPEG streams and asserts corpus.CheckDecode on
// every input: typed errors, as many samples as the header says and none
// wider than its precision, the same image twice.
func FuzzDecode(f *testing.F) {
	for _, s := range corpus.Streams(f, corpus.StartsJPEG, transferSyntaxes...) {
		f.Add(s.Frames[0][:min(len(s.Frames[0]), seedPrefix)])
	}
	for _, p := range []encParams{
		{w: 7, h: 5, nc: 1, precision: 16, psv: 6},
		{w: 7, h: 5, nc: 3, precision: 8, psv: 1, restart: 3, interleaved: true},
		{w: 7, h: 5, nc: 2, precision: 12, psv: 7, pt: 2, restart: 7},
	} {
		f.Add(encodeLossless(p, testPlanes(p.w, p.h, p.nc, p.precision, 9)))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > maxFuzzInput {
			return
		}
		// The promise above: output bounded by 16 bytes per input byte
		// (and 1 MiB of tables and state).
		corpus.CheckDecodeBounded(t, src, 1<<20+16*uint64(len(src)), Decode)
	})
}

// BenchmarkDecode decodes each corpus file's frames; frames/s is the figure to
// compare with GDCM (gdcmconv --raw) on the same files.
func BenchmarkDecode(b *testing.B) {
	streams := corpus.Streams(b, corpus.StartsJPEG, transferSyntaxes...)
	for _, id := range []string{"ct2_jpeg_lossless_sv1", "ct0012_enhanced_ct_jpeg_lossless_p14", "sc_rgb_jpeg_lossless"} {
		s, ok := streams[id]
		if !ok {
			b.Fatalf("%s not in the corpus", id)
		}
		b.Run(id, func(b *testing.B) {
			size := 0
			for _, fr := range s.Frames {
				size += len(fr)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				for _, fr := range s.Frames {
					if _, err := Decode(fr); err != nil {
						b.Fatal(err)
					}
					n++
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}
