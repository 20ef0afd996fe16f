package ljpeg

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"

	"teleread/viewer/codec/internal/corpus"
)

// TestDCMTKPredictors compresses uncompressed corpus files with DCMTK's JPEG
// lossless encoder (dcmcjpeg +el) for every predictor and two point transforms
// and checks that the decode equals the original samples (with the point
// transform's low bits cleared).
func TestDCMTKPredictors(t *testing.T) {
	dcmcjpeg := corpus.Tool(t, "dcmcjpeg", "dcmtk")
	sources := []string{
		"mr_small_explicit_le",     // 16 bit signed
		"ct_small_explicit_le",     // 16 bit signed CT
		"mr_prostate_tcia_rescale", // 12 bit
		"sc_voi_lut_sequence",      // 8 bit grey
		"sc_rgb_explicit_le",       // 8 bit RGB
		"sc_rgb_16bit",             // 16 bit RGB
	}
	files := filepath.Join(corpus.Dir(t), "files")
	dir := t.TempDir()
	for _, id := range sources {
		in := filepath.Join(files, id+".dcm")
		native, pi := corpus.NativeFrames(t, in)
		mask := uint32(1)<<pi.BitsStored - 1
		for psv := 1; psv <= 7; psv++ {
			for _, pt := range []int{0, 3} {
				t.Run(fmt.Sprintf("%s/sv%d/pt%d", id, psv, pt), func(t *testing.T) {
					out := filepath.Join(dir, fmt.Sprintf("%s_%d_%d.dcm", id, psv, pt))
					cmd := exec.Command(dcmcjpeg, "+el", "+sv", fmt.Sprint(psv), "+pt", fmt.Sprint(pt), in, out)
					if b, err := cmd.CombinedOutput(); err != nil {
						t.Fatalf("dcmcjpeg: %v\n%s", err, b)
					}
					frames, _ := corpus.Frames(t, out, corpus.StartsJPEG)
					img, err := Decode(frames[0])
					if err != nil {
						t.Fatal(err)
					}
					if img.Width != pi.Columns || img.Height != pi.Rows || img.Components != pi.SamplesPerPixel {
						t.Fatalf("%dx%dx%d, want %dx%dx%d", img.Width, img.Height, img.Components, pi.Columns, pi.Rows, pi.SamplesPerPixel)
					}
					got := corpus.Samples(img)
					if len(got) != len(native[0]) {
						t.Fatalf("%d samples, want %d", len(got), len(native[0]))
					}
					bad := 0
					for i, want := range native[0] {
						want = (want & mask) >> pt << pt
						if got[i]&mask != want {
							if bad < 5 {
								t.Errorf("sample %d: %d, want %d", i, got[i]&mask, want)
							}
							bad++
						}
					}
					if bad > 0 {
						t.Errorf("%d of %d samples differ", bad, len(native[0]))
					}
				})
			}
		}
	}
}
