package sync

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Tags of the DICOM JSON model (PS3.18 F.2) used by the client and the
// puller, as the model writes them: eight upper-case hex digits.
const (
	TagSpecificCharacterSet           = "00080005"
	TagStudyDate                      = "00080020"
	TagStudyTime                      = "00080030"
	TagAccessionNumber                = "00080050"
	TagModality                       = "00080060"
	TagModalitiesInStudy              = "00080061"
	TagReferringPhysicianName         = "00080090"
	TagRetrieveURL                    = "00081190"
	TagFailedSOPSequence              = "00081198"
	TagReferencedSOPSequence          = "00081199"
	TagReferencedSOPClassUID          = "00081150"
	TagReferencedSOPInstanceUID       = "00081155"
	TagWarningReason                  = "00081196"
	TagFailureReason                  = "00081197"
	TagNameOfPhysiciansReadingStudy   = "00081060"
	TagStudyDescription               = "00081030"
	TagSeriesDescription              = "0008103E"
	TagSOPClassUID                    = "00080016"
	TagSOPInstanceUID                 = "00080018"
	TagPatientName                    = "00100010"
	TagPatientID                      = "00100020"
	TagPatientBirthDate               = "00100030"
	TagPatientSex                     = "00100040"
	TagStudyInstanceUID               = "0020000D"
	TagSeriesInstanceUID              = "0020000E"
	TagStudyID                        = "00200010"
	TagSeriesNumber                   = "00200011"
	TagInstanceNumber                 = "00200013"
	TagNumberOfStudyRelatedSeries     = "00201206"
	TagNumberOfStudyRelatedInstances  = "00201208"
	TagNumberOfSeriesRelatedInstances = "00201209"
	TagRequestedProcedurePriority     = "00401003"
	TagTransferSyntaxUID              = "00020010"
)

// Object is one data set in the DICOM JSON model: attributes by tag ("0020000D").
type Object map[string]*Attribute

// Attribute is one attribute of the DICOM JSON model.
type Attribute struct {
	VR string
	// Values holds text and numeric values (numbers in the decimal form the
	// JSON had); a null value is "".
	Values []string
	// PersonNames holds the values of a PN attribute.
	PersonNames []PersonName
	// Items holds the items of an SQ attribute.
	Items []Object
	// InlineBinary is the decoded value of a binary attribute sent inline.
	InlineBinary []byte
	// BulkDataURI is where a binary value can be fetched.
	BulkDataURI string
}

// PersonName is a PN value's component groups.
type PersonName struct {
	Alphabetic, Ideographic, Phonetic string
}

// String returns the Alphabetic group, or the first non-empty group.
func (p PersonName) String() string {
	switch {
	case p.Alphabetic != "":
		return p.Alphabetic
	case p.Ideographic != "":
		return p.Ideographic
	}
	return p.Phonetic
}

// Whole returns the name as a DICOM PN value: the component groups joined
// by '=', trailing empty groups left out ("Yamada^Tarou=山田^太郎=やまだ^たろう"),
// as the cache keeps names read from files.
func (p PersonName) Whole() string {
	return strings.TrimRight(p.Alphabetic+"="+p.Ideographic+"="+p.Phonetic, "=")
}

// UnmarshalJSON reads an Object, refusing keys that are not tags.
func (o *Object) UnmarshalJSON(b []byte) error {
	var raw map[string]*Attribute
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for k, a := range raw {
		if !isTag(k) {
			return fmt.Errorf("DICOM JSON: key %.40q is not a tag", k)
		}
		if a == nil {
			return fmt.Errorf("DICOM JSON: %s: null attribute", k)
		}
		if strings.ToUpper(k) != k {
			delete(raw, k)
			raw[strings.ToUpper(k)] = a
		}
	}
	*o = raw
	return nil
}

