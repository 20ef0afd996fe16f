package report

import (
	"fmt"
	"strings"
	"time"
)

// Kind says what a report is: a reading report or a consultation note.
type Kind string

// Kinds of report.
const (
	KindReport  Kind = "report"  // Diagnostic Imaging Report (LOINC 18748-4)
	KindConsult Kind = "consult" // Consultation report (LOINC 11488-4)
)

// Title returns the SR document title of the kind.
func (k Kind) Title() Code {
	if k == KindConsult {
		return CodeConsultNote
	}
	return CodeDiagnosticImagingReport
}

// State is where a report is in its life.
type State string

// States of a report. A draft can be edited; a signed report never
// changes; corrections are addenda, each a new signed SR.
const (
	StateDraft    State = "draft"
	StateSigned   State = "signed"
	StateAddended State = "addended" // signed, with one or more addenda
)

// EventKind names a state change kept for turnaround times.
type EventKind string

// Events of a report.
const (
	EventAssigned  EventKind = "assigned"
	EventOpened    EventKind = "opened"
	EventDrafted   EventKind = "drafted" // the draft was created
	EventSigned    EventKind = "signed"
	EventAddendum  EventKind = "addendum"
	EventDelivered EventKind = "delivered"
)

// Event is one state change: what, when, by whom, and for signing,
// addenda and delivery the SR it concerns.
type Event struct {
	Kind           EventKind `json:"kind"`
	At             time.Time `json:"at"`
	By             string    `json:"by,omitempty"`
	SOPInstanceUID string    `json:"sop_instance_uid,omitempty"`
}

// Document is one signed SR of a report: the original or an addendum.
// Its UIDs and bytes are fixed when it is signed and never change, so
// that every delivery attempt sends the same instance.
type Document struct {
	SOPInstanceUID    string    `json:"sop_instance_uid"`
	SeriesInstanceUID string    `json:"series_instance_uid"`
	InstanceNumber    int       `json:"instance_number"`
	SignedAt          time.Time `json:"signed_at"`
	Signer            Observer  `json:"signer"`
	// Addendum is the addendum's text; "" for the original report.
	Addendum string `json:"addendum,omitempty"`
	// SR is the DICOM file. The store keeps it apart from the report row.
	SR []byte `json:"-"`
}

// Ref returns the reference to the document used by a later addendum.
func (d Document) Ref(studyUID string) DocumentRef {
	return DocumentRef{
		StudyInstanceUID:  studyUID,
		SeriesInstanceUID: d.SeriesInstanceUID,
		SOPClassUID:       BasicTextSRStorage,
		SOPInstanceUID:    d.SOPInstanceUID,
	}
}

// Report is one report (or consultation note) on one study. It is a plain
// value: the store saves it as it changes, and its methods change it only
// when they succeed.
type Report struct {
	StudyInstanceUID string   `json:"study_instance_uid"`
	Kind             Kind     `json:"kind"`
	State            State    `json:"state"`
	Reader           Observer `json:"reader"`
	// Language is the RFC 5646 tag of the text ("" when not stated).
	Language string `json:"language,omitempty"`
	// Template is the name of the template the draft started from.
	Template string   `json:"template,omitempty"`
	Sections Sections `json:"sections"`
	// SeriesInstanceUID and SeriesNumber are fixed at signing; addenda go
	// into the same series.
	SeriesInstanceUID string     `json:"series_instance_uid,omitempty"`
	SeriesNumber      int        `json:"series_number,omitempty"`
	Documents         []Document `json:"documents,omitempty"`
	Events            []Event    `json:"events"`
}

// NewDraft starts a report on a study for a reader, pre-filled from the
// template (the zero Template gives empty sections).
func NewDraft(kind Kind, studyUID string, reader Observer, tmpl Template, now time.Time) *Report {
	return &Report{
		StudyInstanceUID: studyUID,
		Kind:             kind,
		State:            StateDraft,
		Reader:           reader,
		Template:         tmpl.Name,
		Sections:         tmpl.Sections,
		Events:           []Event{{Kind: EventDrafted, At: now, By: reader.Name}},
	}
}

