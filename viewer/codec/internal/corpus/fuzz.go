package corpus

import (
	"fmt"
	"path/filepath"
	"testing"

	"teleread/viewer/codec"
)

// CheckSamples reports an error unless exactly one of the image's sample
// slices is set and it holds Width*Height*Components samples, as codec.Image
// promises.
func CheckSamples(img *codec.Image) error {
	n := img.Width * img.Height * img.Components
	set := 0
	for _, l := range []int{len(img.U8), len(img.U16), len(img.U32)} {
		if l > 0 {
			set++
		}
	}
	if set != 1 || len(img.U8)+len(img.U16)+len(img.U32) != n {
		return fmt.Errorf("%dx%dx%d image with %d U8, %d U16 and %d U32 samples",
			img.Width, img.Height, img.Components, len(img.U8), len(img.U16), len(img.U32))
	}
	return nil
}

// FuzzFrame0 is the fuzz test of a decoder whose code streams carry their own
// geometry: it is seeded with frame 0 of every corpus file in the transfer
// syntaxes uids (up to max bytes; larger ones are neither seeded nor fuzzed),
// and checks that no input crashes the decoder or the process and that
// whatever decodes is as big as its header says.
func FuzzFrame0(f *testing.F, max int, decode func([]byte) (*codec.Image, error), uids ...string) {
	f.Helper()
	dir := Dir(f)
	for _, e := range Entries(f, dir, uids...) {
		src, err := Frame0(filepath.Join(dir, e.File), e.Frames())
		if err == nil && len(src) <= max {
			f.Add(src)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > max {
			return
		}
		img, err := decode(src)
		if err != nil {
			return
		}
		if err := CheckSamples(img); err != nil {
			t.Fatal(err)
		}
	})
}

// BenchmarkFrame0 decodes frame 0 of each of the corpus files ids (in the
// transfer syntaxes uids), one sub-benchmark a file, reporting frames/s and
// decoded samples per second.
func BenchmarkFrame0(b *testing.B, decode func([]byte) (*codec.Image, error), ids []string, uids ...string) {
	b.Helper()
	dir := Dir(b)
	entries := Entries(b, dir, uids...)
	for _, id := range ids {
		e := Lookup(b, entries, id)
		src, err := Frame0(filepath.Join(dir, e.File), e.Frames())
		if err != nil {
			b.Fatal(err)
		}
		b.Run(id, func(b *testing.B) {
			b.SetBytes(int64(e.DICOM.Rows * e.DICOM.Columns * e.DICOM.SamplesPerPixel))
			for b.Loop() {
				if _, err := decode(src); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}
