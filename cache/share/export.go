package share

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"teleread/cache"
	"teleread/viewer/dataset"
)

// Record describes one exported file: where it lies in the file set and the
// (already de-identified) keys its DICOMDIR records need.
type Record struct {
	FileID            []string // path components in the file set, e.g. DICOM, IM000001
	Source            string   // the cached file it was made from
	SOPClassUID       string
	SOPInstanceUID    string
	TransferSyntaxUID string
	keys              []elem // top-level elements without pixel data, little endian
}

func (r Record) str(t dataset.Tag) string {
	for _, e := range r.keys {
		if e.tag == t {
			return strings.TrimRight(string(e.value), "\x00 ")
		}
	}
	return ""
}

// Skipped names an instance left out of an export and why.
type Skipped struct {
	Series         string // series number and description, as the export shows them
	InstanceNumber string
	Reason         string
}

// Summary says what an export did.
type Summary struct {
	Deidentified bool
	Options      Options
	Studies      int
	Series       int
	Instances    int       // files written
	BurnedIn     []Skipped // left out because Burned In Annotation is YES or absent (or their pixels could not be cleaned)
	Cleaned      int       // images whose pixels the Clean Pixel Data Option blanked
	Failed       []Skipped // could not be read or written
	Records      []Record  // one per file written, in order
}

// ErrNothingToExport is returned when a study has no instance in the cache.
var ErrNothingToExport = errors.New("share: nothing to export")

// Exporter copies cached studies out, de-identified or not.
type Exporter struct {
	Cache *cache.Cache
	// Deidentify applies the Basic Application Level Confidentiality Profile
	// with Options; when false files are copied as stored (files without a
	// meta header get one).
	Deidentify bool
	Options    Options
	// Progress, when set, is called after each instance is written with
	// the number written so far (the CLI's progress line).
	Progress func(written int)
}

// prepared is one instance ready to be written.
type prepared struct {
	f   *dataset.File
	c   *cache.Cache
	sop string // copy this instance's bytes as received when es is nil
	es  []elem
	rec Record
}

func (p *prepared) writeTo(w io.Writer) error {
	if p.es == nil {
		// The bytes as received: decrypted, since the destination is the
		// user's choice.
		src, err := p.c.OpenStored(p.sop)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(w, io.NewSectionReader(src, 0, src.Size()))
		return err
	}
	_, err := writePart10(w, p.rec.SOPClassUID, p.rec.SOPInstanceUID, p.rec.TransferSyntaxUID, p.es, p.f)
	return err
}

// outputSyntax is the transfer syntax a rewritten file is written in: the
// source's, except that implicit VR and deflated data sets become explicit VR
// little endian (every reader takes it, and the VRs travel with the data).
// Big endian sources stay big endian, so that pixel data are copied byte for
// byte.
func outputSyntax(ts string) string {
	switch ts {
	case implicitVRLittleEndian, deflatedExplicitVRLE, "":
		return explicitVRLittleEndian
	}
	return ts
}

// each walks the studies' instances in series order, preparing each one and
// handing it to fn; fn must not keep p after it returns.
func (x *Exporter) each(studyUIDs []string, fn func(p *prepared) error) (Summary, error) {
	sum := Summary{Deidentified: x.Deidentify, Options: x.Options}
	var d *Deidentifier
	if x.Deidentify {
		var err error
		if d, err = NewDeidentifier(x.Options); err != nil {
			return sum, err
		}
	}
	n := 0
	for _, study := range studyUIDs {
		series, err := x.Cache.SeriesOf(study)
		if err != nil {
			return sum, fmt.Errorf("share: export %s: %w", study, err)
		}
		if len(series) == 0 {
			return sum, fmt.Errorf("share: export %s: %w", study, ErrNothingToExport)
		}
		sum.Studies++
		for _, s := range series {
			insts, err := x.Cache.InstancesOf(s.SeriesInstanceUID)
			if err != nil {
				return sum, fmt.Errorf("share: export %s: %w", study, err)
			}
			sort.SliceStable(insts, func(i, j int) bool { return insts[i].InstanceNumber < insts[j].InstanceNumber })
			// A de-identified export's summary names a series by its number
			// only: the description is free text that may name the patient.
			label := fmt.Sprintf("series %d", s.SeriesNumber)
			if !x.Deidentify {
				label = strings.TrimSpace(label + " " + s.Description)
			}
			wrote := false
			for _, in := range insts {
				num := fmt.Sprint(in.InstanceNumber)
				f, err := x.Cache.OpenInstance(in.SOPInstanceUID)
				if err != nil {
					sum.Failed = append(sum.Failed, Skipped{label, num, x.reason(err, in.Path)})
					continue
				}
				var c *cleaner
				if x.Deidentify && x.Options.CleanPixels && BurnedIn(f) {
					band := x.Options.CleanBand
					if band == (Band{}) {
						band = DefaultBand
					}
					if c, err = newCleaner(f, band); err != nil {
						f.Close()
						sum.BurnedIn = append(sum.BurnedIn, Skipped{label, num, x.reason(err, in.Path)})
						continue
					}
				} else if x.Deidentify && !x.Options.IncludeBurnedIn && BurnedIn(f) {
					why := "Burned In Annotation is YES"
					if strings.TrimSpace(f.String(tagBurnedInAnnotation)) == "" {
						why = "Burned In Annotation is absent"
					}
					f.Close()
					sum.BurnedIn = append(sum.BurnedIn, Skipped{label, num, why})
					continue
				}
				n++
				p, err := x.prepare(d, f, in, study, n, c)
				if err == nil {
					err = fn(p)
				}
				f.Close()
				if err != nil {
					n--
					sum.Failed = append(sum.Failed, Skipped{label, num, x.reason(err, in.Path)})
					continue
				}
				wrote = true
				sum.Instances++
				if c != nil {
					sum.Cleaned++
				}
				if x.Progress != nil {
					x.Progress(sum.Instances)
				}
				sum.Records = append(sum.Records, p.rec)
			}
			if wrote {
				sum.Series++
			}
		}
	}
	return sum, nil
}