// Record adds an event that is not a change of the text (assigned, opened).
func (r *Report) Record(kind EventKind, by string, now time.Time) {
	r.Events = append(r.Events, Event{Kind: kind, At: now, By: by})
}

// Edit replaces the draft's text. A signed report refuses with ErrSigned.
func (r *Report) Edit(s Sections) error {
	if r.State != StateDraft {
		return fmt.Errorf("report: edit %s: %w", r.StudyInstanceUID, ErrSigned)
	}
	r.Sections = s
	return nil
}

// Sign freezes the text, fixes a new SOP Instance UID and series, and
// returns the SR. study must be the report's study. On error the report is
// unchanged.
func (r *Report) Sign(study StudyContext, now time.Time) (Document, error) {
	if r.State != StateDraft {
		return Document{}, fmt.Errorf("report: sign %s: %w", r.StudyInstanceUID, ErrSigned)
	}
	if err := r.checkStudy(study); err != nil {
		return Document{}, err
	}
	frozen := freeze(r.Sections)
	if frozen.Findings == "" && frozen.Impression == "" && frozen.Recommendation == "" {
		return Document{}, fmt.Errorf("report: sign %s: %w", r.StudyInstanceUID, ErrEmptyReport)
	}
	seriesUID, err := NewUID()
	if err != nil {
		return Document{}, err
	}
	sopUID, err := NewUID()
	if err != nil {
		return Document{}, err
	}
	doc := SRDocument{
		Title:             r.Kind.Title(),
		Study:             study,
		Sections:          frozen,
		Language:          r.Language,
		Author:            r.Reader,
		Verifier:          r.Reader,
		Verified:          now,
		SeriesInstanceUID: seriesUID,
		SeriesNumber:      study.NextSeriesNumber(),
		SOPInstanceUID:    sopUID,
		InstanceNumber:    1,
	}
	sr, err := EncodeSR(doc)
	if err != nil {
		return Document{}, fmt.Errorf("report: sign %s: %w", r.StudyInstanceUID, err)
	}
	d := Document{
		SOPInstanceUID:    sopUID,
		SeriesInstanceUID: seriesUID,
		InstanceNumber:    1,
		SignedAt:          now,
		Signer:            r.Reader,
		SR:                sr,
	}
	r.Sections = frozen
	r.SeriesInstanceUID, r.SeriesNumber = seriesUID, doc.SeriesNumber
	r.State = StateSigned
	r.Documents = append(r.Documents, d)
	r.Events = append(r.Events, Event{Kind: EventSigned, At: now, By: r.Reader.Name, SOPInstanceUID: sopUID})
	return d, nil
}

