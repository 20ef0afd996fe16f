package jpeg2000

import (
	"path/filepath"
	"testing"

	"teleread/viewer/codec/internal/corpus"
)

// FuzzDecode checks that no input crashes the decoder or the process, and that
// whatever decodes is as big as its header says.
func FuzzDecode(f *testing.F) {
	dir := corpus.Dir(f)
	for _, e := range corpus.Entries(f, dir, tsLossless, tsLossy) {
		src, err := corpus.Frame0(filepath.Join(dir, e.File), e.Frames())
		if err == nil && len(src) <= 1<<20 {
			f.Add(src)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > 1<<20 {
			return
		}
		img, err := Decode(src)
		if err != nil {
			return
		}
		n := img.Width * img.Height * img.Components
		if len(img.U8)+len(img.U16)+len(img.U32) != n {
			t.Fatalf("%dx%dx%d image with %d samples", img.Width, img.Height, img.Components, len(img.U8)+len(img.U16)+len(img.U32))
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	dir := corpus.Dir(b)
	for _, id := range []string{"mr2_j2k_lossy_rescale", "us1_j2k_lossless_ybr_rct", "dx_j2k_lossless_16bit"} {
		var e *corpus.Entry
		for _, c := range corpus.Entries(b, dir, tsLossless, tsLossy) {
			if c.ID == id {
				e = &c
			}
		}
		if e == nil {
			b.Fatalf("%s not in the corpus", id)
		}
		src, err := corpus.Frame0(filepath.Join(dir, e.File), e.Frames())
		if err != nil {
			b.Fatal(err)
		}
		b.Run(id, func(b *testing.B) {
			b.SetBytes(int64(e.DICOM.Rows * e.DICOM.Columns * e.DICOM.SamplesPerPixel))
			for b.Loop() {
				if _, err := Decode(src); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}
