package jpeg2000

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"teleread/viewer/codec"
	"teleread/viewer/codec/internal/corpus"
)

// TestDecodeHTJ2K checks High-Throughput JPEG 2000 (DICOM .201-.203), which the
// corpus has no file of: OpenJPH's ojph_compress (an independent HTJ2K
// encoder) encodes corpus reference images reversibly, and the decode must give
// back exactly the encoder's input.
func TestDecodeHTJ2K(t *testing.T) {
	ojph := corpus.Tool(t, "ojph_compress", "openjph-tools")
	dir := corpus.Dir(t)
	tests := []struct {
		id        string // corpus entry whose reference frame 0 is encoded
		ext       string // pgm or ppm
		maxval    int
		colour    bool // encode with the reversible colour transform
		wantColor codec.ColorSpace
	}{
		{"emri_small_jpegls_multiframe", "pgm", 4095, false, codec.ColorUnknown},
		{"sc_jpegls_7bit", "pgm", 127, false, codec.ColorUnknown},
		{"us1_j2k_lossless_ybr_rct", "ppm", 255, true, codec.ColorRGB},
		{"rgb_jpegls_ilv1", "ppm", 255, false, codec.ColorUnknown},
	}
	entries := corpus.Entries(t, dir, "1.2.840.10008.1.2.4.80", tsLossless)
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			e := corpus.Lookup(t, entries, tt.id)
			want, err := corpus.Reference0(dir, e)
			if err != nil {
				t.Fatal(err)
			}
			w, h := e.DICOM.Columns, e.DICOM.Rows
			var img bytes.Buffer
			magic := map[string]string{"pgm": "P5", "ppm": "P6"}[tt.ext]
			fmt.Fprintf(&img, "%s\n%d %d\n%d\n", magic, w, h, tt.maxval)
			for _, v := range want {
				if tt.maxval > 255 {
					img.WriteByte(byte(v >> 8))
				}
				img.WriteByte(byte(v))
			}
			tmp := t.TempDir()
			in, out := filepath.Join(tmp, "in."+tt.ext), filepath.Join(tmp, "out.j2c")
			if err := os.WriteFile(in, img.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"-i", in, "-o", out, "-reversible", "true", "-num_decomps", "3"}
			if tt.ext == "ppm" {
				args = append(args, "-colour_trans", fmt.Sprint(tt.colour))
			}
			if b, err := exec.Command(ojph, args...).CombinedOutput(); err != nil {
				t.Fatalf("ojph_compress: %v\n%s", err, b)
			}
			src, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if len(src) < 200 || !bytes.Contains(src[:200], []byte{0xFF, 0x50}) {
				t.Fatal("ojph_compress output has no CAP marker: not an HTJ2K code stream")
			}
			got, err := Decode(src)
			if err != nil {
				t.Fatal(err)
			}
			if got.ColorSpace != tt.wantColor {
				t.Errorf("colour space %v, want %v", got.ColorSpace, tt.wantColor)
			}
			if got.Width != w || got.Height != h || got.Components != e.DICOM.SamplesPerPixel {
				t.Fatalf("got %dx%dx%d, want %dx%dx%d", got.Width, got.Height, got.Components, w, h, e.DICOM.SamplesPerPixel)
			}
			if d := corpus.Compare(corpus.Stored(got, e.DICOM.BitsStored, false), want); d.Differ != 0 {
				t.Errorf("decoded values differ from the encoder's input: %+v", d)
			}
		})
	}
}
