package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// BasicTextSRStorage is the SOP Class UID of Basic Text SR (PS3.4 B.5).
const BasicTextSRStorage = "1.2.840.10008.5.1.4.1.1.88.11"

// Manufacturer is written to (0008,0070) of every SR.
const Manufacturer = "Teleread"

// Code is a coded concept: Code Value, Coding Scheme Designator, Code Meaning.
type Code struct {
	Value, Scheme, Meaning string
}

// Concepts used by the SR (PS3.16: TID 2000, CID 7000, CID 7001, CID 7002,
// TID 1002, TID 1204).
var (
	// CodeDiagnosticImagingReport is the document title of a report (CID 7000).
	CodeDiagnosticImagingReport = Code{"18748-4", "LN", "Diagnostic Imaging Report"}
	// CodeConsultNote is the document title of a consultation report.
	CodeConsultNote = Code{"11488-4", "LN", "Consultation report"}

	codeFindings        = Code{"121070", "DCM", "Findings"}        // CID 7001
	codeFinding         = Code{"121071", "DCM", "Finding"}         // CID 7002
	codeImpressions     = Code{"121072", "DCM", "Impressions"}     // CID 7001
	codeImpression      = Code{"121073", "DCM", "Impression"}      // CID 7002
	codeRecommendations = Code{"121074", "DCM", "Recommendations"} // CID 7001
	codeRecommendation  = Code{"121075", "DCM", "Recommendation"}  // CID 7002
	codeAddendum        = Code{"121078", "DCM", "Addendum"}        // CID 7001

	codeLanguage       = Code{"121049", "DCM", "Language of Content Item and Descendants"}
	codeObserverType   = Code{"121005", "DCM", "Observer Type"}
	codePerson         = Code{"121006", "DCM", "Person"}
	codePersonObserver = Code{"121008", "DCM", "Person Observer Name"}
	codeObserverOrg    = Code{"121009", "DCM", "Person Observer's Organization Name"}
)

// languageNames gives the Code Meaning of the commoner RFC 5646 tags
// (CID 5000); other tags are written with the tag as their meaning.
var languageNames = map[string]string{
	"en": "English", "de": "German", "fr": "French", "it": "Italian", "es": "Spanish",
	"nl": "Dutch", "pt": "Portuguese", "sv": "Swedish", "da": "Danish", "no": "Norwegian",
	"fi": "Finnish", "pl": "Polish", "cs": "Czech", "zh": "Chinese", "ja": "Japanese",
	"ko": "Korean", "ru": "Russian", "tr": "Turkish", "el": "Greek", "ar": "Arabic",
}

// Sections is the text of a report, one string per TID 2000 section. An
// empty section is left out of the SR.
type Sections struct {
	Findings       string `json:"findings"`
	Impression     string `json:"impression"`
	Recommendation string `json:"recommendation,omitempty"`
}

// Observer is a person who authors or verifies a document.
type Observer struct {
	Name         string // a DICOM person name, "Family^Given" (UTF-8)
	Organization string // at most 64 characters
}

// DocumentRef names an SR instance that a later document refers to.
type DocumentRef struct {
	StudyInstanceUID  string
	SeriesInstanceUID string
	SOPClassUID       string
	SOPInstanceUID    string
}

// AddendumSection is one signed addendum as it appears in an SR: an
// "Addendum" section (CID 7001) saying which document it amends, by whom
// and when, and its text.
type AddendumSection struct {
	Text     string
	Author   Observer
	SignedAt time.Time
	Amends   DocumentRef
}

// Note is the sentence that opens an addendum section in the SR.
func (a AddendumSection) Note() string {
	return fmt.Sprintf("Addendum of %s amending the report with SOP Instance UID %s.",
		a.SignedAt.Format("2006-01-02 15:04 -0700"), a.Amends.SOPInstanceUID)
}

