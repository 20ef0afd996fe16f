package app

import (
	"image"

	"teleread/app/internal/reading"
)

// picture is a drawn image together with whose it is. A viewport paints only
// pictures, and its overlay is written from the same picture, so pixels never
// reach the screen without their patient's name, ID, study date and
// series/instance beside them.
type picture struct {
	pix *image.RGBA
	who reading.Identity
	buf int // the render loop's buffer holding pix (reserved while on screen)
}

// blankPicture caches the black image an empty viewport paints.
type blankPicture struct{ img *image.RGBA }

// of returns a black w x h image, allocated only when the size changes.
func (b *blankPicture) of(w, h int) *image.RGBA {
	w, h = max(w, 1), max(h, 1)
	if b.img == nil || b.img.Rect.Dx() != w || b.img.Rect.Dy() != h {
		b.img = blankImage(w, h)
	}
	return b.img
}
