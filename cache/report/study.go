package report

import (
	"strings"
)

// StudyContext is what an SR copies from the study it reports on: the
// Patient and General Study attributes as raw value bytes from one of the
// study's images (padding included; nil for an attribute that is absent or
// empty), and every series and instance the report is based on.
type StudyContext struct {
	// CharacterSet is the images' Specific Character Set (0008,0005) as
	// written there ("" when absent). Values that are not plain ASCII are
	// converted from it to UTF-8; plain ASCII values are copied unchanged.
	CharacterSet string

	PatientName      []byte // (0010,0010) PN
	PatientID        []byte // (0010,0020) LO
	PatientBirthDate []byte // (0010,0030) DA
	PatientSex       []byte // (0010,0040) CS
	// IssuerOfPatientID (0010,0021) LO is written only when non-nil:
	// it is type 3, but archives match on it together with Patient ID.
	IssuerOfPatientID []byte

	StudyInstanceUID       []byte // (0020,000D) UI
	StudyDate              []byte // (0008,0020) DA
	StudyTime              []byte // (0008,0030) TM
	ReferringPhysicianName []byte // (0008,0090) PN
	StudyID                []byte // (0020,0010) SH
	AccessionNumber        []byte // (0008,0050) SH

	// Series lists the study's series in the order found.
	Series []SeriesRef
}

// SeriesRef is one series of the study and its instances.
type SeriesRef struct {
	SeriesInstanceUID string
	SeriesNumber      int    // 0 when absent
	Modality          string // (0008,0060)
	BodyPartExamined  string // (0018,0015), "" when absent
	Instances         []InstanceRef
}

// InstanceRef names one composite instance.
type InstanceRef struct {
	SOPClassUID    string
	SOPInstanceUID string
}

// StudyUID returns the Study Instance UID without its padding.
func (s *StudyContext) StudyUID() string { return trimUID(s.StudyInstanceUID) }

// Modality returns the modality of the study's first image series (not SR,
// KO or PR), or of its first series when there is no other; "" when none.
func (s *StudyContext) Modality() string {
	for _, se := range s.Series {
		switch se.Modality {
		case "SR", "KO", "PR", "":
		default:
			return se.Modality
		}
	}
	if len(s.Series) > 0 {
		return s.Series[0].Modality
	}
	return ""
}

// BodyPart returns the first Body Part Examined found among the series.
func (s *StudyContext) BodyPart() string {
	for _, se := range s.Series {
		if se.BodyPartExamined != "" {
			return se.BodyPartExamined
		}
	}
	return ""
}

// NextSeriesNumber returns a Series Number above every series number of
// the study, for the report's new series.
func (s *StudyContext) NextSeriesNumber() int {
	n := 0
	for _, se := range s.Series {
		n = max(n, se.SeriesNumber)
	}
	return n + 1
}

func trimUID(b []byte) string { return strings.TrimRight(string(b), "\x00 ") }
