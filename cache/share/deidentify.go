package share

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"teleread/cache/report"
	"teleread/viewer/dataset"
)

// action is a Basic Profile action of PS3.15 Table E.1-1. The compound
// actions (X/Z, X/D, ...) say what to do when the simpler one would break the
// IOD; without the IOD's attribute types at hand, the de-identifier takes the
// action that keeps an attribute present (Z for X/Z, D for X/D, Z/D and
// X/Z/D, U or recursion for X/Z/U*), which never makes a conformant object
// non-conformant and still leaves no original value.
type action uint8

const (
	actX   action = iota + 1 // remove
	actZ                     // replace with a zero-length value
	actD                     // replace with a dummy value (sequences: keep, clean each item)
	actU                     // replace the UID, consistently within the export
	actXZ                    // X, or Z where required
	actXD                    // X, or D where required
	actZD                    // Z, or D where required
	actXZD                   // X, or Z or D where required
	actXZU                   // X, or Z or U where required
)

// rule is one row of Table E.1-1 as far as this package uses it.
type rule struct {
	act     action
	dates   bool // the Retain Longitudinal Temporal Information with Modified Dates option keeps it, modified
	devices bool // the Retain Device Identity option keeps it
}

// Options choose the profile options of a de-identified export. The zero value
// is the Basic Application Level Confidentiality Profile with no option.
type Options struct {
	// KeepDates applies the Retain Longitudinal Temporal Information with
	// Modified Dates option: every date is shifted by the same number of days
	// across the export (times are kept), so intervals between studies and
	// series survive while the real dates do not.
	KeepDates bool
	// DateShiftDays is the shift KeepDates applies; zero picks a random shift
	// of 1 to 3650 days into the past for the export. It is never reported.
	DateShiftDays int
	// KeepDevice applies the Retain Device Identity option (serial numbers,
	// station and device identifiers stay).
	KeepDevice bool
	// IncludeBurnedIn exports images whose Burned In Annotation is YES or
	// absent; by default they are left out, since identifying text in the
	// pixels cannot be removed by changing attributes, and an image that does
	// not say NO may carry some (absent means unknown, not clean).
	IncludeBurnedIn bool
	// CleanPixels applies the Clean Pixel Data Option (cleanpixels.go) to
	// images whose Burned In Annotation is YES or absent, instead of leaving
	// them out: outside the ultrasound regions, or in CleanBand at the top of
	// other images, every pixel is blanked, and the image then says NO. An
	// image that cannot be cleaned safely is left out with the reason.
	CleanPixels bool
	// CleanBand is the top band CleanPixels blanks in images other than
	// ultrasound; the zero value is DefaultBand.
	CleanBand Band
}

// Deidentifier applies the profile to the instances of one export. Its UID
// mapping and date shift are kept for the whole export, so references between
// the exported instances stay consistent. It is not safe for concurrent use.
type Deidentifier struct {
	opts     Options
	shift    int
	uids     map[string]string
	patients map[string]string
}

// NewDeidentifier returns a de-identifier for one export.
func NewDeidentifier(opts Options) (*Deidentifier, error) {
	d := &Deidentifier{opts: opts, shift: opts.DateShiftDays, uids: map[string]string{}, patients: map[string]string{}}
	if opts.KeepDates && d.shift == 0 {
		var b [2]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("share: date shift: %w", err)
		}
		d.shift = -(1 + int(binary.LittleEndian.Uint16(b[:]))%3650)
	}
	return d, nil
}

// UID returns the replacement for an original UID, the same one every time
// within this export: a fresh UID under the 2.25 root (PS3.5 B.2).
func (d *Deidentifier) UID(orig string) (string, error) {
	if u, ok := d.uids[orig]; ok {
		return u, nil
	}
	u, err := report.NewUID()
	if err != nil {
		return "", fmt.Errorf("share: %w", err)
	}
	d.uids[orig] = u
	return u, nil
}

// patientID returns the dummy Patient ID standing for an original one; two
// patients in one export stay two patients.
func (d *Deidentifier) patientID(orig string) string {
	if p, ok := d.patients[orig]; ok {
		return p
	}
	p := fmt.Sprintf("ANON%04d", len(d.patients)+1)
	d.patients[orig] = p
	return p
}

// Method codes of CID 7050 (De-identification Method) used here.
const (
	codeBasicProfile  = "113100"
	codeModifiedDates = "113106"
	codeDeviceID      = "113109"
)

