package cachetest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// CTSeries describes a synthetic series WriteCTSeries makes.
type CTSeries struct {
	Dir          string // where the files go (created if needed)
	StudyUID     string
	SeriesUID    string // instance UIDs are SeriesUID.1, SeriesUID.2, ...
	SeriesNumber int
	Slices       int
	Size         int    // rows and columns; 0 means 512
	Modality     string // "" means CT
	Accession    string
	Reader       string // NameOfPhysiciansReadingStudy
	Seed         uint64 // the noise; the same seed gives the same files
}

// WriteCTSeries writes a series of uncompressed (explicit VR little endian)
// 16-bit slices of a body phantom (soft tissue, fat, lungs, spine and a
// table, each with CT-like noise, inside a round field of view padded with a
// constant outside it) and returns their paths in slice order. The content
// is meant to compress like a real CT: a lossless codec gains about what it
// gains on patient images, not the hundredfold of a blank image.
func WriteCTSeries(s CTSeries) ([]string, error) {
	if s.Size == 0 {
		s.Size = 512
	}
	if s.Modality == "" {
		s.Modality = "CT"
	}
	if s.Slices < 1 || s.Size < 16 || s.Size > 4096 {
		return nil, fmt.Errorf("cachetest: synthetic series: %d slices of %d pixels", s.Slices, s.Size)
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("cachetest: %w", err)
	}
	rng := rand.New(rand.NewPCG(s.Seed, uint64(s.SeriesNumber)))
	paths := make([]string, s.Slices)
	pix := make([]byte, 2*s.Size*s.Size)
	for i := range s.Slices {
		z := float64(i) / float64(max(s.Slices-1, 1)) // 0 at the top, 1 at the bottom
		phantom(pix, s.Size, z, rng)
		sop := fmt.Sprintf("%s.%d", s.SeriesUID, i+1)
		data := ctFile(s, sop, i, pix)
		paths[i] = filepath.Join(s.Dir, fmt.Sprintf("S%03d_IM%05d.dcm", s.SeriesNumber, i))
		if err := os.WriteFile(paths[i], data, 0o644); err != nil {
			return nil, fmt.Errorf("cachetest: %w", err)
		}
	}
	return paths, nil
}

// phantom fills pix (stored values, intercept -1024) with one slice at
// height z in [0,1].
func phantom(pix []byte, n int, z float64, rng *rand.Rand) {
	c := float64(n) / 2
	// The body narrows toward the top; the lungs fill the upper half.
	bodyA, bodyB := 0.40*float64(n)*(0.85+0.15*z), 0.28*float64(n)*(0.9+0.1*z)
	lung := math.Max(0, math.Sin(math.Pi*z*1.6))
	for y := range n {
		for x := range n {
			dx, dy := float64(x)-c, float64(y)-c
			hu, sigma := -1000.0, 6.0
			if dx*dx+dy*dy > c*c*0.98 {
				binary.LittleEndian.PutUint16(pix[2*(y*n+x):], 0) // outside the field of view
				continue
			}
			if e := (dx*dx)/(bodyA*bodyA) + (dy*dy)/(bodyB*bodyB); e < 1 {
				hu, sigma = 40+8*math.Sin(dx/17)*math.Cos(dy/23), 14
				if e > 0.82 {
					hu = -100 // subcutaneous fat
				}
				for _, side := range []float64{-1, 1} {
					lx, ly := dx-side*0.45*bodyA, dy+0.1*bodyB
					if lung > 0 && (lx*lx)/(0.35*bodyA*0.35*bodyA)+(ly*ly)/(0.6*bodyB*0.6*bodyB) < lung {
						hu, sigma = -850+30*math.Sin(lx/5)*math.Sin(ly/7), 20
					}
				}
				sx, sy := dx, dy-0.62*bodyB
				if r := sx*sx + sy*sy; r < (0.09*bodyB)*(0.09*bodyB) {
					hu = 250 // marrow
				} else if r < (0.14*bodyB)*(0.14*bodyB) {
					hu, sigma = 900, 30 // cortical bone
				}
			} else if dy > bodyB*1.05 && dy < bodyB*1.12 && math.Abs(dx) < 0.8*c {
				hu, sigma = 200, 10 // the table
			}
			v := hu + 1024 + sigma*rng.NormFloat64()
			binary.LittleEndian.PutUint16(pix[2*(y*n+x):], uint16(math.Max(0, math.Min(4095, math.Round(v)))))
		}
	}
}

