package share

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"teleread/viewer"
	"teleread/viewer/dataset"
)

// The Clean Pixel Data Option (PS3.15 E.3.1, code 113101) blanks the parts of
// an image where burned-in text lies, so that an image whose Burned In
// Annotation is YES or absent can be shared:
//
//   - ultrasound: everything outside the Sequence of Ultrasound Regions
//     (0018,6011). Scanners draw the patient's name, dates and the
//     institution around the scan areas that these regions delimit, on every
//     frame. An ultrasound image without regions, or whose regions do not lie
//     within the image, is refused: nothing tells the scan from the text.
//   - other modalities: a band at the top of every frame (Options.CleanBand),
//     where modalities that burn text in usually put it.
//
// The result is written as Explicit VR Little Endian native pixel data,
// whatever the source's syntax: native sources stay native, compressed
// sources are decoded once (by the viewer's decoders) and written native.
// Re-encoding into the source's codec would either add loss (JPEG baseline,
// lossy JPEG 2000) or need encoders the project does not carry; native data
// add no loss, every reader takes them, and the export's zip deflates each
// member, so the blanked areas cost little. An image whose source was lossy
// keeps saying so (Lossy Image Compression 01).

// ErrCannotClean is returned (wrapped, with the reason) for an image whose
// pixels cannot be cleaned safely; the export leaves it out.
var ErrCannotClean = errors.New("pixels cannot be cleaned safely")

// codeCleanPixels is CID 7050's Clean Pixel Data Option.
const codeCleanPixels = "113101"

// Pixel module tags the cleaned image rewrites.
const (
	tagPhotometric         dataset.Tag = 0x00280004
	tagPlanarConfiguration dataset.Tag = 0x00280006
	tagBitsAllocated       dataset.Tag = 0x00280100
	tagHighBit             dataset.Tag = 0x00280102
	tagLossyCompression    dataset.Tag = 0x00282110
	tagLossyMethod         dataset.Tag = 0x00282114
)

// Band is the top band of a non-ultrasound image that the Clean Pixel Data
// Option blanks: Rows rows, or Percent of the image's rows (rounded up) when
// Percent is set. The zero value blanks nothing and is refused.
type Band struct {
	Rows    int
	Percent float64
}

// DefaultBand is the band blanked when none is configured: a tenth of the
// image, where CR, DX, XA and secondary capture devices print identity.
var DefaultBand = Band{Percent: 10}

// ParseBand reads a band as the command line gives it: "48" (rows) or "10%".
func ParseBand(s string) (Band, error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || !(v > 0 && v <= 100) {
			return Band{}, fmt.Errorf("share: band %q: want a percentage above 0 and at most 100", s)
		}
		return Band{Percent: v}, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 || v > dataset.MaxRows {
		return Band{}, fmt.Errorf("share: band %q: want rows (1..%d) or a percentage (10%%)", s, dataset.MaxRows)
	}
	return Band{Rows: v}, nil
}

// String returns the band as ParseBand reads it.
func (b Band) String() string {
	if b.Percent > 0 {
		return strconv.FormatFloat(b.Percent, 'f', -1, 64) + "%"
	}
	return strconv.Itoa(b.Rows)
}

// rows returns the rows blanked in an image of n rows.
func (b Band) rows(n int) int {
	r := b.Rows
	if b.Percent > 0 {
		r = int(math.Ceil(float64(n) * b.Percent / 100))
	}
	return min(max(r, 0), n)
}

// rect is a pixel rectangle, inclusive at both ends (as regions are given).
type rect struct{ x0, y0, x1, y1 int }

// cleaner blanks the frames of one image and writes them as native pixel data.
type cleaner struct {
	im    *viewer.Image
	keep  []rect // ultrasound: the regions kept; nil for a top band
	band  int    // other modalities: rows blanked from the top
	first *viewer.Frame
	// what the written frames are
	photometric string
	itemSize    int
}

// ultrasound reports whether f is an ultrasound image: by modality, or by SOP
// class when the modality is missing.
func ultrasound(f *dataset.File) bool {
	switch strings.TrimSpace(f.String(dataset.SOPClassUID)) {
	case "1.2.840.10008.5.1.4.1.1.6.1", "1.2.840.10008.5.1.4.1.1.3.1", // US Image, US Multi-frame Image
		"1.2.840.10008.5.1.4.1.1.6", "1.2.840.10008.5.1.4.1.1.3": // retired
		return true
	}
	return strings.EqualFold(strings.TrimSpace(f.String(dataset.Modality)), "US")
}