// SRDocument describes one Basic Text SR to be written.
type SRDocument struct {
	Title    Code // CodeDiagnosticImagingReport or CodeConsultNote
	Study    StudyContext
	Sections Sections
	// Addenda are written after the sections, oldest first, each as an
	// Addendum section.
	Addenda []AddendumSection
	// Language is an RFC 5646 tag ("en", "de-CH"); "" writes no language.
	Language string
	// Author wrote the sections; written as the root's observer context.
	Author Observer
	// Verifier signs the document (Verifying Observer Sequence).
	Verifier Observer
	// Verified is the time of signing: Verification DateTime, Content Date
	// and Time, Instance Creation Date and Time, with its zone's offset.
	Verified time.Time

	SeriesInstanceUID string
	SeriesNumber      int
	SOPInstanceUID    string
	InstanceNumber    int
	// Predecessors are earlier SRs whose content this one includes
	// (Predecessor Documents Sequence), for an addendum.
	Predecessors []DocumentRef
}

// EncodeSR returns the DICOM file (PS3.10, Explicit VR Little Endian) of
// the Basic Text SR that doc describes.
func EncodeSR(doc SRDocument) ([]byte, error) {
	ds, err := buildSR(&doc)
	if err != nil {
		return nil, err
	}
	return encodePart10(BasicTextSRStorage, doc.SOPInstanceUID, ds)
}

func buildSR(doc *SRDocument) ([]elem, error) {
	var v validator
	studyUID := doc.Study.StudyUID()
	if studyUID == "" {
		return nil, fmt.Errorf("report: encode sr: %w", ErrNoStudy)
	}
	v.uid("Study Instance UID", studyUID)
	v.uid("Series Instance UID", doc.SeriesInstanceUID)
	v.uid("SOP Instance UID", doc.SOPInstanceUID)
	v.name("verifier name", doc.Verifier.Name, 64)
	v.lo("verifier organization", doc.Verifier.Organization)
	v.name("author name", doc.Author.Name, 64)
	v.lo("author organization", doc.Author.Organization)
	v.code(doc.Title)
	if doc.Verified.IsZero() {
		v.fail("verification time missing")
	}
	if doc.SeriesNumber < 0 || doc.InstanceNumber < 0 {
		v.fail("negative series or instance number")
	}
	for _, p := range doc.Predecessors {
		v.ref(p)
	}
	for _, se := range doc.Study.Series {
		v.uid("series UID", se.SeriesInstanceUID)
		for _, in := range se.Instances {
			v.uid("SOP Class UID", in.SOPClassUID)
			v.uid("SOP Instance UID", in.SOPInstanceUID)
		}
	}
	if v.err != nil {
		return nil, v.err
	}

	copied := func(group, element uint16, vr string, value []byte) elem {
		out, err := toUTF8(doc.Study.CharacterSet, vr, value)
		if err != nil && v.err == nil {
			v.err = err
		}
		return raw(group, element, vr, out)
	}

	t := doc.Verified
	date, tm := t.Format("20060102"), t.Format("150405")
	zone := t.Format("-0700")
	ds := []elem{
		// SOP Common
		str(0x0008, 0x0005, "CS", "ISO_IR 192"),
		str(0x0008, 0x0012, "DA", date),
		str(0x0008, 0x0013, "TM", tm),
		str(0x0008, 0x0016, "UI", BasicTextSRStorage),
		str(0x0008, 0x0018, "UI", doc.SOPInstanceUID),
		str(0x0008, 0x0201, "SH", zone),
		// Patient
		copied(0x0010, 0x0010, "PN", doc.Study.PatientName),
		copied(0x0010, 0x0020, "LO", doc.Study.PatientID),
		copied(0x0010, 0x0030, "DA", doc.Study.PatientBirthDate),
		copied(0x0010, 0x0040, "CS", doc.Study.PatientSex),
		// General Study
		raw(0x0020, 0x000D, "UI", doc.Study.StudyInstanceUID),
		copied(0x0008, 0x0020, "DA", doc.Study.StudyDate),
		copied(0x0008, 0x0030, "TM", doc.Study.StudyTime),
		copied(0x0008, 0x0090, "PN", doc.Study.ReferringPhysicianName),
		copied(0x0020, 0x0010, "SH", doc.Study.StudyID),
		copied(0x0008, 0x0050, "SH", doc.Study.AccessionNumber),
		// SR Document Series
		str(0x0008, 0x0060, "CS", "SR"),
		str(0x0020, 0x000E, "UI", doc.SeriesInstanceUID),
		str(0x0020, 0x0011, "IS", strconv.Itoa(doc.SeriesNumber)),
		seq(0x0008, 0x1111),
		// General Equipment
		str(0x0008, 0x0070, "LO", Manufacturer),
		// SR Document General
		str(0x0020, 0x0013, "IS", strconv.Itoa(doc.InstanceNumber)),
		str(0x0040, 0xA491, "CS", "COMPLETE"),
		str(0x0040, 0xA493, "CS", "VERIFIED"),
		str(0x0040, 0xA496, "CS", "FINAL"),
		str(0x0008, 0x0023, "DA", date),
		str(0x0008, 0x0033, "TM", tm),
		seq(0x0040, 0xA073, []elem{
			str(0x0040, 0xA075, "PN", doc.Verifier.Name),
			seq(0x0040, 0xA088),
			str(0x0040, 0xA027, "LO", verifyingOrganization(doc.Verifier.Organization)),
			str(0x0040, 0xA030, "DT", t.Format("20060102150405-0700")),
		}),
		seq(0x0040, 0xA372),
	}
	if doc.Study.IssuerOfPatientID != nil {
		ds = append(ds, copied(0x0010, 0x0021, "LO", doc.Study.IssuerOfPatientID))
	}
	if v.err != nil {
		return nil, v.err
	}
	if evidence := evidenceItems(studyUID, doc.Study.Series); len(evidence) > 0 {
		ds = append(ds, seq(0x0040, 0xA375, evidence...))
	}
	if len(doc.Predecessors) > 0 {
		ds = append(ds, seq(0x0040, 0xA360, predecessorItems(doc.Predecessors)...))
	}

	content, err := contentTree(doc)
	if err != nil {
		return nil, err
	}
	// SR Document Content: the root CONTAINER, TID 2000.
	ds = append(ds,
		str(0x0040, 0xA040, "CS", "CONTAINER"),
		seq(0x0040, 0xA043, codeElems(doc.Title)),
		str(0x0040, 0xA050, "CS", "SEPARATE"),
		seq(0x0040, 0xA504, []elem{
			str(0x0008, 0x0105, "CS", "DCMR"),
			str(0x0040, 0xDB00, "CS", "2000"),
		}),
		seq(0x0040, 0xA730, content...),
	)
	return ds, nil
}