// classUIDs are UI attributes that name a class, a coding scheme or a
// transfer syntax, never an instance: they are kept even when their value is
// outside the DICOM root (a private SOP class, say).
var classUIDs = map[dataset.Tag]bool{
	0x00080016: true, // SOP Class UID
	0x0008001A: true, // Related General SOP Class UID
	0x0008001B: true, // Original Specialized SOP Class UID
	0x0008010C: true, // Coding Scheme UID
	0x00080118: true, // Mapping Resource UID
	0x0008010D: true, // Context Group Extension Creator UID
	0x00081150: true, // Referenced SOP Class UID
	0x00041510: true, // Referenced SOP Class UID in File
	0x00041512: true, // Referenced Transfer Syntax UID in File
	0x00020010: true, // Transfer Syntax UID
}

// Tags added by the de-identifier (PS3.3 C.7.1.1, C.12.1).
const (
	tagPatientID                      dataset.Tag = 0x00100020
	tagPatientIdentityRemoved         dataset.Tag = 0x00120062
	tagDeidentificationMethod         dataset.Tag = 0x00120063
	tagDeidentificationMethodCodeSeq  dataset.Tag = 0x00120064
	tagLongitudinalTemporalInfoModif  dataset.Tag = 0x00280303
	tagBurnedInAnnotation             dataset.Tag = 0x00280301
	tagCodeValue                      dataset.Tag = 0x00080100
	tagCodingSchemeDesignator         dataset.Tag = 0x00080102
	tagCodeMeaning                    dataset.Tag = 0x00080104
	tagOverlayData                    dataset.Tag = 0x60003000
	tagSpecificCharacterSet           dataset.Tag = 0x00080005
	tagDirectoryRecordSequence        dataset.Tag = 0x00041220
	tagReferencedFileID               dataset.Tag = 0x00041500
	tagOffsetOfNextDirectoryRecord    dataset.Tag = 0x00041400
	tagOffsetOfLowerLevelDirectory    dataset.Tag = 0x00041420
	tagRecordInUseFlag                dataset.Tag = 0x00041410
	tagDirectoryRecordType            dataset.Tag = 0x00041430
	tagReferencedSOPClassUIDInFile    dataset.Tag = 0x00041510
	tagReferencedSOPInstanceUIDInFile dataset.Tag = 0x00041511
	tagReferencedTSUIDInFile          dataset.Tag = 0x00041512
)

// BurnedIn reports whether a data set's pixels may carry burned-in text:
// Burned In Annotation is YES, or absent or empty (unknown). Only an explicit
// NO counts as clean. Data sets without pixel data carry no burned-in text.
func BurnedIn(f *dataset.File) bool {
	if f.Pixel == nil {
		return false
	}
	return !strings.EqualFold(strings.TrimSpace(f.String(tagBurnedInAnnotation)), "NO")
}

// ruleFor returns the Table E.1-1 rule for t, or false when the table does not
// list it.
func ruleFor(t dataset.Tag) (rule, bool) {
	if r, ok := basicProfile[t]; ok {
		return r, true
	}
	g := t.Group()
	switch {
	case g&0xFF00 == 0x5000 && g%2 == 0: // Curve Data (50xx,xxxx)
		return rule{act: actX}, true
	case g&0xFF00 == 0x6000 && g%2 == 0 && (t.Element() == 0x3000 || t.Element() == 0x4000): // Overlay Data, Overlay Comments
		return rule{act: actX}, true
	}
	return rule{}, false
}

// Deidentify returns the cleaned top-level elements of f (pixel data as a
// streamed element), converted to the byte order of ts, with the profile's
// identifying attributes added.
func (d *Deidentifier) Deidentify(f *dataset.File, ts string) ([]elem, error) {
	return d.deidentify(f, ts, nil)
}

