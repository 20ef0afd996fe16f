package app

import (
	"image"

	"teleread/app/internal/format"
	"teleread/viewer"
	"teleread/viewer/dataset"
)

// identity is whose image a picture is. It is read from the drawn image's own
// header on the render goroutine, so the overlay names the patient of the pixels
// on screen, not the patient of whatever study the viewport was last asked for.
type identity struct {
	PatientName  string // as the overlay shows it (family, given)
	PatientID    string
	StudyUID     string
	StudyDate    string // YYYYMMDD as in the header
	SeriesUID    string
	SeriesNumber int
	Instance     int // Instance Number
	SOP          string
	// Lossy is "LOSSY ..." when the pixels are not the original ones (a lossy
	// transfer syntax, or a header saying they were once lossily compressed).
	Lossy string
}

// identityOf reads an image's identity from its header (the frame is the
// stack's: Instance Number says nothing of it).
func identityOf(f *dataset.File) identity {
	ds := f.DataSet
	se, _ := ds.Int(dataset.SeriesNumber)
	in, _ := ds.Int(dataset.InstanceNumber)
	return identity{
		PatientName:  format.PersonName(ds.Text(dataset.PatientName)),
		PatientID:    ds.Text(dataset.PatientID),
		StudyUID:     ds.String(dataset.StudyInstanceUID),
		StudyDate:    ds.String(dataset.StudyDate),
		SeriesUID:    ds.String(dataset.SeriesInstanceUID),
		SeriesNumber: se,
		Instance:     in,
		SOP:          ds.String(dataset.SOPInstanceUID),
		Lossy:        viewer.Lossy(f).String(),
	}
}

// picture is a drawn image together with whose it is. A viewport paints only
// pictures, and its overlay is written from the same picture, so pixels never
// reach the screen without their patient's name, ID, study date and
// series/instance beside them.
type picture struct {
	pix *image.RGBA
	who identity
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
