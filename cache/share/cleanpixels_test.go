package share

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"teleread/viewer/dataset"
)

// pixelDump is what pydicom reads of a native file (dumpPixels).
type pixelDump struct {
	Rows, Columns, Samples, Bits, Planar, Frames int
	Photometric                                  string
	Regions                                      [][4]int // x0, y0, x1, y1
}

// dumpPixelsPy reads a file with pydicom (no numpy needed): the pixel
// description, the ultrasound regions, and Pixel Data's bytes to a file.
const dumpPixelsPy = `
import json, sys, pydicom
ds = pydicom.dcmread(sys.argv[1])
open(sys.argv[2], "wb").write(ds.PixelData)
regions = [[int(r.RegionLocationMinX0), int(r.RegionLocationMinY0), int(r.RegionLocationMaxX1), int(r.RegionLocationMaxY1)]
           for r in ds.get("SequenceOfUltrasoundRegions", [])]
print(json.dumps({"Rows": int(ds.Rows), "Columns": int(ds.Columns), "Samples": int(ds.SamplesPerPixel),
    "Bits": int(ds.BitsAllocated), "Planar": int(ds.get("PlanarConfiguration", 0) or 0),
    "Frames": int(ds.get("NumberOfFrames", 1) or 1), "Photometric": ds.PhotometricInterpretation,
    "Regions": regions, "LE": ds.is_little_endian}))
`

// dumpPixels decodes path independently of the code under test: gdcmconv
// --raw writes it native (decompressing whatever codec it uses), pydicom
// reads that.
func dumpPixels(t *testing.T, path string) (pixelDump, []byte) {
	t.Helper()
	dir := t.TempDir()
	raw := filepath.Join(dir, "raw.dcm")
	if out, err := exec.Command("gdcmconv", "--raw", path, raw).CombinedOutput(); err != nil {
		t.Fatalf("gdcmconv --raw %s: %v\n%s", path, err, out)
	}
	bin := filepath.Join(dir, "pixels.bin")
	out, err := exec.Command("/usr/bin/python3", "-c", dumpPixelsPy, raw, bin).Output()
	if err != nil {
		t.Fatalf("pydicom %s: %v", path, err)
	}
	var d pixelDump
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatalf("pydicom %s: %v: %s", path, err, out)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	return d, b
}

// sampleAt returns sample s of pixel (x, y) of frame f, whatever the planar
// configuration.
func (d pixelDump) sampleAt(b []byte, f, x, y, s int) uint32 {
	bps := d.Bits / 8
	frame := d.Rows * d.Columns * d.Samples * bps
	i := (y*d.Columns+x)*d.Samples + s
	if d.Planar == 1 {
		i = s*d.Rows*d.Columns + y*d.Columns + x
	}
	o := f*frame + i*bps
	switch bps {
	case 1:
		return uint32(b[o])
	case 2:
		return uint32(b[o]) | uint32(b[o+1])<<8
	}
	return uint32(b[o]) | uint32(b[o+1])<<8 | uint32(b[o+2])<<16 | uint32(b[o+3])<<24
}

