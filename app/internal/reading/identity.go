package reading

import (
	"teleread/app/internal/format"
	"teleread/viewer"
	"teleread/viewer/dataset"
)

// Identity is whose image a picture is. It is read from the drawn image's own
// header on the render goroutine, so the overlay names the patient of the pixels
// on screen, not the patient of whatever study the viewport was last asked for.
type Identity struct {
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

// IdentityOf reads an image's identity from its header (the frame is the
// stack's: Instance Number says nothing of it).
func IdentityOf(f *dataset.File) Identity {
	ds := f.DataSet
	se, _ := ds.Int(dataset.SeriesNumber)
	in, _ := ds.Int(dataset.InstanceNumber)
	return Identity{
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