// newCleaner checks that f can be cleaned and decodes (and blanks) its first
// frame, so that an image that cannot be is refused before anything of it is
// written.
func newCleaner(f *dataset.File, band Band) (*cleaner, error) {
	im, err := viewer.NewImage(f)
	if err != nil {
		return nil, fmt.Errorf("share: clean pixels: %w", err)
	}
	if im.Float || im.BitsAllocated == 1 {
		return nil, fmt.Errorf("share: clean pixels: %w: %d-bit %s pixel data are not cleaned", ErrCannotClean, im.BitsAllocated,
			map[bool]string{true: "float", false: "binary"}[im.Float])
	}
	c := &cleaner{im: im}
	if ultrasound(f) {
		items := f.Items(dataset.SequenceOfUltrasoundRegions)
		if len(items) == 0 {
			return nil, fmt.Errorf("share: clean pixels: %w: ultrasound image without a Sequence of Ultrasound Regions (nothing tells the scan area from burned-in text)", ErrCannotClean)
		}
		for i, r := range viewer.CalibrationOf(f.DataSet, 0).Regions() {
			if r.X0 < 0 || r.Y0 < 0 || r.X0 > r.X1 || r.Y0 > r.Y1 || r.X1 >= im.Cols || r.Y1 >= im.Rows {
				return nil, fmt.Errorf("share: clean pixels: %w: ultrasound region %d (%d,%d)-(%d,%d) does not lie within the %dx%d image (the regions do not describe these pixels)",
					ErrCannotClean, i+1, r.X0, r.Y0, r.X1, r.Y1, im.Cols, im.Rows)
			}
			c.keep = append(c.keep, rect{r.X0, r.Y0, r.X1, r.Y1})
		}
	} else {
		if c.band = band.rows(im.Rows); c.band == 0 {
			return nil, fmt.Errorf("share: clean pixels: %w: a band of %s blanks no row", ErrCannotClean, band)
		}
	}
	fr, err := im.Frame(0)
	if err != nil {
		return nil, fmt.Errorf("share: clean pixels: %w", err)
	}
	switch fr.Color {
	case viewer.Monochrome:
		c.photometric = im.Photometric
	case viewer.PaletteIndex:
		c.photometric = "PALETTE COLOR"
	case viewer.RGB:
		c.photometric = "RGB"
	case viewer.YBRFull:
		c.photometric = "YBR_FULL"
	default:
		return nil, fmt.Errorf("share: clean pixels: %w: colour space %v", ErrCannotClean, fr.Color)
	}
	c.itemSize = fr.ItemSize()
	c.blank(fr)
	c.first = fr
	return c, nil
}

// frameBytes is the size of one written frame.
func (c *cleaner) frameBytes() int64 {
	return int64(c.im.Rows) * int64(c.im.Cols) * int64(c.im.Samples) * int64(c.itemSize)
}

// blank sets every sample outside what is kept to black: zero, except the
// chroma of YBR, whose black is mid-scale (zero chroma would show green).
func (c *cleaner) blank(fr *viewer.Frame) {
	cols, spp := fr.Cols, fr.Samples
	row := make([]bool, cols) // row[x]: pixel x of the current row is kept
	for y := 0; y < fr.Rows; y++ {
		clear(row)
		if c.keep == nil {
			if y >= c.band {
				continue // below the band every pixel is kept
			}
		} else {
			for _, r := range c.keep {
				if y >= r.y0 && y <= r.y1 {
					for x := r.x0; x <= r.x1; x++ {
						row[x] = true
					}
				}
			}
		}
		for x := 0; x < cols; x++ {
			if row[x] {
				continue
			}
			for s := 0; s < spp; s++ {
				var v uint32
				if fr.Color == viewer.YBRFull && s > 0 {
					v = 1 << (fr.BitsStored - 1)
				}
				setSample(fr, (y*cols+x)*spp+s, v)
			}
		}
	}
}