// deidentify is Deidentify, with the pixels cleaned by c when c is set (ts is
// then explicit VR little endian).
func (d *Deidentifier) deidentify(f *dataset.File, ts string, c *cleaner) ([]elem, error) {
	big := ts == explicitVRBigEndian
	out, err := d.clean(f.DataSet, big, 0)
	if err != nil {
		return nil, err
	}
	if f.Pixel != nil && c != nil {
		out = append(dropTags(out, replacedByCleaning...), c.elements(f)...)
		out = append(out, elem{tag: f.Pixel.Tag, vr: f.Pixel.VR, pixel: f.Pixel, clean: c})
	} else if f.Pixel != nil {
		// Comments and application segments inside the code streams are
		// removed (markers.go); the frames are then rewritten one fragment
		// each, so an Extended Offset Table of the source no longer holds.
		frames, err := strippedFrames(f)
		if err != nil {
			return nil, err
		}
		if frames != nil {
			out = dropTags(out, dataset.ExtendedOffsetTable, dataset.ExtendedOffsetTableLengths)
		}
		out = append(out, elem{tag: f.Pixel.Tag, vr: f.Pixel.VR, pixel: f.Pixel, frames: frames})
	}
	codes := [][]elem{codeItem(codeBasicProfile, "Basic Application Confidentiality Profile")}
	methods := []string{"Basic Application Confidentiality Profile"}
	longitudinal := "REMOVED"
	if d.opts.KeepDates {
		codes = append(codes, codeItem(codeModifiedDates, "Retain Longitudinal Temporal Information Modified Dates Option"))
		methods = append(methods, "Retain Longitudinal Modified Dates")
		longitudinal = "MODIFIED"
	}
	if d.opts.KeepDevice {
		codes = append(codes, codeItem(codeDeviceID, "Retain Device Identity Option"))
		methods = append(methods, "Retain Device Identity")
	}
	if c != nil {
		codes = append(codes, codeItem(codeCleanPixels, "Clean Pixel Data Option"))
		methods = append(methods, "Clean Pixel Data")
	}
	out = dropTags(out, tagPatientIdentityRemoved, tagDeidentificationMethod, tagDeidentificationMethodCodeSeq, tagLongitudinalTemporalInfoModif)
	out = append(out,
		elem{tag: tagPatientIdentityRemoved, vr: "CS", value: []byte("YES")},
		elem{tag: tagDeidentificationMethod, vr: "LO", value: []byte(strings.Join(methods, `\`))},
		elem{tag: tagDeidentificationMethodCodeSeq, vr: "SQ", items: codes},
		elem{tag: tagLongitudinalTemporalInfoModif, vr: "CS", value: []byte(longitudinal)},
	)
	return sortElems(out), nil
}

func codeItem(value, meaning string) []elem {
	return []elem{
		{tag: tagCodeValue, vr: "SH", value: []byte(value)},
		{tag: tagCodingSchemeDesignator, vr: "SH", value: []byte("DCM")},
		{tag: tagCodeMeaning, vr: "LO", value: []byte(meaning)},
	}
}

func dropTags(es []elem, tags ...dataset.Tag) []elem {
	out := es[:0]
next:
	for _, e := range es {
		for _, t := range tags {
			if e.tag == t {
				continue next
			}
		}
		out = append(out, e)
	}
	return out
}

// clean applies the profile to one data set (the file's or a sequence item).
func (d *Deidentifier) clean(ds *dataset.DataSet, big bool, depth int) ([]elem, error) {
	// An overlay whose data is removed cannot stay as a half group: drop the
	// whole repeating group.
	overlays := map[uint16]bool{}
	for _, e := range ds.Elements() {
		if g := e.Tag.Group(); g&0xFF00 == 0x6000 && g%2 == 0 {
			overlays[g] = true
		}
	}
	var out []elem
	for _, e := range ds.Elements() {
		t := e.Tag
		g := t.Group()
		switch {
		case g%2 == 1: // private attributes (and their creators)
			continue
		case t.Element() == 0x0000, g == 0x0002: // group lengths, stray meta elements
			continue
		case overlays[g]:
			continue
		}
		el, keep, err := d.apply(e, ds.BigEndian(), big, depth)
		if err != nil {
			return nil, err
		}
		if keep {
			out = append(out, el)
		}
	}
	return out, nil
}

// apply returns the de-identified form of one element, or keep=false to
// remove it.
func (d *Deidentifier) apply(e *dataset.Element, srcBig, big bool, depth int) (elem, bool, error) {
	out := elem{tag: e.Tag, vr: e.VR, value: e.Value}
	if srcBig != big {
		out.value = swapped(e.VR, e.Value)
	}
	r, listed := ruleFor(e.Tag)
	isDate := e.VR == "DA" || e.VR == "DT"
	switch {
	case listed && d.opts.KeepDevice && r.devices:
		return d.keep(out, e, big, depth)
	case listed && d.opts.KeepDates && r.dates && isDate:
		out.value = d.shiftDate(e.VR, e.Value)
		return out, true, nil
	case !listed:
		// Not in the table. Beyond the profile's letter, dates and instance
		// UIDs are cleaned wherever they are, so that no original date or UID
		// survives in an attribute the table does not name.
		switch {
		case isDate && d.opts.KeepDates:
			out.value = d.shiftDate(e.VR, e.Value)
			return out, true, nil
		case isDate:
			out.value = dummy(e.VR)
			return out, true, nil
		case e.VR == "UI" && !classUIDs[e.Tag]:
			v, err := d.mapUIDs(e.Value)
			out.value = v
			return out, true, err
		}
		return d.keep(out, e, big, depth)
	}
	if e.VR == "SQ" && r.act != actX && r.act != actZ {
		// A sequence whose action allows keeping it is kept with every item
		// cleaned: dropping or emptying it can break the IOD, and what it
		// holds is covered by the rules for its own attributes.
		return d.keep(out, e, big, depth)
	}
	switch resolve(r.act, e.VR) {
	case actX:
		return out, false, nil
	case actZ:
		out.value, out.items = nil, nil
		if e.VR == "SQ" {
			out.items = [][]elem{}
		}
		return out, true, nil
	case actU:
		if e.VR == "SQ" {
			return d.keep(out, e, big, depth)
		}
		v, err := d.mapUIDs(e.Value)
		out.value = v
		return out, true, err
	default: // actD
		if e.VR == "SQ" {
			return d.keep(out, e, big, depth)
		}
		if e.Tag == tagPatientID {
			out.value = []byte(d.patientID(string(e.Value)))
			return out, true, nil
		}
		out.value = dummy(e.VR)
		return out, true, nil
	}
}

// resolve turns a compound action into the one applied (see action).
func resolve(a action, vr string) action {
	switch a {
	case actXZ:
		return actZ
	case actXD, actZD, actXZD:
		return actD
	case actXZU:
		if vr == "UI" || vr == "SQ" {
			return actU
		}
		return actZ
	}
	return a
}

// keep keeps an element, cleaning the items of a sequence.
func (d *Deidentifier) keep(out elem, e *dataset.Element, big bool, depth int) (elem, bool, error) {
	if e.VR != "SQ" {
		return out, true, nil
	}
	out.value = nil
	out.items = make([][]elem, 0, len(e.Items))
	for _, it := range e.Items {
		c, err := d.clean(it, big, depth+1)
		if err != nil {
			return out, false, err
		}
		out.items = append(out.items, c)
	}
	return out, true, nil
}

// mapUIDs replaces each value of a (possibly multi-valued) UI element.
func (d *Deidentifier) mapUIDs(v []byte) ([]byte, error) {
	s := strings.TrimRight(string(v), "\x00 ")
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, `\`)
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" || strings.HasPrefix(p, "1.2.840.10008.") {
			continue // well-known DICOM UIDs (classes, syntaxes) identify nobody
		}
		u, err := d.UID(p)
		if err != nil {
			return nil, err
		}
		parts[i] = u
	}
	return []byte(strings.Join(parts, `\`)), nil
}

// dummy returns a dummy value for a VR (PS3.15 E.3.2: "a non-zero length
// value that may be a dummy value and consistent with the VR").
func dummy(vr string) []byte {
	switch vr {
	case "DA":
		return []byte("19000101")
	case "TM":
		return []byte("000000")
	case "DT":
		return []byte("19000101000000")
	case "AS":
		return []byte("000Y")
	case "IS", "DS":
		return []byte("0")
	case "UI":
		return []byte("2.25.0")
	case "AE", "CS", "SH", "LO", "LT", "ST", "UT", "UC", "PN":
		return []byte("ANONYMIZED")
	case "UR":
		return []byte("urn:anonymized")
	case "AT":
		return make([]byte, 4)
	}
	if n := wordSize(vr); n > 0 {
		return make([]byte, n)
	}
	return []byte{0, 0}
}

// shiftDate moves each DA or DT value by the export's shift, keeping any
// time, offset and precision; values it cannot read become dummies.
func (d *Deidentifier) shiftDate(vr string, v []byte) []byte {
	s := strings.TrimRight(string(v), "\x00 ")
	if s == "" {
		return nil
	}
	parts := strings.Split(s, `\`)
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if len(p) < 8 {
			parts[i] = string(dummy(vr))
			continue
		}
		t, err := time.Parse("20060102", p[:8])
		if err != nil {
			parts[i] = string(dummy(vr))
			continue
		}
		parts[i] = t.AddDate(0, 0, d.shift).Format("20060102") + p[8:]
	}
	return []byte(strings.Join(parts, `\`))
}

// identity converts a data set for a plain (identified) export to the
// output byte order, keeping every element.
func identity(ds *dataset.DataSet, big bool) []elem {
	var out []elem
	for _, e := range ds.Elements() {
		if e.Tag.Element() == 0x0000 && e.Tag.Group() != 0x0000 || e.Tag.Group() == 0x0002 {
			continue
		}
		el := elem{tag: e.Tag, vr: e.VR, value: e.Value}
		if ds.BigEndian() != big {
			el.value = swapped(e.VR, e.Value)
		}
		if e.VR == "SQ" {
			el.value = nil
			el.items = make([][]elem, 0, len(e.Items))
			for _, it := range e.Items {
				el.items = append(el.items, identity(it, big))
			}
		}
		out = append(out, el)
	}
	return out
}