// reason is an error as the summary shows it. A de-identified export's
// summary does not name the cached file: its name is the original SOP
// Instance UID.
func (x *Exporter) reason(err error, path string) string {
	if !x.Deidentify {
		return err.Error()
	}
	return strings.ReplaceAll(err.Error(), path, "the cached file")
}

func (x *Exporter) prepare(d *Deidentifier, f *dataset.File, in cache.Instance, study string, n int, c *cleaner) (*prepared, error) {
	p := &prepared{f: f, c: x.Cache, sop: in.SOPInstanceUID}
	p.rec.Source = in.Path
	p.rec.FileID = []string{"DICOM", fmt.Sprintf("IM%06d", n)}
	if n > 999999 {
		return nil, fmt.Errorf("share: more than 999999 files in one export")
	}
	ts := outputSyntax(f.TransferSyntax)
	if c != nil {
		ts = explicitVRLittleEndian // cleaned pixels are written native, little endian
	}
	big := ts == explicitVRBigEndian
	switch {
	case d != nil:
		es, err := d.deidentify(f, ts, c)
		if err != nil {
			return nil, err
		}
		p.es = es
	case f.HasMeta && f.Meta.String(dataset.MediaStorageSOPInstanceUID) != "":
		ts = f.TransferSyntax // copied as stored
	default:
		p.es = sortElems(identity(f.DataSet, big))
		if f.Pixel != nil {
			p.es = sortElems(append(p.es, elem{tag: f.Pixel.Tag, vr: f.Pixel.VR, pixel: f.Pixel}))
		}
	}
	if p.es != nil {
		// Files without their own UIDs are indexed under UIDs the cache
		// derived from their content; the copy carries those (replaced too
		// when de-identifying), so that it is a valid instance.
		need := []struct {
			tag dataset.Tag
			uid string
		}{{dataset.SOPClassUID, in.SOPClassUID}, {dataset.SOPInstanceUID, in.SOPInstanceUID},
			{dataset.StudyInstanceUID, study}, {dataset.SeriesInstanceUID, in.SeriesInstanceUID}}
		for _, k := range need {
			if f.String(k.tag) != "" || k.uid == "" {
				continue
			}
			uid := k.uid
			if d != nil && k.tag != dataset.SOPClassUID {
				var err error
				if uid, err = d.UID(uid); err != nil {
					return nil, err
				}
			}
			p.es = sortElems(append(dropTags(p.es, k.tag), elem{tag: k.tag, vr: "UI", value: []byte(uid)}))
		}
		for _, e := range p.es {
			if e.pixel == nil && (e.vr != "SQ" || !big) {
				p.rec.keys = append(p.rec.keys, e)
			}
		}
	} else {
		p.rec.keys = identity(f.DataSet, false)
	}
	p.rec.TransferSyntaxUID = ts
	p.rec.SOPClassUID = p.rec.str(dataset.SOPClassUID)
	p.rec.SOPInstanceUID = p.rec.str(dataset.SOPInstanceUID)
	if p.rec.SOPClassUID == "" || p.rec.SOPInstanceUID == "" {
		return nil, fmt.Errorf("share: no SOP Class or SOP Instance UID")
	}
	return p, nil
}

// WriteZip writes the studies as a zip file set: the files under DICOM/ with
// 8.3-safe names and a DICOMDIR at the root, so that any viewer can open it.
func (x *Exporter) WriteZip(w io.Writer, studyUIDs []string) (Summary, error) {
	zw := zip.NewWriter(w)
	mod := time.Now()
	sum, err := x.each(studyUIDs, func(p *prepared) error {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: strings.Join(p.rec.FileID, "/"), Method: zip.Deflate, Modified: mod})
		if err != nil {
			return err
		}
		return p.writeTo(fw)
	})
	if err != nil {
		zw.Close()
		return sum, err
	}
	if sum.Instances == 0 {
		zw.Close()
		return sum, fmt.Errorf("share: export: %w (every instance was left out)", ErrNothingToExport)
	}
	dir, err := DICOMDIR(sum.Records)
	if err != nil {
		zw.Close()
		return sum, err
	}
	fw, err := zw.CreateHeader(&zip.FileHeader{Name: "DICOMDIR", Method: zip.Deflate, Modified: mod})
	if err == nil {
		_, err = fw.Write(dir)
	}
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return sum, fmt.Errorf("share: write zip: %w", err)
	}
	return sum, nil
}

// WriteFiles hands each exported file's bytes to fn (for STOW-RS, say), in
// series order. A file fn refuses is counted as failed.
func (x *Exporter) WriteFiles(studyUIDs []string, fn func(rec Record, data []byte) error) (Summary, error) {
	return x.each(studyUIDs, func(p *prepared) error {
		var b bytes.Buffer
		if err := p.writeTo(&b); err != nil {
			return err
		}
		return fn(p.rec, b.Bytes())
	})
}