// contentTree returns the root's Content Sequence items: language (TID
// 1204), observer context (TID 1002), then the sections.
func contentTree(doc *SRDocument) ([][]elem, error) {
	var items [][]elem
	if doc.Language != "" {
		if !validLanguageTag(doc.Language) {
			return nil, fmt.Errorf("report: encode sr: language %q: %w", doc.Language, ErrInvalidValue)
		}
		meaning := languageNames[strings.ToLower(strings.SplitN(doc.Language, "-", 2)[0])]
		if meaning == "" || strings.Contains(doc.Language, "-") {
			meaning = doc.Language
		}
		items = append(items, item("HAS CONCEPT MOD", "CODE", codeLanguage,
			seq(0x0040, 0xA168, codeElems(Code{doc.Language, "RFC5646", meaning}))))
	}
	items = append(items, observerContext(doc.Author)...)

	sections := []struct {
		heading, element Code
		text             string
	}{
		{codeFindings, codeFinding, doc.Sections.Findings},
		{codeImpressions, codeImpression, doc.Sections.Impression},
		{codeRecommendations, codeRecommendation, doc.Sections.Recommendation},
	}
	for _, s := range sections {
		if s.text == "" {
			continue
		}
		if err := checkText(s.text); err != nil {
			return nil, fmt.Errorf("report: encode sr: %s: %w", s.heading.Meaning, err)
		}
		items = append(items, container(s.heading, item("CONTAINS", "TEXT", s.element, str(0x0040, 0xA160, "UT", s.text))))
	}
	for i, a := range doc.Addenda {
		if a.Text == "" {
			return nil, fmt.Errorf("report: encode sr: addendum %d: %w", i+1, ErrEmptyReport)
		}
		if err := checkText(a.Text); err != nil {
			return nil, fmt.Errorf("report: encode sr: addendum %d: %w", i+1, err)
		}
		var v validator
		v.name("addendum author", a.Author.Name, 64)
		v.lo("addendum organization", a.Author.Organization)
		v.uid("amended SOP Instance UID", a.Amends.SOPInstanceUID)
		if v.err != nil {
			return nil, v.err
		}
		// CID 7002 has no "addendum" element, so the addendum's text items
		// are findings within the Addendum heading; who wrote it is the
		// section's own observer context (TID 1001 may appear at any
		// CONTAINER, and the nearest one applies).
		children := observerContext(a.Author)
		children = append(children,
			item("CONTAINS", "TEXT", codeFinding, str(0x0040, 0xA160, "UT", a.Note())),
			item("CONTAINS", "TEXT", codeFinding, str(0x0040, 0xA160, "UT", a.Text)))
		items = append(items, container(codeAddendum, children...))
	}
	if len(items) == 0 || (doc.Sections == Sections{} && len(doc.Addenda) == 0) {
		return nil, fmt.Errorf("report: encode sr: %w", ErrEmptyReport)
	}
	return items, nil
}

