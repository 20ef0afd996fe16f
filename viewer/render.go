package viewer

import (
	"fmt"
	"image"
)

// RenderFrame renders f with d at the frame's own size on the CPU: an *image.Gray
// for grey frames, an *image.RGBA for colour frames.
func RenderFrame(f *Frame, d *Display) (image.Image, error) {
	var r CPURenderer
	// Upload checks the frame's size before the picture is allocated from it.
	if err := r.Upload(f); err != nil {
		return nil, err
	}
	rect := image.Rect(0, 0, f.Cols, f.Rows)
	if f.Color == Monochrome {
		dst := image.NewGray(rect)
		if err := r.Render(d, dst); err != nil {
			return nil, err
		}
		return dst, nil
	}
	dst := image.NewRGBA(rect)
	if err := r.Render(d, dst); err != nil {
		return nil, err
	}
	return dst, nil
}

// RenderOptions choose what RenderFile draws. The zero value renders frame 0 with
// the file's default display.
type RenderOptions struct {
	Frame  int     // frame number, from 0
	Window *Window // overrides the default VOI (grey images only); nil keeps it
}

// LoadFrame opens the DICOM file at path, decodes one frame and returns it with
// the display it is shown with: the file's default, or the given window.
func LoadFrame(path string, opt RenderOptions) (*Frame, *Display, error) {
	im, err := Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer im.Close()
	return LoadImageFrame(im, opt)
}

// LoadImageFrame is LoadFrame for an opened image (a cached instance, opened
// through the cache); it does not close im.
func LoadImageFrame(im *Image, opt RenderOptions) (*Frame, *Display, error) {
	path := im.File.Name
	f, err := im.Frame(opt.Frame)
	if err != nil {
		return nil, nil, err
	}
	d, err := DefaultDisplay(im, f)
	if err != nil {
		return nil, nil, err
	}
	if opt.Window != nil && f.Color == Monochrome {
		if !opt.Window.Valid() {
			return nil, nil, fmt.Errorf("viewer: render %q: %w: window width %g", path, ErrInvalid, opt.Window.Width)
		}
		d.Window, d.VOILUT = *opt.Window, nil
	}
	return f, d, nil
}

// RenderFile renders one frame of the DICOM file at path on the CPU at its own
// size (see LoadFrame).
func RenderFile(path string, opt RenderOptions) (image.Image, error) {
	f, d, err := LoadFrame(path, opt)
	if err != nil {
		return nil, err
	}
	return RenderFrame(f, d)
}

// RenderImage is RenderFile for an opened image; it does not close im.
func RenderImage(im *Image, opt RenderOptions) (image.Image, error) {
	f, d, err := LoadImageFrame(im, opt)
	if err != nil {
		return nil, err
	}
	return RenderFrame(f, d)
}
