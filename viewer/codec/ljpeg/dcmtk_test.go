package ljpeg

import (
	"encoding/binary"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"

	"teleread/viewer/dataset"
)

// nativeSamples reads the first frame of an uncompressed little-endian corpus
// file as unsigned sample bit patterns masked to Bits Stored.
func nativeSamples(t *testing.T, path string) ([]uint32, pixelInfo) {
	t.Helper()
	f, err := dataset.Open(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer f.Close()
	var pi pixelInfo
	pi.rows, _ = f.Int(dataset.Rows)
	pi.cols, _ = f.Int(dataset.Columns)
	pi.spp, _ = f.Int(dataset.SamplesPerPixel)
	pi.bitsStored, _ = f.Int(dataset.BitsStored)
	ba, _ := f.Int(dataset.BitsAllocated)
	if pc, _ := f.Int(dataset.PlanarConfiguration); pc != 0 {
		t.Fatalf("planar configuration %d", pc)
	}
	n := pi.rows * pi.cols * pi.spp
	raw, err := f.ReadPixelRange(f.Pixel.Offset, int64(n*ba/8))
	if err != nil {
		t.Fatal(err)
	}
	mask := uint32(1)<<pi.bitsStored - 1
	out := make([]uint32, n)
	for i := range out {
		if ba == 8 {
			out[i] = uint32(raw[i]) & mask
		} else {
			out[i] = uint32(binary.LittleEndian.Uint16(raw[2*i:])) & mask
		}
	}
	return out, pi
}

// TestDCMTKPredictors compresses uncompressed corpus files with DCMTK's JPEG
// lossless encoder (dcmcjpeg +el) for every predictor and two point transforms
// and checks that the decode equals the original samples (with the point
// transform's low bits cleared).
func TestDCMTKPredictors(t *testing.T) {
	if _, err := exec.LookPath("dcmcjpeg"); err != nil {
		requireTool(t, "dcmcjpeg (Debian package dcmtk) not installed")
	}
	sources := []string{
		"mr_small_explicit_le",     // 16 bit signed
		"ct_small_explicit_le",     // 16 bit signed CT
		"mr_prostate_tcia_rescale", // 12 bit
		"sc_voi_lut_sequence",      // 8 bit grey
		"sc_rgb_explicit_le",       // 8 bit RGB
		"sc_rgb_16bit",             // 16 bit RGB
	}
	dir := t.TempDir()
	for _, id := range sources {
		orig, pi := nativeSamples(t, filepath.Join(corpusDir, "files", id+".dcm"))
		for psv := 1; psv <= 7; psv++ {
			for _, pt := range []int{0, 3} {
				t.Run(fmt.Sprintf("%s/sv%d/pt%d", id, psv, pt), func(t *testing.T) {
					out := filepath.Join(dir, fmt.Sprintf("%s_%d_%d.dcm", id, psv, pt))
					cmd := exec.Command("dcmcjpeg", "+el", "+sv", fmt.Sprint(psv), "+pt", fmt.Sprint(pt),
						filepath.Join(corpusDir, "files", id+".dcm"), out)
					if b, err := cmd.CombinedOutput(); err != nil {
						t.Fatalf("dcmcjpeg: %v\n%s", err, b)
					}
					frames, _ := readFrames(t, out)
					img, err := Decode(frames[0])
					if err != nil {
						t.Fatal(err)
					}
					if img.Width != pi.cols || img.Height != pi.rows || img.Components != pi.spp {
						t.Fatalf("%dx%dx%d, want %dx%dx%d", img.Width, img.Height, img.Components, pi.cols, pi.rows, pi.spp)
					}
					mask := uint32(1)<<pi.bitsStored - 1
					bad := 0
					for i, want := range orig {
						want = want >> pt << pt
						var got uint32
						if img.U8 != nil {
							got = uint32(img.U8[i])
						} else {
							got = uint32(img.U16[i])
						}
						if got&mask != want {
							if bad < 5 {
								t.Errorf("sample %d: %d, want %d", i, got&mask, want)
							}
							bad++
						}
					}
					if bad > 0 {
						t.Errorf("%d of %d samples differ", bad, len(orig))
					}
				})
			}
		}
	}
}
