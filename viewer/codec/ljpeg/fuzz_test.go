package ljpeg

import (
	"os"
	"path/filepath"
	"testing"
)

// maxFuzzInput caps fuzz inputs (the decoder's allocation is bounded by 16
// bytes of output per input byte); large inputs also slow the fuzzer's
// mutator to a crawl, so corpus frames are seeded by their first seedPrefix
// bytes: headers, tables and the start of the entropy-coded data.
const (
	maxFuzzInput = 64 << 10
	seedPrefix   = 8 << 10
)

// corpusStreams returns the frames of the corpus files in this package's
// transfer syntaxes, keyed by file id; nil when the corpus is absent.
func corpusStreams(tb testing.TB) map[string][][]byte {
	tb.Helper()
	if _, err := os.Stat(filepath.Join(corpusDir, "MANIFEST.json")); err != nil {
		return nil
	}
	out := map[string][][]byte{}
	for _, e := range loadManifest(tb) {
		if transferSyntaxes[e.DICOM.TransferSyntaxUID] && e.Reference.Status == "ok" {
			frames, _ := readFrames(tb, filepath.Join(corpusDir, e.File))
			out[e.ID] = frames
		}
	}
	return out
}

func FuzzDecode(f *testing.F) {
	for _, frames := range corpusStreams(f) {
		f.Add(frames[0][:min(len(frames[0]), seedPrefix)])
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
		img, err := Decode(src)
		if err != nil {
			return
		}
		n := img.Width * img.Height * img.Components
		if len(img.U8)+len(img.U16) != n {
			t.Fatalf("%dx%dx%d image with %d U8 and %d U16 samples", img.Width, img.Height, img.Components, len(img.U8), len(img.U16))
		}
	})
}

// BenchmarkDecode decodes each corpus file's frames; frames/s is the figure to
// compare with GDCM (gdcmconv --raw) on the same files.
func BenchmarkDecode(b *testing.B) {
	streams := corpusStreams(b)
	if streams == nil {
		requireTool(b, "corpus missing")
	}
	for _, id := range []string{"ct2_jpeg_lossless_sv1", "ct0012_enhanced_ct_jpeg_lossless_p14", "sc_rgb_jpeg_lossless"} {
		frames := streams[id]
		if frames == nil {
			continue
		}
		b.Run(id, func(b *testing.B) {
			size := 0
			for _, fr := range frames {
				size += len(fr)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				for _, fr := range frames {
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