// TestCleanPixels exports real ultrasound (and one CT) files of the corpus
// with the Clean Pixel Data Option and decodes the copies independently
// (gdcmconv, pydicom): outside the ultrasound regions, or in the top band of
// the CT, every sample is zero (black; YBR chroma mid-scale), inside every
// sample equals the original's decode; the copy says Burned In Annotation NO,
// lists 113101 in the De-identification Method Code Sequence, and dciodvfy
// finds no error the original did not have. Ultrasound without regions, or
// with regions outside the image, is left out with the reason.
func TestCleanPixels(t *testing.T) {
	need(t, "gdcmconv", "dcmodify", "dciodvfy", "dcmconv", "/usr/bin/python3")
	// us1_j2k_lossless_ybr_rct has no regions; a copy gets one, so that a
	// compressed (JPEG 2000) ultrasound source is cleaned too.
	withRegion := filepath.Join(t.TempDir(), "us1_with_region.dcm")
	b, err := os.ReadFile(filepath.Join(corpusFiles, "us1_j2k_lossless_ybr_rct.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(withRegion, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("dcmodify", "-nb",
		"-i", "(0018,6011)[0].(0018,6012)=1", "-i", "(0018,6011)[0].(0018,6014)=1",
		"-i", "(0018,6011)[0].(0018,6018)=100", "-i", "(0018,6011)[0].(0018,601a)=50",
		"-i", "(0018,6011)[0].(0018,601c)=539", "-i", "(0018,6011)[0].(0018,601e)=429", withRegion).CombinedOutput(); err != nil {
		t.Fatalf("dcmodify: %v\n%s", err, out)
	}
	tests := []struct {
		name     string
		path     string
		band     Band
		bandRows int    // rows blanked when not ultrasound
		photo    string // Photometric Interpretation of the copy
		refused  string // the reason, when left out
	}{
		{name: "native palette, three regions", path: filepath.Join(corpusFiles, "us_palette_segmented_lut.dcm"), photo: "PALETTE COLOR"},
		{name: "JPEG 2000 YBR_RCT, one region", path: withRegion, photo: "RGB"},
		{name: "JPEG lossless CT, top tenth (default 10 percent)", path: filepath.Join(corpusFiles, "ct2_jpeg_lossless_sv1.dcm"), bandRows: 52, photo: "MONOCHROME2"},
		{name: "JPEG lossless CT, top 20 rows", path: filepath.Join(corpusFiles, "ct2_jpeg_lossless_sv1.dcm"), band: Band{Rows: 20}, bandRows: 20, photo: "MONOCHROME2"},
		{name: "ultrasound without regions", path: filepath.Join(corpusFiles, "us_rgb_planar1.dcm"),
			refused: "ultrasound image without a Sequence of Ultrasound Regions"},
		{name: "regions outside the image", path: filepath.Join(corpusFiles, "us_cine_jpeg_ybr422_30f.dcm"),
			refused: "ultrasound region 1 (84,31)-(595,414) does not lie within the 320x240 image"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openCache(t, tt.path)
			studies, _ := c.Studies()
			if len(studies) != 1 {
				t.Fatalf("%d studies", len(studies))
			}
			var buf bytes.Buffer
			x := &Exporter{Cache: c, Deidentify: true, Options: Options{CleanPixels: true, CleanBand: tt.band}}
			sum, err := x.WriteZip(&buf, []string{studies[0].StudyInstanceUID})
			if tt.refused != "" {
				if sum.Instances != 0 || len(sum.BurnedIn) != 1 || !strings.Contains(sum.BurnedIn[0].Reason, tt.refused) {
					t.Fatalf("exported %d, left out %v, err %v; want it left out saying %q", sum.Instances, sum.BurnedIn, err, tt.refused)
				}
				return
			}
			if err != nil || sum.Instances != 1 || sum.Cleaned != 1 {
				t.Fatalf("exported %d (cleaned %d), left out %v, failed %v, err %v", sum.Instances, sum.Cleaned, sum.BurnedIn, sum.Failed, err)
			}
			out := filepath.Join(unzip(t, buf.Bytes()), filepath.Join(sum.Records[0].FileID...))

			nf, err := dataset.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer nf.Close()
			if got := nf.String(tagBurnedInAnnotation); got != "NO" {
				t.Errorf("Burned In Annotation %q, want NO", got)
			}
			var codes []string
			for _, it := range nf.Items(tagDeidentificationMethodCodeSeq) {
				codes = append(codes, it.String(tagCodeValue))
			}
			if fmt.Sprint(codes) != fmt.Sprint([]string{codeBasicProfile, codeCleanPixels}) {
				t.Errorf("De-identification Method Code Sequence %v, want %s and %s", codes, codeBasicProfile, codeCleanPixels)
			}
			if nf.TransferSyntax != explicitVRLittleEndian {
				t.Errorf("transfer syntax %s, want explicit VR little endian", nf.TransferSyntax)
			}
			base := baselineErrors(t, tt.path)
			for e := range dciodvfyErrors(t, out) {
				if !base[e] {
					t.Errorf("new dciodvfy error: %s", e)
				}
			}

			od, ob := dumpPixels(t, tt.path)
			cd, cb := dumpPixels(t, out)
			if cd.Photometric != tt.photo || cd.Rows != od.Rows || cd.Columns != od.Columns || cd.Frames != od.Frames || cd.Samples != od.Samples {
				t.Fatalf("copy is %+v, original %+v; want photometric %s", cd, od, tt.photo)
			}
			kept := func(x, y int) bool {
				if tt.bandRows > 0 {
					return y >= tt.bandRows
				}
				for _, r := range od.Regions {
					if x >= r[0] && x <= r[2] && y >= r[1] && y <= r[3] {
						return true
					}
				}
				return false
			}
			var blanked, changedInside, notBlack, blankedWasData int
			for f := 0; f < od.Frames; f++ {
				for y := 0; y < od.Rows; y++ {
					for x := 0; x < od.Columns; x++ {
						in := kept(x, y)
						for s := 0; s < od.Samples; s++ {
							o, n := od.sampleAt(ob, f, x, y, s), cd.sampleAt(cb, f, x, y, s)
							switch {
							case in && o != n:
								changedInside++
							case !in && n != 0:
								notBlack++
							case !in:
								blanked++
								if o != 0 {
									blankedWasData++
								}
							}
						}
					}
				}
			}
			if changedInside > 0 || notBlack > 0 {
				t.Errorf("%d samples changed inside what is kept, %d outside it are not zero", changedInside, notBlack)
			}
			if blanked == 0 || blankedWasData == 0 {
				t.Errorf("%d samples blanked, %d of them non-zero before: the test checks nothing", blanked, blankedWasData)
			}
			t.Logf("%d samples blanked (%d non-zero before)", blanked, blankedWasData)
		})
	}
}

// TestParseBand: the band as the command line gives it.
func TestParseBand(t *testing.T) {
	tests := []struct {
		in      string
		want    Band
		rows    int // of 512
		wantErr bool
	}{
		{"10%", Band{Percent: 10}, 52, false},
		{"48", Band{Rows: 48}, 48, false},
		{"100%", Band{Percent: 100}, 512, false},
		{"1000", Band{Rows: 1000}, 512, false},
		{"0", Band{}, 0, true},
		{"0%", Band{}, 0, true},
		{"-5", Band{}, 0, true},
		{"150%", Band{}, 0, true},
		{"ten", Band{}, 0, true},
	}
	for _, tt := range tests {
		got, err := ParseBand(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseBand(%q) = %+v, %v; want %+v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
			continue
		}
		if err == nil && got.rows(512) != tt.rows {
			t.Errorf("ParseBand(%q) blanks %d of 512 rows, want %d", tt.in, got.rows(512), tt.rows)
		}
	}
}
