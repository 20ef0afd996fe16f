package dataset

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrBadPixelData marks pixel data that cannot be what the header describes:
// empty, shorter than Rows x Columns x Frames x Samples x Bits Allocated, or with
// an unusable Number of Frames.
var ErrBadPixelData = errors.New("pixel data does not match the image description")

// Info is the summary of a file that `teleread info --json` prints: top-level
// attributes under their DICOM keywords, nothing taken from functional groups.
// Pointer fields are null in JSON when the attribute is absent.
type Info struct {
	TransferSyntaxUID         string    `json:"TransferSyntaxUID"`
	SOPClassUID               string    `json:"SOPClassUID"`
	SOPInstanceUID            *string   `json:"SOPInstanceUID"`
	StudyInstanceUID          *string   `json:"StudyInstanceUID"`
	SeriesInstanceUID         *string   `json:"SeriesInstanceUID"`
	Modality                  *string   `json:"Modality"`
	Rows                      *int      `json:"Rows"`
	Columns                   *int      `json:"Columns"`
	NumberOfFrames            *int      `json:"NumberOfFrames"`
	SamplesPerPixel           *int      `json:"SamplesPerPixel"`
	PhotometricInterpretation *string   `json:"PhotometricInterpretation"`
	BitsAllocated             *int      `json:"BitsAllocated"`
	BitsStored                *int      `json:"BitsStored"`
	PixelRepresentation       *int      `json:"PixelRepresentation"`
	PlanarConfiguration       *int      `json:"PlanarConfiguration"`
	RescaleSlope              *float64  `json:"RescaleSlope"`
	RescaleIntercept          *float64  `json:"RescaleIntercept"`
	WindowCenter              []float64 `json:"WindowCenter"`
	WindowWidth               []float64 `json:"WindowWidth"`
}

// Info summarises the file (see the Info type).
func (f *File) Info() Info {
	in := Info{
		TransferSyntaxUID:         f.TransferSyntax,
		SOPClassUID:               f.String(SOPClassUID),
		SOPInstanceUID:            optString(f.DataSet, SOPInstanceUID),
		StudyInstanceUID:          optString(f.DataSet, StudyInstanceUID),
		SeriesInstanceUID:         optString(f.DataSet, SeriesInstanceUID),
		Modality:                  optString(f.DataSet, Modality),
		Rows:                      optInt(f.DataSet, Rows),
		Columns:                   optInt(f.DataSet, Columns),
		SamplesPerPixel:           optInt(f.DataSet, SamplesPerPixel),
		PhotometricInterpretation: optString(f.DataSet, PhotometricInterpretation),
		BitsAllocated:             optInt(f.DataSet, BitsAllocated),
		BitsStored:                optInt(f.DataSet, BitsStored),
		PixelRepresentation:       optInt(f.DataSet, PixelRepresentation),
		PlanarConfiguration:       optInt(f.DataSet, PlanarConfiguration),
		RescaleSlope:              optFloat(f.DataSet, RescaleSlope),
		RescaleIntercept:          optFloat(f.DataSet, RescaleIntercept),
		WindowCenter:              f.Floats(WindowCenter),
		WindowWidth:               f.Floats(WindowWidth),
	}
	if in.SOPClassUID == "" {
		in.SOPClassUID = f.Meta.String(MediaStorageSOPClassUID)
	}

	if n, err := f.NumberOfFrames(); err == nil {
		in.NumberOfFrames = &n
	}
	if in.WindowCenter == nil {
		in.WindowCenter = []float64{}
	}
	if in.WindowWidth == nil {
		in.WindowWidth = []float64{}
	}
	return in
}

// NumberOfFrames returns (0028,0008), 1 when absent, and an error wrapping
// ErrBadPixelData when the value is not a positive integer.
func (f *File) NumberOfFrames() (int, error) {
	e := f.Get(NumberOfFrames)
	if e == nil || len(strings.Trim(string(e.Value), " \x00")) == 0 {
		return 1, nil
	}
	s := strings.Trim(string(e.Value), " \x00")
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("number of frames %q: %w", s, ErrBadPixelData)
	}
	return n, nil
}

// Validate checks that the pixel data can hold the image the header describes,
// without reading it: native pixel data at least Rows x Columns x Frames x
// Samples x Bits Allocated / 8 bytes, encapsulated pixel data with at least one
// fragment. Files without pixel data are valid.
func (f *File) Validate() error {
	if f.Pixel == nil {
		return nil
	}
	wrap := func(err error) error { return &Error{Name: f.Name, Offset: f.Pixel.Offset, Tag: f.Pixel.Tag, Err: err} }
	frames, err := f.NumberOfFrames()
	if err != nil {
		return wrap(err)
	}
	rows, _ := f.Int(Rows)
	cols, _ := f.Int(Columns)
	if rows <= 0 || cols <= 0 {
		return wrap(fmt.Errorf("rows %d, columns %d: %w", rows, cols, ErrBadPixelData))
	}
	if f.Pixel.Encapsulated {
		if len(f.Pixel.Fragments) == 0 {
			return wrap(fmt.Errorf("no fragments: %w", ErrBadPixelData))
		}
		return nil
	}
	spp, ok := f.Int(SamplesPerPixel)
	if !ok {
		spp = 1
	}
	bits, _ := f.Int(BitsAllocated)
	switch f.Pixel.Tag {
	case FloatPixelData:
		bits = 32
	case DoubleFloatPixelData:
		bits = 64
	}
	if spp < 1 || spp > 4 || bits < 1 || bits > 64 {
		return wrap(fmt.Errorf("samples per pixel %d, bits allocated %d: %w", spp, bits, ErrBadPixelData))
	}
	samples := int64(rows) * int64(cols) * int64(frames) * int64(spp)
	if photo := f.String(PhotometricInterpretation); photo == "YBR_FULL_422" || photo == "YBR_PARTIAL_422" {
		samples = int64(rows) * int64(cols) * int64(frames) * 2 // two chroma samples per pair of pixels
	}
	need := (samples*int64(bits) + 7) / 8
	if f.Pixel.Length < need {
		return wrap(fmt.Errorf("pixel data has %d bytes, the image needs %d: %w", f.Pixel.Length, need, ErrBadPixelData))
	}
	return nil
}

func optString(d *DataSet, t Tag) *string {
	if e := d.Get(t); e == nil {
		return nil
	}
	s := d.String(t)
	return &s
}

func optInt(d *DataSet, t Tag) *int {
	if v, ok := d.Int(t); ok {
		return &v
	}
	return nil
}

func optFloat(d *DataSet, t Tag) *float64 {
	if v, ok := d.Float(t); ok {
		return &v
	}
	return nil
}
