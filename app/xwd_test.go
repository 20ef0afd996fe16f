package app

import (
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"os"
	"os/exec"
)

// screenshotX takes a picture of the X display's root window with xwd and crops
// it to the w x h window at the top left (Xvfb has no window manager, so the
// window sits at the origin). Reading the GL front buffer gives nothing on
// Xvfb, so the picture comes from the X server, as a user would see it.
func screenshotX(w, h int) (image.Image, error) {
	f, err := os.CreateTemp("", "teleread-*.xwd")
	if err != nil {
		return nil, err
	}
	f.Close()
	defer os.Remove(f.Name())
	if out, err := exec.Command("xwd", "-root", "-silent", "-out", f.Name()).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("xwd: %v: %s", err, out)
	}
	b, err := os.ReadFile(f.Name())
	if err != nil {
		return nil, err
	}
	img, err := decodeXWD(b)
	if err != nil {
		return nil, err
	}
	r := image.Rect(0, 0, w, h).Intersect(img.Bounds())
	return img.SubImage(r), nil
}

// decodeXWD reads a 24/32-bit TrueColor or DirectColor ZPixmap XWD file (what
// xwd writes for Xvfb's default visual).
func decodeXWD(b []byte) (*image.RGBA, error) {
	if len(b) < 100 {
		return nil, fmt.Errorf("xwd: short header")
	}
	u := func(i int) uint32 { return binary.BigEndian.Uint32(b[i*4:]) }
	hdr, format, width, height := int(u(0)), u(2), int(u(4)), int(u(5))
	byteOrder, bpp, bpl, ncolors := u(7), u(11), int(u(12)), int(u(19))
	rmask, gmask, bmask := u(14), u(15), u(16)
	if format != 2 || (bpp != 24 && bpp != 32) || width <= 0 || height <= 0 || width > 1<<14 || height > 1<<14 {
		return nil, fmt.Errorf("xwd: format %d, %d bits per pixel, %dx%d not supported", format, bpp, width, height)
	}
	// Bits per pixel say how a pixel is stored: Xvfb's depth 24 comes as 32
	// bits per pixel, or as 24 (three bytes) with lines still padded to 32-bit
	// units once a GL window is mapped. The line length is only padding.
	px := int(bpp / 8)
	off := hdr + ncolors*12
	if off < 0 || bpl < width*px || len(b)-off < bpl*height {
		return nil, fmt.Errorf("xwd: truncated pixels")
	}
	shift := func(m uint32) uint {
		s := uint(0)
		for m != 0 && m&1 == 0 {
			m >>= 1
			s++
		}
		return s
	}
	rs, gs, bs := shift(rmask), shift(gmask), shift(bmask)
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	for y := 0; y < height; y++ {
		row := b[off+y*bpl:]
		for x := 0; x < width; x++ {
			var q [4]byte
			copy(q[:], row[x*px:x*px+px])
			var p uint32
			if byteOrder == 0 {
				p = binary.LittleEndian.Uint32(q[:])
			} else {
				p = binary.BigEndian.Uint32(q[:]) >> (8 * uint(4-px))
			}
			img.SetRGBA(x, y, color.RGBA{R: uint8((p & rmask) >> rs), G: uint8((p & gmask) >> gs), B: uint8((p & bmask) >> bs), A: 255})
		}
	}
	return img, nil
}
