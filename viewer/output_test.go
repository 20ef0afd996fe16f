package viewer

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteImage(t *testing.T) {
	grey := image.NewGray(image.Rect(0, 0, 3, 2))
	copy(grey.Pix, []byte{0, 1, 2, 253, 254, 255})
	rgb := image.NewRGBA(image.Rect(0, 0, 2, 1))
	copy(rgb.Pix, []byte{1, 2, 3, 255, 4, 5, 6, 255})
	tests := []struct {
		name    string
		file    string
		img     image.Image
		want    []byte // nil: check by decoding PNG
		wantErr error
	}{
		{"pgm", "a.pgm", grey, append([]byte("P5\n3 2\n255\n"), 0, 1, 2, 253, 254, 255), nil},
		{"ppm colour", "b.ppm", rgb, append([]byte("P6\n2 1\n255\n"), 1, 2, 3, 4, 5, 6), nil},
		{"ppm grey", "c.ppm", grey, append([]byte("P6\n3 2\n255\n"), 0, 0, 0, 1, 1, 1, 2, 2, 2, 253, 253, 253, 254, 254, 254, 255, 255, 255), nil},
		{"png", "d.png", grey, nil, nil},
		{"colour as pgm", "e.pgm", rgb, nil, ErrOutputFormat},
		{"unknown extension", "f.jpg", grey, nil, ErrOutputFormat},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.file)
			err := WriteImage(p, tt.img)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if _, err := os.Stat(p); err == nil {
					t.Fatalf("%s written despite the error", p)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != nil {
				if !bytes.Equal(b, tt.want) {
					t.Fatalf("wrote %q, want %q", b, tt.want)
				}
				return
			}
			m, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			g, ok := m.(*image.Gray)
			if !ok || !bytes.Equal(g.Pix, grey.Pix) {
				t.Fatalf("PNG decodes to %T %v", m, m)
			}
		})
	}
}
