package viewer

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"teleread/viewer/dataset"
)

// Errors callers branch on; each is returned wrapped with the file and operation.
var (
	// ErrNoPixelData: the object has no Pixel Data (SR, RT Plan, ...): nothing to show.
	ErrNoPixelData = errors.New("no pixel data")
	// ErrTruncated: the pixel data are shorter than the header says they must be.
	ErrTruncated = errors.New("pixel data truncated")
	// ErrUnsupported: a valid image this package cannot decode (transfer syntax,
	// photometric interpretation or bit depth).
	ErrUnsupported = errors.New("unsupported pixel data")
	// ErrInvalid: the pixel description is contradictory or out of range.
	ErrInvalid = errors.New("invalid pixel description")
	// ErrFrameRange: a frame number outside 0..NumFrames()-1.
	ErrFrameRange = errors.New("frame out of range")
)

// maxFrameSamples caps rows*cols*samples of one frame before anything is allocated
// (64 Mi samples, an 8192x8192 image), so a hostile header cannot ask for gigabytes.
const maxFrameSamples = 64 << 20

// Image is an opened DICOM image: the parsed data set and its pixel description.
// Frames are decoded one at a time, on demand, by Frame.
type Image struct {
	File *dataset.File

	Rows, Cols          int
	Frames              int    // Number of Frames, 1 when absent
	Samples             int    // Samples per Pixel: 1 or 3
	BitsAllocated       int    // 1, 8, 16, 32 (64 for Double Float Pixel Data)
	BitsStored          int    // defaults to BitsAllocated; 0 for float data
	HighBit             int    // as in the header (informative; BitsStored decides)
	PixelRepresentation int    // 1: signed two's complement
	PlanarConfiguration int    // 0: R,G,B,R,... 1: RR..GG..BB.. (native colour only)
	Photometric         string // Photometric Interpretation, e.g. "MONOCHROME2"
	TransferSyntax      string
	Float               bool // Float or Double Float Pixel Data

	closer func() error
}