// ctFile encodes one slice as a DICOM Part 10 file.
func ctFile(s CTSeries, sop string, i int, pix []byte) []byte {
	const ctImage = "1.2.840.10008.5.1.4.1.1.2"
	const explicitLE = "1.2.840.10008.1.2.1"
	var meta, ds bytes.Buffer
	put(&meta, 0x0002, 0x0001, "OB", "\x00\x01")
	put(&meta, 0x0002, 0x0002, "UI", ctImage)
	put(&meta, 0x0002, 0x0003, "UI", sop)
	put(&meta, 0x0002, 0x0010, "UI", explicitLE)
	put(&meta, 0x0002, 0x0012, "UI", "1.2.826.0.1.3680043.10.1107.1")
	spacing := 350.0 / float64(s.Size)
	put(&ds, 0x0008, 0x0016, "UI", ctImage)
	put(&ds, 0x0008, 0x0018, "UI", sop)
	put(&ds, 0x0008, 0x0020, "DA", "20261205")
	put(&ds, 0x0008, 0x0030, "TM", "101500")
	put(&ds, 0x0008, 0x0050, "SH", s.Accession)
	put(&ds, 0x0008, 0x0060, "CS", s.Modality)
	put(&ds, 0x0008, 0x1030, "LO", "SYNTHETIC CHEST ABDOMEN")
	put(&ds, 0x0008, 0x103E, "LO", fmt.Sprintf("SYNTHETIC %d", s.SeriesNumber))
	put(&ds, 0x0008, 0x1060, "PN", s.Reader)
	put(&ds, 0x0010, 0x0010, "PN", "SYNTHETIC^PHANTOM")
	put(&ds, 0x0010, 0x0020, "LO", "SYNTH0001")
	put(&ds, 0x0018, 0x0050, "DS", "1.25")
	put(&ds, 0x0020, 0x000D, "UI", s.StudyUID)
	put(&ds, 0x0020, 0x000E, "UI", s.SeriesUID)
	put(&ds, 0x0020, 0x0011, "IS", fmt.Sprint(s.SeriesNumber))
	put(&ds, 0x0020, 0x0013, "IS", fmt.Sprint(i+1))
	put(&ds, 0x0020, 0x0032, "DS", fmt.Sprintf("-175\\-175\\%.2f", -1.25*float64(i)))
	put(&ds, 0x0020, 0x0037, "DS", "1\\0\\0\\0\\1\\0")
	putUS(&ds, 0x0028, 0x0002, 1)
	put(&ds, 0x0028, 0x0004, "CS", "MONOCHROME2")
	putUS(&ds, 0x0028, 0x0010, uint16(s.Size))
	putUS(&ds, 0x0028, 0x0011, uint16(s.Size))
	put(&ds, 0x0028, 0x0030, "DS", fmt.Sprintf("%.4f\\%.4f", spacing, spacing))
	putUS(&ds, 0x0028, 0x0100, 16)
	putUS(&ds, 0x0028, 0x0101, 12)
	putUS(&ds, 0x0028, 0x0102, 11)
	putUS(&ds, 0x0028, 0x0103, 0)
	put(&ds, 0x0028, 0x1050, "DS", "40")
	put(&ds, 0x0028, 0x1051, "DS", "400")
	put(&ds, 0x0028, 0x1052, "DS", "-1024")
	put(&ds, 0x0028, 0x1053, "DS", "1")
	put(&ds, 0x7FE0, 0x0010, "OW", string(pix))

	var out bytes.Buffer
	out.Write(make([]byte, 128))
	out.WriteString("DICM")
	var gl [4]byte
	binary.LittleEndian.PutUint32(gl[:], uint32(meta.Len()))
	putRaw(&out, 0x0002, 0x0000, "UL", gl[:])
	out.Write(meta.Bytes())
	out.Write(ds.Bytes())
	return out.Bytes()
}

func putUS(b *bytes.Buffer, group, elem, v uint16) {
	var x [2]byte
	binary.LittleEndian.PutUint16(x[:], v)
	putRaw(b, group, elem, "US", x[:])
}

// put writes a string element, padded to even length (UIDs with NUL, text
// with a space).
func put(b *bytes.Buffer, group, elem uint16, vr, v string) {
	if len(v)%2 == 1 {
		if vr == "UI" || vr == "OB" {
			v += "\x00"
		} else {
			v += " "
		}
	}
	putRaw(b, group, elem, vr, []byte(v))
}

func putRaw(b *bytes.Buffer, group, elem uint16, vr string, v []byte) {
	var h [12]byte
	binary.LittleEndian.PutUint16(h[0:], group)
	binary.LittleEndian.PutUint16(h[2:], elem)
	copy(h[4:6], vr)
	if strings.Contains("OB OW OF SQ UT UN", vr) {
		binary.LittleEndian.PutUint32(h[8:], uint32(len(v)))
		b.Write(h[:12])
	} else {
		binary.LittleEndian.PutUint16(h[6:], uint16(len(v)))
		b.Write(h[:8])
	}
	b.Write(v)
}