// observerContext returns TID 1002 for a person: Observer Type, Person
// Observer Name and, when known, the Organization Name.
func observerContext(o Observer) [][]elem {
	if o.Name == "" {
		return nil
	}
	items := [][]elem{
		item("HAS OBS CONTEXT", "CODE", codeObserverType, seq(0x0040, 0xA168, codeElems(codePerson))),
		item("HAS OBS CONTEXT", "PNAME", codePersonObserver, str(0x0040, 0xA123, "PN", o.Name)),
	}
	if o.Organization != "" {
		items = append(items, item("HAS OBS CONTEXT", "TEXT", codeObserverOrg, str(0x0040, 0xA160, "UT", o.Organization)))
	}
	return items
}

func item(relationship, valueType string, concept Code, value ...elem) []elem {
	return append([]elem{
		str(0x0040, 0xA010, "CS", relationship),
		str(0x0040, 0xA040, "CS", valueType),
		seq(0x0040, 0xA043, codeElems(concept)),
	}, value...)
}

func container(heading Code, children ...[]elem) []elem {
	return item("CONTAINS", "CONTAINER", heading,
		str(0x0040, 0xA050, "CS", "SEPARATE"),
		seq(0x0040, 0xA730, children...))
}

func codeElems(c Code) []elem {
	return []elem{
		str(0x0008, 0x0100, "SH", c.Value),
		str(0x0008, 0x0102, "SH", c.Scheme),
		str(0x0008, 0x0104, "LO", c.Meaning),
	}
}

// evidenceItems is the Hierarchical SOP Instance Reference Macro
// (PS3.3 C.17-3) for the study's series and instances.
func evidenceItems(studyUID string, series []SeriesRef) [][]elem {
	var seriesItems [][]elem
	for _, se := range series {
		var sops [][]elem
		for _, in := range se.Instances {
			sops = append(sops, []elem{
				str(0x0008, 0x1150, "UI", in.SOPClassUID),
				str(0x0008, 0x1155, "UI", in.SOPInstanceUID),
			})
		}
		if len(sops) == 0 {
			continue
		}
		seriesItems = append(seriesItems, []elem{
			str(0x0020, 0x000E, "UI", se.SeriesInstanceUID),
			seq(0x0008, 0x1199, sops...),
		})
	}
	if len(seriesItems) == 0 {
		return nil
	}
	return [][]elem{{
		str(0x0020, 0x000D, "UI", studyUID),
		seq(0x0008, 0x1115, seriesItems...),
	}}
}