// Open opens the DICOM file at path and reads its pixel description; pixel values
// are read only by Frame. Close releases the file.
func Open(path string) (*Image, error) {
	f, err := dataset.Open(path)
	if err != nil {
		return nil, fmt.Errorf("viewer: open %q: %w", path, err)
	}
	im, err := NewImage(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	im.closer = f.Close
	return im, nil
}

// OpenFile reads the pixel description of a parsed file and takes it over:
// the Image's Close closes it (it is closed at once when there is an error).
// The cache hands out its stored instances this way, parsed from their
// decrypted bytes.
func OpenFile(f *dataset.File) (*Image, error) {
	im, err := NewImage(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	im.closer = f.Close
	return im, nil
}

// OpenReaderAt opens the DICOM file of the given size read through r (see
// dataset.OpenReaderAt); closer, if not nil, is closed by Close.
func OpenReaderAt(r io.ReaderAt, size int64, name string, closer io.Closer) (*Image, error) {
	f, err := dataset.OpenReaderAt(r, size, name, closer)
	if err != nil {
		return nil, fmt.Errorf("viewer: open %q: %w", name, err)
	}
	return OpenFile(f)
}

// Close closes the file when the Image was made by Open, OpenFile or
// OpenReaderAt.
func (im *Image) Close() error {
	if im.closer == nil {
		return nil
	}
	c := im.closer
	im.closer = nil
	return c()
}

// NewImage reads the pixel description of a parsed file. It returns an error
// wrapping ErrNoPixelData when the object has no pixel data, and ErrInvalid or
// ErrUnsupported when the description cannot be decoded.
func NewImage(f *dataset.File) (*Image, error) {
	name := f.Name
	if f.Pixel == nil {
		return nil, fmt.Errorf("viewer: open %q: %w", name, ErrNoPixelData)
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("viewer: open %q: %w: %s", name, ErrInvalid, fmt.Sprintf(format, a...))
	}
	// Every value that sizes a buffer is range-checked first (Rows and
	// Columns 1..65535, Frames no more than the pixel data hold), so the
	// products below cannot overflow into a small or negative size.
	if _, err := f.Dims(); err != nil {
		return nil, fmt.Errorf("viewer: open %q: %w: %w", name, ErrInvalid, err)
	}
	d := f.DataSet
	im := &Image{File: f, TransferSyntax: f.TransferSyntax}
	var ok bool
	if im.Rows, ok = d.Int(dataset.Rows); !ok || im.Rows <= 0 {
		return nil, bad("Rows %q", d.String(dataset.Rows))
	}
	if im.Cols, ok = d.Int(dataset.Columns); !ok || im.Cols <= 0 {
		return nil, bad("Columns %q", d.String(dataset.Columns))
	}
	im.Frames = 1
	if d.Has(dataset.NumberOfFrames) {
		if im.Frames, ok = d.Int(dataset.NumberOfFrames); !ok || im.Frames < 1 {
			return nil, bad("Number of Frames %q", d.String(dataset.NumberOfFrames))
		}
	}
	im.Samples = 1
	if d.Has(dataset.SamplesPerPixel) {
		if im.Samples, ok = d.Int(dataset.SamplesPerPixel); !ok || (im.Samples != 1 && im.Samples != 3) {
			return nil, bad("Samples per Pixel %q", d.String(dataset.SamplesPerPixel))
		}
	}
	if im.BitsAllocated, ok = d.Int(dataset.BitsAllocated); !ok {
		return nil, bad("no Bits Allocated")
	}
	im.Float = f.Pixel.VR == "OF" || f.Pixel.VR == "OD"
	switch {
	case im.Float && im.BitsAllocated != 32 && im.BitsAllocated != 64:
		return nil, bad("Bits Allocated %d with float pixel data", im.BitsAllocated)
	case im.Float:
	case im.BitsAllocated == 1 || im.BitsAllocated == 8 || im.BitsAllocated == 16 || im.BitsAllocated == 32:
	default:
		return nil, fmt.Errorf("viewer: open %q: %w: Bits Allocated %d", name, ErrUnsupported, im.BitsAllocated)
	}
	if !im.Float {
		im.BitsStored = im.BitsAllocated
		if v, ok := d.Int(dataset.BitsStored); ok {
			im.BitsStored = v
		}
		if im.BitsStored < 1 || im.BitsStored > im.BitsAllocated {
			return nil, bad("Bits Stored %d with Bits Allocated %d", im.BitsStored, im.BitsAllocated)
		}
		im.HighBit = im.BitsStored - 1
		if v, ok := d.Int(dataset.HighBit); ok {
			im.HighBit = v
		}
		im.PixelRepresentation, _ = d.Int(dataset.PixelRepresentation)
	}
	im.PlanarConfiguration, _ = d.Int(dataset.PlanarConfiguration)
	im.Photometric = strings.TrimSpace(d.String(dataset.PhotometricInterpretation))
	if im.Photometric == "" {
		if im.Samples == 3 {
			im.Photometric = "RGB"
		} else {
			im.Photometric = "MONOCHROME2"
		}
	}
	switch im.Photometric {
	case "MONOCHROME1", "MONOCHROME2", "PALETTE COLOR":
		if im.Samples != 1 {
			return nil, bad("%s with %d samples per pixel", im.Photometric, im.Samples)
		}
	case "RGB", "YBR_FULL", "YBR_FULL_422", "YBR_RCT", "YBR_ICT", "YBR_PARTIAL_420":
		if im.Samples != 3 {
			return nil, bad("%s with %d samples per pixel", im.Photometric, im.Samples)
		}
	default:
		return nil, fmt.Errorf("viewer: open %q: %w: Photometric Interpretation %q", name, ErrUnsupported, im.Photometric)
	}
	if n := int64(im.Rows) * int64(im.Cols) * int64(im.Samples); n > maxFrameSamples {
		return nil, bad("frame of %dx%dx%d samples is too large", im.Rows, im.Cols, im.Samples)
	}
	return im, nil
}

// NumFrames returns the number of frames.
func (im *Image) NumFrames() int { return im.Frames }

// ColorSpace returns what a decoded frame's samples are, as far as the header
// says (a codec may report RGB for a YBR header when it converted the colours).
func (im *Image) ColorSpace() ColorSpace {
	switch {
	case im.Samples == 1 && im.Photometric == "PALETTE COLOR":
		return PaletteIndex
	case im.Samples == 1:
		return Monochrome
	case im.Photometric == "YBR_FULL" || im.Photometric == "YBR_FULL_422":
		return YBRFull
	}
	return RGB
}

// Monochrome1 reports whether the image is MONOCHROME1 (displayed inverted).
func (im *Image) Monochrome1() bool { return im.Photometric == "MONOCHROME1" }

// Frame decodes frame n (from 0) into its stored values. Only that frame's bytes
// are read and decoded.
func (im *Image) Frame(n int) (*Frame, error) {
	if n < 0 || n >= im.Frames {
		return nil, fmt.Errorf("viewer: frame %d of %q: %w (%d frames)", n, im.File.Name, ErrFrameRange, im.Frames)
	}
	var fr *Frame
	var err error
	if im.File.Pixel.Encapsulated {
		fr, err = im.encapsulatedFrame(n)
	} else {
		fr, err = im.nativeFrame(n)
	}
	if err != nil {
		return nil, fmt.Errorf("viewer: frame %d of %q: %w", n, im.File.Name, err)
	}
	fr.Index = n
	return fr, nil
}

// newFrame allocates the typed slice a frame of this image is kept in, zeroed.
func (im *Image) newFrame(color ColorSpace) *Frame {
	return im.allocFrame(color, true)
}

// newFrameOverwritten is newFrame for a caller that writes every sample
// before anything reads one: recycled memory is not cleared first.
func (im *Image) newFrameOverwritten(color ColorSpace) *Frame {
	return im.allocFrame(color, false)
}

func (im *Image) allocFrame(color ColorSpace, zero bool) *Frame {
	f := im.frameHeader(color)
	n := f.Len()
	switch {
	case im.Float && im.BitsAllocated == 64:
		f.F64 = makeSamples[float64](n, zero)
		f.Signed = true
	case im.Float:
		f.F32 = makeSamples[float32](n, zero)
		f.Signed = true
	case im.BitsAllocated <= 8 && f.Signed:
		f.I8 = makeSamples[int8](n, zero)
	case im.BitsAllocated <= 8:
		f.U8 = makeSamples[uint8](n, zero)
	case im.BitsAllocated == 16 && f.Signed:
		f.I16 = makeSamples[int16](n, zero)
	case im.BitsAllocated == 16:
		f.U16 = makeSamples[uint16](n, zero)
	case f.Signed:
		f.I32 = makeSamples[int32](n, zero)
	default:
		f.U32 = makeSamples[uint32](n, zero)
	}
	return f
}

// frameHeader returns a frame of this image without samples.
func (im *Image) frameHeader(color ColorSpace) *Frame {
	return &Frame{Rows: im.Rows, Cols: im.Cols, Samples: im.Samples, Color: color,
		BitsStored: im.BitsStored, Signed: im.PixelRepresentation == 1}
}