func setSample(fr *viewer.Frame, i int, v uint32) {
	switch {
	case fr.U8 != nil:
		fr.U8[i] = uint8(v)
	case fr.I8 != nil:
		fr.I8[i] = int8(v)
	case fr.U16 != nil:
		fr.U16[i] = uint16(v)
	case fr.I16 != nil:
		fr.I16[i] = int16(v)
	case fr.U32 != nil:
		fr.U32[i] = v
	case fr.I32 != nil:
		fr.I32[i] = int32(v)
	}
}

// elements returns the attributes that describe the cleaned pixels, to
// replace the source's: the colour and layout of the written frames, Burned
// In Annotation NO, and the lossy flag of a lossy source. Values are little
// endian (the cleaned image is written in explicit VR little endian).
func (c *cleaner) elements(f *dataset.File) []elem {
	us := func(t dataset.Tag, v int) elem {
		return elem{tag: t, vr: "US", value: binary.LittleEndian.AppendUint16(nil, uint16(v))}
	}
	out := []elem{
		{tag: tagPhotometric, vr: "CS", value: []byte(c.photometric)},
		us(tagBitsAllocated, 8*c.itemSize),
		// Frames hold the low Bits Stored bits (the viewer masks the rest,
		// where overlays and junk may lie).
		us(tagHighBit, c.im.BitsStored-1),
		{tag: tagBurnedInAnnotation, vr: "CS", value: []byte("NO")},
	}
	if c.im.Samples == 3 {
		out = append(out, us(tagPlanarConfiguration, 0))
	}
	if viewer.LossySyntax(f.TransferSyntax) && strings.TrimSpace(f.String(tagLossyCompression)) != "01" {
		out = append(out, elem{tag: tagLossyCompression, vr: "CS", value: []byte("01")})
		if m := lossyMethod(f.TransferSyntax); m != "" && strings.TrimSpace(f.String(tagLossyMethod)) == "" {
			out = append(out, elem{tag: tagLossyMethod, vr: "CS", value: []byte(m)})
		}
	}
	return out
}

// replacedByCleaning are the source attributes the cleaned image drops or
// rewrites: the pixel description above, and the pixel value range (blanked
// samples may lie outside it).
var replacedByCleaning = []dataset.Tag{
	tagPhotometric, tagPlanarConfiguration, tagBitsAllocated, tagHighBit, tagBurnedInAnnotation,
	0x00280106, 0x00280107, 0x00280108, 0x00280109, // smallest/largest image and series pixel values
	dataset.ExtendedOffsetTable, dataset.ExtendedOffsetTableLengths,
}

// lossyMethod names the Lossy Image Compression Method (CID 7013) of a lossy
// transfer syntax.
func lossyMethod(ts string) string {
	switch ts {
	case dataset.JPEGBaseline, dataset.JPEGExtended:
		return "ISO_10918_1"
	case dataset.JPEGLSNearLossless:
		return "ISO_14495_1"
	case dataset.JPEG2000, "1.2.840.10008.1.2.4.93":
		return "ISO_15444_1"
	case dataset.HTJ2K:
		return "ISO_15444_15"
	}
	return ""
}

// writeTo writes the Pixel Data element: the frames decoded, blanked and
// written one at a time (only one frame is held), little endian.
func (c *cleaner) writeTo(put func([]byte) error, tag dataset.Tag) error {
	n := c.frameBytes() * int64(c.im.Frames)
	vr := "OW"
	if c.itemSize == 1 {
		vr = "OB"
	}
	h, err := encoder{}.header(nil, tag, vr, uint64(n+n%2))
	if err != nil {
		return err
	}
	if err := put(h); err != nil {
		return err
	}
	for i := 0; i < c.im.Frames; i++ {
		fr := c.first
		if i > 0 || fr == nil {
			if fr, err = c.im.Frame(i); err != nil {
				return fmt.Errorf("share: clean pixels: %w", err)
			}
			if fr.ItemSize() != c.itemSize || fr.Samples != c.im.Samples {
				return fmt.Errorf("share: clean pixels: frame %d decodes unlike frame 0", i)
			}
			c.blank(fr)
		}
		if err := put(fr.Bytes()); err != nil {
			return err
		}
	}
	c.first = nil // a second write decodes frame 0 again
	if n%2 == 1 {
		return put([]byte{0})
	}
	return nil
}
