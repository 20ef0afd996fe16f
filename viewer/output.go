package viewer

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ErrOutputFormat: an output name whose extension is not .png, .pgm or .ppm, or
// a grey/colour image written to a format that cannot hold it.
var ErrOutputFormat = errors.New("unsupported output format")

// WritePGM writes a grey image as binary PGM (P5, maxval 255).
func WritePGM(w io.Writer, img *image.Gray) error {
	b := img.Bounds()
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "P5\n%d %d\n255\n", b.Dx(), b.Dy())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		o := img.PixOffset(b.Min.X, y)
		bw.Write(img.Pix[o : o+b.Dx()])
	}
	return bw.Flush()
}

// WritePPM writes an image as binary PPM (P6, maxval 255), dropping alpha.
func WritePPM(w io.Writer, img image.Image) error {
	b := img.Bounds()
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "P6\n%d %d\n255\n", b.Dx(), b.Dy())
	row := make([]byte, 3*b.Dx())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		if m, ok := img.(*image.RGBA); ok {
			o := m.PixOffset(b.Min.X, y)
			for x := 0; x < b.Dx(); x++ {
				copy(row[3*x:3*x+3], m.Pix[o+4*x:o+4*x+3])
			}
		} else {
			for x := 0; x < b.Dx(); x++ {
				r, g, bb, _ := img.At(b.Min.X+x, y).RGBA()
				row[3*x], row[3*x+1], row[3*x+2] = byte(r>>8), byte(g>>8), byte(bb>>8)
			}
		}
		bw.Write(row)
	}
	return bw.Flush()
}

// WriteImage writes img to path in the format its extension names: .png (grey or
// colour), .pgm (grey only) or .ppm (either; grey is written as R=G=B). The file is
// written to a temporary name and renamed, so a failed write leaves nothing behind.
func WriteImage(path string, img image.Image) (err error) {
	ext := strings.ToLower(filepath.Ext(path))
	var write func(io.Writer) error
	switch ext {
	case ".png":
		write = func(w io.Writer) error { return png.Encode(w, img) }
	case ".pgm":
		g, ok := img.(*image.Gray)
		if !ok {
			return fmt.Errorf("viewer: write %s: %w: colour image as PGM (use .ppm or .png)", path, ErrOutputFormat)
		}
		write = func(w io.Writer) error { return WritePGM(w, g) }
	case ".ppm":
		write = func(w io.Writer) error { return WritePPM(w, img) }
	default:
		return fmt.Errorf("viewer: write %s: %w: %q (want .png, .pgm or .ppm)", path, ErrOutputFormat, ext)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".render-*"+ext)
	if err != nil {
		return fmt.Errorf("viewer: write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = write(f); err != nil {
		return fmt.Errorf("viewer: write %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("viewer: write %s: %w", path, err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("viewer: write %s: %w", path, err)
	}
	return nil
}
