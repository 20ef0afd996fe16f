package rle

import (
	"os"
	"path/filepath"
	"testing"
)

// maxFuzzInput caps fuzz inputs; with the segment-length check the output is
// bounded by 64 bytes per input byte and plane.
const maxFuzzInput = 1 << 16

type rleStream struct {
	frames                 [][]byte
	rows, cols, spp, alloc int
}

// corpusStreams returns the frames of the RLE corpus files, keyed by file id;
// nil when the corpus is absent.
func corpusStreams(tb testing.TB) map[string]rleStream {
	tb.Helper()
	if _, err := os.Stat(filepath.Join(corpusDir, "MANIFEST.json")); err != nil {
		return nil
	}
	out := map[string]rleStream{}
	for _, e := range loadManifest(tb) {
		if e.DICOM.TransferSyntaxUID == rleLossless && e.Reference.Status == "ok" {
			frames, pi := readFrames(tb, filepath.Join(corpusDir, e.File))
			out[e.ID] = rleStream{frames, pi.rows, pi.cols, pi.spp, pi.bitsAllocated}
		}
	}
	return out
}

// FuzzDecode takes the image geometry from the first four bytes of the input
// (rows, columns, samples, bytes per sample) so that headers and geometry vary
// together.
func FuzzDecode(f *testing.F) {
	for _, s := range corpusStreams(f) {
		geom := []byte{byte(s.rows), byte(s.cols), byte(s.spp), byte(s.alloc / 8)}
		f.Add(append(geom, s.frames[0]...))
	}
	seed := header([]byte{0x81, 7}, []byte{1, 1, 2})
	f.Add(append([]byte{1, 2, 1, 2}, seed...))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 4 || len(in) > maxFuzzInput {
			return
		}
		rows, cols, spp, bytes := int(in[0]), int(in[1]), int(in[2]%5), int(in[3]%5)
		img, err := Decode(in[4:], rows, cols, spp, 8*bytes)
		if err != nil {
			return
		}
		if n := rows * cols * spp; len(img.U8)+len(img.U16)+len(img.U32) != n {
			t.Fatalf("%d samples for %dx%dx%d", len(img.U8)+len(img.U16)+len(img.U32), cols, rows, spp)
		}
	})
}

// BenchmarkDecode decodes each RLE corpus file's frames; frames/s is the figure
// to compare with GDCM (gdcmconv --raw) on the same files.
func BenchmarkDecode(b *testing.B) {
	streams := corpusStreams(b)
	if streams == nil {
		requireTool(b, "corpus missing")
	}
	for _, id := range []string{"mr_small_rle", "sc_rgb_rle"} {
		s, ok := streams[id]
		if !ok {
			continue
		}
		b.Run(id, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				for _, fr := range s.frames {
					if _, err := Decode(fr, s.rows, s.cols, s.spp, s.alloc); err != nil {
						b.Fatal(err)
					}
					n++
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}