// predecessorItems groups the references by study and series, keeping
// their order, for the Predecessor Documents Sequence.
func predecessorItems(refs []DocumentRef) [][]elem {
	var studies []string
	series := map[string][]string{}
	sops := map[[2]string][][]elem{}
	for _, r := range refs {
		if _, ok := series[r.StudyInstanceUID]; !ok {
			studies = append(studies, r.StudyInstanceUID)
			series[r.StudyInstanceUID] = nil
		}
		k := [2]string{r.StudyInstanceUID, r.SeriesInstanceUID}
		if _, ok := sops[k]; !ok {
			series[r.StudyInstanceUID] = append(series[r.StudyInstanceUID], r.SeriesInstanceUID)
		}
		sops[k] = append(sops[k], []elem{
			str(0x0008, 0x1150, "UI", r.SOPClassUID),
			str(0x0008, 0x1155, "UI", r.SOPInstanceUID),
		})
	}
	var items [][]elem
	for _, st := range studies {
		var seriesItems [][]elem
		for _, se := range series[st] {
			seriesItems = append(seriesItems, []elem{
				str(0x0020, 0x000E, "UI", se),
				seq(0x0008, 0x1199, sops[[2]string{st, se}]...),
			})
		}
		items = append(items, []elem{
			str(0x0020, 0x000D, "UI", st),
			seq(0x0008, 0x1115, seriesItems...),
		})
	}
	return items
}

// validator collects the first validation error.
type validator struct{ err error }

func (v *validator) fail(format string, args ...any) {
	if v.err == nil {
		v.err = fmt.Errorf("report: encode sr: "+format+": %w", append(args, ErrInvalidValue)...)
	}
}

func (v *validator) uid(what, s string) {
	if !validUID(s) {
		v.fail("%s %q", what, s)
	}
}

func (v *validator) ref(r DocumentRef) {
	v.uid("predecessor study UID", r.StudyInstanceUID)
	v.uid("predecessor series UID", r.SeriesInstanceUID)
	v.uid("predecessor SOP Class UID", r.SOPClassUID)
	v.uid("predecessor SOP Instance UID", r.SOPInstanceUID)
}

// lo checks a single LO value: printable UTF-8 without backslash, at most
// 64 characters.
func (v *validator) lo(what, s string) {
	if !singleLine(s) || utf8.RuneCountInString(s) > 64 {
		v.fail("%s %q", what, s)
	}
}

// name checks a PN value: printable UTF-8 without backslash, each
// component group at most max characters.
func (v *validator) name(what, s string, max int) {
	if !singleLine(s) {
		v.fail("%s %q", what, s)
		return
	}
	for _, g := range strings.Split(s, "=") {
		if utf8.RuneCountInString(g) > max {
			v.fail("%s %q", what, s)
			return
		}
	}
}

func (v *validator) code(c Code) {
	if c.Value == "" || c.Scheme == "" || c.Meaning == "" || !singleLine(c.Value+c.Scheme+c.Meaning) ||
		len(c.Value) > 16 || len(c.Scheme) > 16 || utf8.RuneCountInString(c.Meaning) > 64 {
		v.fail("code %v", c)
	}
}

func singleLine(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return false
		}
	}
	return true
}

// checkText accepts UTF-8 text with the control characters that LT/ST/UT
// allow (PS3.5 6.1.3, 6.2: LF, FF, CR; ESC only with ISO 2022, which
// ISO_IR 192 excludes). TAB is not among them; signing turns it into spaces.
func checkText(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("text is not UTF-8: %w", ErrInvalidValue)
	}
	for _, r := range s {
		if (r < 0x20 && r != '\n' && r != '\f' && r != '\r') || r == 0x7f {
			return fmt.Errorf("text has control character %U: %w", r, ErrInvalidValue)
		}
	}
	return nil
}

func validLanguageTag(s string) bool {
	if len(s) == 0 || len(s) > 16 {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// UnknownOrganization stands in for a reader's organization that was not
// configured: Verifying Organization is Type 1 and may not be empty.
const UnknownOrganization = "Unspecified organization"

func verifyingOrganization(org string) string {
	if org == "" {
		return UnknownOrganization
	}
	return org
}