// AddAddendum signs an addendum by signer: a new SR in the report's series
// that repeats the signed text and every earlier addendum, adds an
// Addendum section, and names the earlier SRs in its Predecessor
// Documents Sequence. On error the report is unchanged.
func (r *Report) AddAddendum(study StudyContext, text string, signer Observer, now time.Time) (Document, error) {
	if r.State == StateDraft || len(r.Documents) == 0 {
		return Document{}, fmt.Errorf("report: addendum %s: %w", r.StudyInstanceUID, ErrNotSigned)
	}
	if err := r.checkStudy(study); err != nil {
		return Document{}, err
	}
	text = freeze(Sections{Findings: text}).Findings
	if text == "" {
		return Document{}, fmt.Errorf("report: addendum %s: %w", r.StudyInstanceUID, ErrEmptyReport)
	}
	sopUID, err := NewUID()
	if err != nil {
		return Document{}, err
	}
	studyUID := study.StudyUID()
	var addenda []AddendumSection
	var predecessors []DocumentRef
	for i, d := range r.Documents {
		predecessors = append(predecessors, d.Ref(studyUID))
		if i > 0 {
			addenda = append(addenda, AddendumSection{
				Text: d.Addendum, Author: d.Signer, SignedAt: d.SignedAt, Amends: r.Documents[i-1].Ref(studyUID),
			})
		}
	}
	last := r.Documents[len(r.Documents)-1]
	addenda = append(addenda, AddendumSection{Text: text, Author: signer, SignedAt: now, Amends: last.Ref(studyUID)})
	number := last.InstanceNumber + 1
	doc := SRDocument{
		Title:             r.Kind.Title(),
		Study:             study,
		Sections:          r.Sections,
		Addenda:           addenda,
		Language:          r.Language,
		Author:            r.Documents[0].Signer,
		Verifier:          signer,
		Verified:          now,
		SeriesInstanceUID: r.SeriesInstanceUID,
		SeriesNumber:      r.SeriesNumber,
		SOPInstanceUID:    sopUID,
		InstanceNumber:    number,
		Predecessors:      predecessors,
	}
	sr, err := EncodeSR(doc)
	if err != nil {
		return Document{}, fmt.Errorf("report: addendum %s: %w", r.StudyInstanceUID, err)
	}
	d := Document{
		SOPInstanceUID:    sopUID,
		SeriesInstanceUID: r.SeriesInstanceUID,
		InstanceNumber:    number,
		SignedAt:          now,
		Signer:            signer,
		Addendum:          text,
		SR:                sr,
	}
	r.State = StateAddended
	r.Documents = append(r.Documents, d)
	r.Events = append(r.Events, Event{Kind: EventAddendum, At: now, By: signer.Name, SOPInstanceUID: sopUID})
	return d, nil
}

// MarkDelivered records that the archive confirmed the SR with that SOP
// Instance UID. It fails for a UID that is not one of the report's
// documents.
func (r *Report) MarkDelivered(sopInstanceUID string, now time.Time) error {
	for _, d := range r.Documents {
		if d.SOPInstanceUID == sopInstanceUID {
			r.Events = append(r.Events, Event{Kind: EventDelivered, At: now, SOPInstanceUID: sopInstanceUID})
			return nil
		}
	}
	return fmt.Errorf("report: delivered %s: unknown SOP Instance UID %s: %w", r.StudyInstanceUID, sopInstanceUID, ErrInvalidValue)
}

// Turnaround holds the time of each step of a report; a zero time means
// the step has not happened.
type Turnaround struct {
	Assigned, Opened, Signed, Delivered time.Time
}

// Turnaround returns the first assignment, the first opening, the signing
// of the original report and its delivery.
func (r *Report) Turnaround() Turnaround {
	var t Turnaround
	first := func(dst *time.Time, at time.Time) {
		if dst.IsZero() {
			*dst = at
		}
	}
	var original string
	if len(r.Documents) > 0 {
		original = r.Documents[0].SOPInstanceUID
	}
	for _, e := range r.Events {
		switch e.Kind {
		case EventAssigned:
			first(&t.Assigned, e.At)
		case EventOpened:
			first(&t.Opened, e.At)
		case EventSigned:
			first(&t.Signed, e.At)
		case EventDelivered:
			if e.SOPInstanceUID == original {
				first(&t.Delivered, e.At)
			}
		}
	}
	return t
}

func (r *Report) checkStudy(study StudyContext) error {
	if got := study.StudyUID(); got != r.StudyInstanceUID {
		return fmt.Errorf("report: study %q given for report on %q: %w", got, r.StudyInstanceUID, ErrStudyMismatch)
	}
	return nil
}

// freeze returns the text as it is signed, so that what the SR says is
// exactly what the report says: trailing white space, which DICOM text
// values do not keep (PS3.5 6.2, UT), is removed, and each TAB, which they
// may not contain, becomes four spaces.
func freeze(s Sections) Sections {
	trim := func(t string) string {
		return strings.TrimRight(strings.ReplaceAll(t, "\t", "    "), " \r\n\f")
	}
	return Sections{Findings: trim(s.Findings), Impression: trim(s.Impression), Recommendation: trim(s.Recommendation)}
}