func isTag(k string) bool {
	if len(k) != 8 {
		return false
	}
	for i := 0; i < 8; i++ {
		c := k[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// UnmarshalJSON reads an attribute (PS3.18 F.2.2-F.2.7).
func (a *Attribute) UnmarshalJSON(b []byte) error {
	var raw struct {
		VR           string            `json:"vr"`
		Value        []json.RawMessage `json:"Value"`
		InlineBinary *string           `json:"InlineBinary"`
		BulkDataURI  string            `json:"BulkDataURI"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	if len(raw.VR) != 2 || raw.VR[0] < 'A' || raw.VR[0] > 'Z' || raw.VR[1] < 'A' || raw.VR[1] > 'Z' {
		return fmt.Errorf("DICOM JSON: invalid vr %.10q", raw.VR)
	}
	*a = Attribute{VR: raw.VR, BulkDataURI: raw.BulkDataURI}
	if raw.InlineBinary != nil {
		v, err := base64.StdEncoding.DecodeString(*raw.InlineBinary)
		if err != nil {
			return fmt.Errorf("DICOM JSON: InlineBinary: %w", err)
		}
		a.InlineBinary = v
	}
	for _, v := range raw.Value {
		if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			switch raw.VR {
			case "PN":
				a.PersonNames = append(a.PersonNames, PersonName{})
			case "SQ":
				a.Items = append(a.Items, Object{})
			default:
				a.Values = append(a.Values, "")
			}
			continue
		}
		switch raw.VR {
		case "SQ":
			var item Object
			if err := json.Unmarshal(v, &item); err != nil {
				return fmt.Errorf("DICOM JSON: SQ item: %w", err)
			}
			a.Items = append(a.Items, item)
		case "PN":
			var pn PersonName
			if err := json.Unmarshal(v, &pn); err != nil {
				return fmt.Errorf("DICOM JSON: PN value: %w", err)
			}
			a.PersonNames = append(a.PersonNames, pn)
		default:
			var x any
			d := json.NewDecoder(bytes.NewReader(v))
			d.UseNumber()
			if err := d.Decode(&x); err != nil {
				return err
			}
			switch x := x.(type) {
			case string:
				a.Values = append(a.Values, x)
			case json.Number:
				a.Values = append(a.Values, x.String())
			default:
				return fmt.Errorf("DICOM JSON: %s value is %T, want string or number", raw.VR, x)
			}
		}
	}
	return nil
}

// String returns the first value of tag ("" when absent); for PN the
// Alphabetic group.
func (o Object) String(tag string) string {
	a := o[tag]
	if a == nil {
		return ""
	}
	if len(a.PersonNames) > 0 {
		return a.PersonNames[0].String()
	}
	if len(a.Values) > 0 {
		return a.Values[0]
	}
	return ""
}

// PersonName returns the first value of the PN attribute tag whole (see
// PersonName.Whole); "" when absent.
func (o Object) PersonName(tag string) string {
	if a := o[tag]; a != nil && len(a.PersonNames) > 0 {
		return a.PersonNames[0].Whole()
	}
	return ""
}

// Strings returns all values of tag; for PN their Alphabetic groups.
func (o Object) Strings(tag string) []string {
	a := o[tag]
	if a == nil {
		return nil
	}
	if len(a.PersonNames) > 0 {
		out := make([]string, len(a.PersonNames))
		for i, p := range a.PersonNames {
			out[i] = p.String()
		}
		return out
	}
	return a.Values
}

// Int returns the first value of tag as an integer.
func (o Object) Int(tag string) (int, bool) {
	s := strings.TrimSpace(o.String(tag))
	if s == "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != float64(int(f)) {
			return 0, false
		}
		n = int(f)
	}
	return n, true
}

// Items returns the items of sequence tag.
func (o Object) Items(tag string) []Object {
	if a := o[tag]; a != nil {
		return a.Items
	}
	return nil
}

// StudyUID, SeriesUID and SOPInstanceUID return the object's identifying UIDs.
func (o Object) StudyUID() string { return o.String(TagStudyInstanceUID) }

// SeriesUID returns the Series Instance UID.
func (o Object) SeriesUID() string { return o.String(TagSeriesInstanceUID) }

// SOPInstanceUID returns the SOP Instance UID.
func (o Object) SOPInstanceUID() string { return o.String(TagSOPInstanceUID) }

// decodeObjects reads a JSON array of objects of at most limit bytes and,
// when maxObjects > 0, at most maxObjects objects: more is ErrTooManyResults,
// found before the rest is decoded.
func decodeObjects(r io.Reader, limit int64, maxObjects int) ([]Object, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: JSON answer over %d bytes", ErrBadResponse, limit)
	}
	bad := func(err error) error { return fmt.Errorf("%w: %v (starts %.60q)", ErrBadResponse, err, b) }
	if !json.Valid(b) {
		var x any
		return nil, bad(json.Unmarshal(b, &x))
	}
	// Valid JSON: one object at a time, so that a count over the ceiling is
	// found before the rest are built.
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		if tok == nil && err == nil {
			return nil, nil // null: no results
		}
		return nil, bad(fmt.Errorf("not an array"))
	}
	var out []Object
	for dec.More() {
		if maxObjects > 0 && len(out) == maxObjects {
			return nil, fmt.Errorf("%w: more than %d in one answer", ErrTooManyResults, maxObjects)
		}
		var o Object
		if err := dec.Decode(&o); err != nil {
			return nil, bad(err)
		}
		out = append(out, o)
	}
	return out, nil
}

// decodeObject reads one JSON object of at most limit bytes.
func decodeObject(r io.Reader, limit int64) (Object, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: JSON answer over %d bytes", ErrBadResponse, limit)
	}
	var out Object
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("%w: %v (starts %.60q)", ErrBadResponse, err, b)
	}
	return out, nil
}
