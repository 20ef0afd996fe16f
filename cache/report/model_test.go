package report

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"teleread/viewer/dataset"
)

func ctStudy(t *testing.T) StudyContext {
	t.Helper()
	study, err := StudyContextFromFiles([]string{corpusFile(t, "ct_small_explicit_le.dcm")})
	if err != nil {
		t.Fatal(err)
	}
	return study
}

func TestSignAndAddendum(t *testing.T) {
	study := ctStudy(t)
	t0 := time.Date(2026, 3, 14, 1, 0, 0, 0, time.FixedZone("CET", 3600))
	templates, err := BuiltinTemplates()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, _ := SelectTemplate(templates, study.Modality(), study.BodyPart())
	r := NewDraft(KindReport, study.StudyUID(), reader, tmpl, t0)
	r.Language = "de"
	r.Record(EventAssigned, "dispatcher", t0.Add(-time.Hour))
	r.Record(EventOpened, reader.Name, t0.Add(time.Minute))
	if r.Sections.Findings != tmpl.Sections.Findings || r.Template != "CT" {
		t.Fatalf("draft not pre-filled from template %q", tmpl.Name)
	}
	if err := r.Edit(Sections{Findings: "Müller, 5 mm Läsion, 肺\t(segment 6)  \n\n", Impression: "Läsion."}); err != nil {
		t.Fatal(err)
	}
	first, err := r.Sign(study, t0.Add(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if r.State != StateSigned || r.Sections.Findings != "Müller, 5 mm Läsion, 肺    (segment 6)" {
		t.Fatalf("signed state %s, text %q", r.State, r.Sections.Findings)
	}
	if err := r.Edit(Sections{Findings: "changed"}); !errors.Is(err, ErrSigned) {
		t.Errorf("edit after signing: %v", err)
	}
	if _, err := r.Sign(study, t0.Add(11*time.Minute)); !errors.Is(err, ErrSigned) {
		t.Errorf("second signing: %v", err)
	}
	firstPath, firstListing := writeSR(t, "first.dcm", first.SR)
	f := parseSR(t, firstPath)
	if f.String(dataset.SOPInstanceUID) != first.SOPInstanceUID || f.String(dataset.SeriesInstanceUID) != r.SeriesInstanceUID {
		t.Errorf("first SR UIDs differ from the report's")
	}
	want := wantTexts(r.Sections, reader.Organization)
	if got := dsrdumpTexts(firstListing); !slices.Equal(got, want) {
		t.Errorf("first SR texts %q, want %q", got, want)
	}

	signer := Observer{Name: "Keller^Jürg", Organization: "Teleradiologie Zürich AG"}
	addText := "Nachtrag: Läsion 6 mm, nicht 5 mm. 肺"
	second, err := r.AddAddendum(study, addText+" \n", signer, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if r.State != StateAddended || second.InstanceNumber != 2 || second.SeriesInstanceUID != first.SeriesInstanceUID ||
		second.SOPInstanceUID == first.SOPInstanceUID || second.Addendum != addText {
		t.Fatalf("addendum document %+v", second)
	}
	secondPath, secondListing := writeSR(t, "addendum.dcm", second.SR)
	a := parseSR(t, secondPath)
	// The Predecessor Documents Sequence names the first SR.
	pre := a.Items(dataset.T(0x0040, 0xA360))
	if len(pre) != 1 || pre[0].String(dataset.StudyInstanceUID) != study.StudyUID() {
		t.Fatalf("predecessor study wrong (%d items)", len(pre))
	}
	se := pre[0].Items(dataset.T(0x0008, 0x1115))
	if len(se) != 1 || se[0].String(dataset.SeriesInstanceUID) != f.String(dataset.SeriesInstanceUID) {
		t.Fatalf("predecessor series wrong")
	}
	sop := se[0].Items(dataset.T(0x0008, 0x1199))
	if len(sop) != 1 || sop[0].String(dataset.T(0x0008, 0x1150)) != f.String(dataset.SOPClassUID) ||
		sop[0].String(dataset.T(0x0008, 0x1155)) != f.String(dataset.SOPInstanceUID) {
		t.Fatalf("predecessor SOP reference wrong")
	}
	if !strings.Contains(secondListing, "Predecessor Docs    : 1") ||
		!strings.Contains(secondListing, `<contains CONTAINER:(121078,DCM,"Addendum")=SEPARATE>`) ||
		!strings.Contains(secondListing, `"Person Observer Name")="Keller^Jürg"`) {
		t.Errorf("dsrdump listing of the addendum:\n%s", secondListing)
	}
	// The title stays; the original text, the amendment note and the
	// addendum's text follow in order.
	if a.Items(dataset.T(0x0040, 0xA043))[0].String(dataset.T(0x0008, 0x0100)) != "18748-4" {
		t.Errorf("addendum title changed")
	}
	note := AddendumSection{SignedAt: t0.Add(2 * time.Hour), Amends: first.Ref(study.StudyUID())}.Note()
	if !strings.Contains(note, first.SOPInstanceUID) {
		t.Errorf("note %q does not name the amended SR", note)
	}
	wantAdd := append(wantTexts(r.Sections, reader.Organization),
		textItem{"121009", signer.Organization}, textItem{"121071", note}, textItem{"121071", addText})
	if got := dsrdumpTexts(secondListing); !slices.Equal(got, wantAdd) {
		t.Errorf("dsrdump addendum texts\n got %q\nwant %q", got, wantAdd)
	}
	if got := parsedTexts(t, a); !slices.Equal(got, wantAdd) {
		t.Errorf("parsed addendum texts\n got %q\nwant %q", got, wantAdd)
	}
	vo := a.Items(dataset.T(0x0040, 0xA073))
	if len(vo) != 1 || vo[0].String(dataset.T(0x0040, 0xA075)) != signer.Name {
		t.Errorf("addendum verifier wrong")
	}

	// A second addendum names both earlier SRs and repeats the first addendum.
	third, err := r.AddAddendum(study, "Zweiter Nachtrag.", reader, t0.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	thirdPath, thirdListing := writeSR(t, "addendum2.dcm", third.SR)
	var refs []string
	for _, st := range parseSR(t, thirdPath).Items(dataset.T(0x0040, 0xA360)) {
		for _, se := range st.Items(dataset.T(0x0008, 0x1115)) {
			for _, in := range se.Items(dataset.T(0x0008, 0x1199)) {
				refs = append(refs, in.String(dataset.T(0x0008, 0x1155)))
			}
		}
	}
	if !slices.Equal(refs, []string{first.SOPInstanceUID, second.SOPInstanceUID}) || third.InstanceNumber != 3 {
		t.Errorf("second addendum predecessors %v", refs)
	}
	if strings.Count(thirdListing, `(121078,DCM,"Addendum")`) != 2 || !strings.Contains(thirdListing, addText) {
		t.Errorf("second addendum does not repeat the first")
	}

	if err := r.MarkDelivered(first.SOPInstanceUID, t0.Add(15*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := r.MarkDelivered("1.2.3", t0); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("unknown UID delivered: %v", err)
	}
	tat := r.Turnaround()
	if !tat.Assigned.Equal(t0.Add(-time.Hour)) || !tat.Opened.Equal(t0.Add(time.Minute)) ||
		!tat.Signed.Equal(t0.Add(10*time.Minute)) || !tat.Delivered.Equal(t0.Add(15*time.Minute)) {
		t.Errorf("turnaround %+v", tat)
	}
}

func TestConsultNote(t *testing.T) {
	study := ctStudy(t)
	r := NewDraft(KindConsult, study.StudyUID(), reader, Template{}, time.Now())
	if err := r.Edit(Sections{Impression: "Zweitmeinung: Müller, 5 mm Läsion, 肺"}); err != nil {
		t.Fatal(err)
	}
	d, err := r.Sign(study, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, listing := writeSR(t, "consult.dcm", d.SR)
	if !strings.Contains(listing, `<CONTAINER:(11488-4,LN,"Consultation report")=SEPARATE>`) {
		t.Errorf("consult title missing:\n%s", listing)
	}
	if got, want := dsrdumpTexts(listing), wantTexts(r.Sections, reader.Organization); !slices.Equal(got, want) {
		t.Errorf("texts %q, want %q", got, want)
	}
}

func TestReportRefusals(t *testing.T) {
	study := ctStudy(t)
	now := time.Now()
	tests := []struct {
		name    string
		do      func(r *Report) error
		wantErr error
	}{
		{"sign empty", func(r *Report) error {
			r.Sections = Sections{Findings: " \n\t"}
			_, err := r.Sign(study, now)
			return err
		}, ErrEmptyReport},
		{"addendum to a draft", func(r *Report) error {
			_, err := r.AddAddendum(study, "x", reader, now)
			return err
		}, ErrNotSigned},
		{"other study", func(r *Report) error {
			other := study
			other.StudyInstanceUID = []byte("1.2.3")
			_, err := r.Sign(other, now)
			return err
		}, ErrStudyMismatch},
		{"bad text", func(r *Report) error {
			r.Sections = Sections{Findings: "a\x01b"}
			_, err := r.Sign(study, now)
			return err
		}, ErrInvalidValue},
		{"empty addendum", func(r *Report) error {
			if _, err := r.Sign(study, now); err != nil {
				return err
			}
			_, err := r.AddAddendum(study, "  \n", reader, now)
			return err
		}, ErrEmptyReport},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewDraft(KindReport, study.StudyUID(), reader, Template{}, now)
			r.Sections = Sections{Findings: "x"}
			err := tc.do(r)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
		})
	}
	// A refused signing leaves the report as it was.
	r := NewDraft(KindReport, study.StudyUID(), reader, Template{}, now)
	r.Sections = Sections{Findings: "ok", Impression: "bad\x02"}
	before := *r
	if _, err := r.Sign(study, now); err == nil {
		t.Fatal("signed invalid text")
	}
	if r.State != StateDraft || r.Sections != before.Sections || len(r.Documents) != 0 || len(r.Events) != 1 || r.SeriesInstanceUID != "" {
		t.Errorf("refused signing changed the report: %+v", r)
	}
}

func TestSelectTemplate(t *testing.T) {
	templates, err := BuiltinTemplates()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		modality, bodyPart, want string
	}{
		{"CT", "", "CT"},
		{"CT", "HEAD", "CT head"},
		{"ct", "chest", "CT chest"},
		{"CT", "ABDOMEN", "CT"},
		{"MR", "HEAD", "MR"},
		{"CR", "CHEST", "Chest radiograph"},
		{"DX", "HAND", "Radiograph"},
		{"US", "", "Ultrasound"},
		{"NM", "", "Default"},
		{"", "", "Default"},
	}
	for _, tc := range tests {
		got, ok := SelectTemplate(templates, tc.modality, tc.bodyPart)
		if !ok || got.Name != tc.want {
			t.Errorf("SelectTemplate(%q, %q) = %q, want %q", tc.modality, tc.bodyPart, got.Name, tc.want)
		}
	}
	// The corpus radiograph says CHEST in Body Part Examined.
	cr, err := StudyContextFromFiles([]string{corpusFile(t, "cr_mono1_chest_nometa.dcm")})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := SelectTemplate(templates, cr.Modality(), cr.BodyPart()); got.Name != "Chest radiograph" {
		t.Errorf("corpus CR gets %q", got.Name)
	}
	if _, ok := SelectTemplate(templates[:1], "NM", ""); ok && templates[0].Name != "Default" {
		t.Errorf("a modality template matched another modality")
	}
}

func TestLoadTemplatesRejects(t *testing.T) {
	tests := []struct{ name, body string }{
		{"not json", "{"},
		{"unknown field", `{"name":"x","sectons":{}}`},
		{"no name", `{"sections":{"findings":"a"}}`},
		{"control character", `{"name":"x","sections":{"findings":"a\u0001"}}`},
	}
	for _, tc := range tests {
		fsys := fstest.MapFS{"t/a.json": {Data: []byte(tc.body)}}
		if _, err := LoadTemplates(fsys, "t"); !errors.Is(err, ErrTemplate) && !errors.Is(err, ErrInvalidValue) {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
}
