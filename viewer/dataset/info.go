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
	// Warnings are what the parser tolerated (File.Warnings); [] when none.
	Warnings []string `json:"Warnings"`
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
	in.Warnings = make([]string, len(f.Warnings))
	for i, w := range f.Warnings {
		in.Warnings[i] = w.String()
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
// without reading it: every dimension in range (see Dims), native pixel data at
// least Rows x Columns x Frames x Samples x Bits Allocated / 8 bytes,
// encapsulated pixel data with at least one fragment and no more frames than
// fragments. Files without pixel data are valid.
func (f *File) Validate() error {
	if f.Pixel == nil {
		return nil
	}
	wrap := func(err error) error { return &Error{Name: f.Name, Offset: f.Pixel.Offset, Tag: f.Pixel.Tag, Err: err} }
	d, err := f.Dims()
	if err != nil {
		return wrap(err)
	}
	if f.Pixel.Encapsulated {
		if len(f.Pixel.Fragments) == 0 {
			return wrap(fmt.Errorf("no fragments: %w", ErrBadPixelData))
		}
		return nil
	}
	// Dims bounds every factor (and Frames by the pixel data's length); the
	// product is still taken overflow-checked.
	bitsTotal, ok := MulInt64(d.FrameSamples(f.String(PhotometricInterpretation))*int64(d.BitsAllocated), int64(d.Frames))
	if !ok {
		return wrap(fmt.Errorf("%d frames of %dx%d: %w", d.Frames, d.Cols, d.Rows, ErrOutOfRange))
	}
	need := (bitsTotal + 7) / 8
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
