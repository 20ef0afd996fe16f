package report

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"teleread/viewer/dataset"
)

// copiedTags are the Patient and General Study attributes an SR copies.
var copiedTags = []struct {
	tag  dataset.Tag
	dump string
}{
	{dataset.PatientName, "0010,0010"},
	{dataset.PatientID, "0010,0020"},
	{dataset.PatientBirthDate, "0010,0030"},
	{dataset.PatientSex, "0010,0040"},
	{dataset.StudyInstanceUID, "0020,000d"},
	{dataset.StudyDate, "0008,0020"},
	{dataset.StudyTime, "0008,0030"},
	{dataset.ReferringPhysicianName, "0008,0090"},
	{dataset.StudyID, "0020,0010"},
	{dataset.AccessionNumber, "0008,0050"},
}

var reader = Observer{Name: "Müller^Anna^^Dr.", Organization: "Teleradiologie Zürich AG"}

func TestEncodeSRCorpus(t *testing.T) {
	signed := time.Date(2026, 3, 14, 2, 17, 9, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		name     string
		files    []string
		title    Code
		sections Sections
		language string
	}{
		{
			name:  "ct explicit le, non-ascii text",
			files: []string{"ct_small_explicit_le.dcm"},
			title: CodeDiagnosticImagingReport,
			sections: Sections{
				Findings:       "Müller, 5 mm Läsion, 肺\r\nSecond line,\fform-fed; \"quoted\" text.",
				Impression:     "Müller, 5 mm Läsion, 肺",
				Recommendation: "Kontrolle in 3 Monaten (CT Thorax).",
			},
			language: "de",
		},
		{
			name:     "mr in three encodings of one instance, big endian first",
			files:    []string{"mr_small_big_endian.dcm", "mr_small_implicit_le.dcm", "mr_small_explicit_le.dcm"},
			title:    CodeDiagnosticImagingReport,
			sections: Sections{Findings: "  Indented first line.\nNo focal lesion.", Impression: "Normal MR."},
		},
		{
			name:     "consult note on a radiograph without meta header",
			files:    []string{"cr_mono1_chest_nometa.dcm"},
			title:    CodeConsultNote,
			sections: Sections{Impression: "Agree with the primary read: no pneumothorax. 肺"},
			language: "en",
		},
		{
			name:     "utf-8 source",
			files:    []string{"sc_rgb_explicit_le.dcm"},
			title:    CodeDiagnosticImagingReport,
			sections: Sections{Findings: "Müller, 5 mm Läsion, 肺"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var paths []string
			for _, f := range tc.files {
				paths = append(paths, corpusFile(t, f))
			}
			study, err := StudyContextFromFiles(paths)
			if err != nil {
				t.Fatal(err)
			}
			doc := SRDocument{
				Title: tc.title, Study: study, Sections: tc.sections, Language: tc.language,
				Author: reader, Verifier: reader, Verified: signed,
				SeriesInstanceUID: mustUID(t), SeriesNumber: study.NextSeriesNumber(),
				SOPInstanceUID: mustUID(t), InstanceNumber: 1,
			}
			sr, err := EncodeSR(doc)
			if err != nil {
				t.Fatal(err)
			}
			path, listing := writeSR(t, "report.dcm", sr)

			// Copied attributes: the same bytes as in the first image, and
			// the same value to dcmtk.
			src := parseSR(t, paths[0])
			got := parseSR(t, path)
			srDump, srcDump := dcmdumpValues(t, path), dcmdumpValues(t, paths[0])
			if len(srDump) < 30 {
				t.Fatalf("dcmdump listed %d attributes of the SR", len(srDump))
			}
			for _, c := range copiedTags {
				var want []byte
				if e := src.Get(c.tag); e != nil {
					want = e.Value
				}
				e := got.Get(c.tag)
				if e == nil {
					t.Errorf("%v missing in SR", c.tag)
					continue
				}
				if !bytes.Equal(e.Value, want) {
					t.Errorf("%v = %q, image has %q", c.tag, e.Value, want)
				}
				a, b := srDump[c.dump], srcDump[c.dump]
				if b == "" && len(a) >= 3 { // absent in the image: written empty (type 2)
					b = a[:3] + "(no value available)"
				}
				if a != b {
					t.Errorf("dcmdump %s: SR %q, image %q", c.dump, a, b)
				}
			}
			for _, c := range []struct {
				tag  dataset.Tag
				want string
			}{
				{dataset.SOPClassUID, BasicTextSRStorage},
				{dataset.SOPInstanceUID, doc.SOPInstanceUID},
				{dataset.SeriesInstanceUID, doc.SeriesInstanceUID},
				{dataset.Modality, "SR"},
				{dataset.SpecificCharacterSet, "ISO_IR 192"},
				{dataset.T(0x0040, 0xA491), "COMPLETE"},
				{dataset.T(0x0040, 0xA493), "VERIFIED"},
			} {
				if s := got.String(c.tag); s != c.want {
					t.Errorf("%v = %q, want %q", c.tag, s, c.want)
				}
			}
			if got.TransferSyntax != dataset.ExplicitVRLittleEndian ||
				got.Meta.String(dataset.MediaStorageSOPInstanceUID) != doc.SOPInstanceUID ||
				got.Meta.String(dataset.MediaStorageSOPClassUID) != BasicTextSRStorage {
				t.Errorf("meta header: ts %s, sop %s", got.TransferSyntax, got.Meta.String(dataset.MediaStorageSOPInstanceUID))
			}
			vo := got.Items(dataset.T(0x0040, 0xA073))
			if len(vo) != 1 || vo[0].String(dataset.T(0x0040, 0xA075)) != reader.Name ||
				vo[0].String(dataset.T(0x0040, 0xA027)) != reader.Organization ||
				vo[0].String(dataset.T(0x0040, 0xA030)) != "20260314021709+0100" {
				t.Errorf("Verifying Observer Sequence wrong: %d items", len(vo))
			}
			title := got.Items(dataset.T(0x0040, 0xA043))
			if len(title) != 1 || title[0].String(dataset.T(0x0008, 0x0100)) != tc.title.Value {
				t.Errorf("document title wrong")
			}

			// Evidence: every series and instance of the study, once.
			var wantRefs, gotRefs []string
			for _, se := range study.Series {
				for _, in := range se.Instances {
					wantRefs = append(wantRefs, se.SeriesInstanceUID+"/"+in.SOPClassUID+"/"+in.SOPInstanceUID)
				}
			}
			for _, st := range got.Items(dataset.T(0x0040, 0xA375)) {
				for _, se := range st.Items(dataset.T(0x0008, 0x1115)) {
					for _, in := range se.Items(dataset.T(0x0008, 0x1199)) {
						gotRefs = append(gotRefs, se.String(dataset.SeriesInstanceUID)+"/"+
							in.String(dataset.T(0x0008, 0x1150))+"/"+in.String(dataset.T(0x0008, 0x1155)))
					}
				}
			}
			if len(wantRefs) != 1 && strings.HasPrefix(tc.files[0], "mr_small") {
				t.Errorf("the three MR files are one instance, got %d", len(wantRefs))
			}
			if !slices.Equal(gotRefs, wantRefs) || src.String(dataset.SOPInstanceUID) == "" ||
				!strings.HasSuffix(wantRefs[0], src.String(dataset.SOPInstanceUID)) {
				t.Errorf("evidence %v, want %v", gotRefs, wantRefs)
			}

			// The text reads back identical through viewer/dataset and dsrdump.
			want := wantTexts(tc.sections, reader.Organization)
			if got := parsedTexts(t, got); !slices.Equal(got, want) {
				t.Errorf("parsed texts\n got %q\nwant %q", got, want)
			}
			if got := dsrdumpTexts(listing); !slices.Equal(got, want) {
				t.Errorf("dsrdump texts\n got %q\nwant %q\n%s", got, want, listing)
			}
			for _, s := range []string{`(` + tc.title.Value + `,LN,"` + tc.title.Meaning + `")`, "# TID 2000 (DCMR)"} {
				if !strings.Contains(listing, s) {
					t.Errorf("dsrdump listing lacks %s:\n%s", s, listing)
				}
			}
			if tc.language != "" && !strings.Contains(listing, "=("+tc.language+",RFC5646,") {
				t.Errorf("dsrdump listing lacks language %s", tc.language)
			}
		})
	}
}

// wantTexts lists the TEXT items an SR of these sections has: the
// observer's organization, then each non-empty section.
func wantTexts(s Sections, org string) []textItem {
	out := []textItem{{"121009", org}}
	for _, x := range []textItem{{"121071", s.Findings}, {"121073", s.Impression}, {"121075", s.Recommendation}} {
		if x.text != "" {
			out = append(out, x)
		}
	}
	return out
}

func mustUID(t testing.TB) string {
	t.Helper()
	u, err := NewUID()
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestEncodeSRRejects(t *testing.T) {
	base := func() SRDocument {
		return SRDocument{
			Title:    CodeDiagnosticImagingReport,
			Study:    StudyContext{StudyInstanceUID: []byte("1.2.3\x00"), PatientName: []byte("Doe^J")},
			Sections: Sections{Findings: "x"}, Author: reader, Verifier: reader,
			Verified: time.Unix(0, 0), SeriesInstanceUID: "1.2.3.4", SOPInstanceUID: "1.2.3.5", SeriesNumber: 1, InstanceNumber: 1,
		}
	}
	tests := []struct {
		name    string
		change  func(*SRDocument)
		wantErr error
	}{
		{"valid", func(*SRDocument) {}, nil},
		{"no study", func(d *SRDocument) { d.Study.StudyInstanceUID = nil }, ErrNoStudy},
		{"bad sop uid", func(d *SRDocument) { d.SOPInstanceUID = "1.02.3" }, ErrInvalidValue},
		{"uid too long", func(d *SRDocument) { d.SOPInstanceUID = "1." + strings.Repeat("1", 63) }, ErrInvalidValue},
		{"empty", func(d *SRDocument) { d.Sections = Sections{} }, ErrEmptyReport},
		{"control character", func(d *SRDocument) { d.Sections.Impression = "a\x00b" }, ErrInvalidValue},
		// dciodvfy refused the TAB a reader typed: UT allows only CR, LF,
		// FF (and ESC for ISO 2022); Report.Sign turns TABs into spaces.
		{"tab", func(d *SRDocument) { d.Sections.Findings = "a\tb" }, ErrInvalidValue},
		{"escape", func(d *SRDocument) { d.Sections.Impression = "a\x1b$Bb" }, ErrInvalidValue},
		{"invalid utf-8", func(d *SRDocument) { d.Sections.Findings = "M\xfcller" }, ErrInvalidValue},
		{"backslash in name", func(d *SRDocument) { d.Verifier.Name = `A\B` }, ErrInvalidValue},
		{"organization too long", func(d *SRDocument) { d.Verifier.Organization = strings.Repeat("ü", 65) }, ErrInvalidValue},
		{"no time", func(d *SRDocument) { d.Verified = time.Time{} }, ErrInvalidValue},
		{"bad language", func(d *SRDocument) { d.Language = "de CH" }, ErrInvalidValue},
		{"iso 2022 name", func(d *SRDocument) {
			d.Study.CharacterSet = `\ISO 2022 IR 87`
			d.Study.PatientName = []byte("Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B")
		}, nil},
		{"unknown character set", func(d *SRDocument) {
			d.Study.CharacterSet = "ISO_IR 999"
			d.Study.PatientName = []byte("M\xfcller")
		}, ErrCharacterSet},
		{"name not valid in its set", func(d *SRDocument) {
			d.Study.CharacterSet = "ISO_IR 192"
			d.Study.PatientName = []byte("M\xfcller")
		}, ErrInvalidValue},
		{"bad predecessor", func(d *SRDocument) { d.Predecessors = []DocumentRef{{SOPInstanceUID: "x"}} }, ErrInvalidValue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := base()
			tc.change(&d)
			_, err := EncodeSR(d)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestToUTF8(t *testing.T) {
	tests := []struct {
		name, charset string
		in, want      []byte
		wantErr       error
	}{
		{"ascii kept as is", "ISO_IR 100", []byte("Doe^John "), []byte("Doe^John "), nil},
		{"latin-1", "ISO_IR 100", []byte("M\xfcller^J\xf6rg"), []byte("Müller^Jörg"), nil},
		{"latin-2", "ISO_IR 101", []byte("Dvo\xf8\xe1k"), []byte("Dvořák"), nil},
		{"cyrillic", "ISO_IR 144", []byte("\xbb\xee\xdaaaa"), []byte("Люкaaa"), nil},
		{"undeclared high bytes read as latin-1", "", []byte("M\xfcller"), []byte("Müller"), nil},
		{"utf-8", "ISO_IR 192", []byte("肺 "), []byte("肺 "), nil},
		{"invalid utf-8", "ISO_IR 192", []byte("M\xfcller"), nil, ErrInvalidValue},
		{"code extensions", `ISO 2022 IR 6\ISO 2022 IR 87`, []byte("\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B"), []byte("山田^太郎"), nil},
		{"korean", `\ISO 2022 IR 149`, []byte("Hong^Gildong=\x1b$)C\xfb\xf3^\x1b$)C\xd1\xce\xd4\xd7"), []byte("Hong^Gildong=洪^吉洞"), nil},
		{"half-width katakana", "ISO_IR 13", []byte("\xd4\xcf\xc0\xde"), []byte("ﾔﾏﾀﾞ"), nil},
		{"unknown set", "ISO_IR 999", []byte("\xb1"), nil, ErrCharacterSet},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := toUTF8(tc.charset, "PN", tc.in)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestUIDs(t *testing.T) {
	a, b := mustUID(t), mustUID(t)
	if a == b || !validUID(a) || !strings.HasPrefix(a, "2.25.") {
		t.Errorf("NewUID: %s, %s", a, b)
	}
	if x1, x2 := UIDFromName("x"), UIDFromName("x"); x1 != x2 || x1 == UIDFromName("y") || !validUID(UIDFromName("x")) {
		t.Errorf("UIDFromName not a stable valid UID")
	}
	if !validUID(ImplementationClassUID) || len(ImplementationVersionName) > 16 {
		t.Errorf("implementation identification invalid")
	}
	for _, tc := range []struct {
		uid  string
		want bool
	}{
		{"1.2.840.10008.1.2.1", true}, {"0", true}, {"1.0.2", true},
		{"", false}, {"1..2", false}, {"1.2.", false}, {".1", false}, {"1.02", false}, {"1.a", false},
		{"1." + strings.Repeat("2", 62), true}, {"1." + strings.Repeat("2", 63), false},
	} {
		if got := validUID(tc.uid); got != tc.want {
			t.Errorf("validUID(%q) = %v", tc.uid, got)
		}
	}
}

func TestStudyContextFromFilesMixedStudies(t *testing.T) {
	_, err := StudyContextFromFiles([]string{corpusFile(t, "ct_small_explicit_le.dcm"), corpusFile(t, "mr_small_explicit_le.dcm")})
	if !errors.Is(err, ErrStudyMismatch) {
		t.Errorf("err = %v, want ErrStudyMismatch", err)
	}
	if _, err := StudyContextFromFiles(nil); !errors.Is(err, ErrNoStudy) {
		t.Errorf("no files: err = %v", err)
	}
}

func BenchmarkEncodeSR(b *testing.B) {
	study, err := StudyContextFromFiles([]string{corpusFile(b, "ct_small_explicit_le.dcm")})
	if err != nil {
		b.Fatal(err)
	}
	doc := SRDocument{
		Title: CodeDiagnosticImagingReport, Study: study,
		Sections: Sections{Findings: strings.Repeat("Müller, 5 mm Läsion, 肺. ", 100), Impression: "x"},
		Author:   reader, Verifier: reader, Verified: time.Now(),
		SeriesInstanceUID: mustUID(b), SeriesNumber: 2, SOPInstanceUID: mustUID(b), InstanceNumber: 1,
	}
	for b.Loop() {
		if _, err := EncodeSR(doc); err != nil {
			b.Fatal(err)
		}
	}
}

func TestEncodeElementPadding(t *testing.T) {
	tests := []struct {
		name string
		e    elem
		want []byte
	}{
		{"odd UI padded with NUL", str(0x0008, 0x0018, "UI", "1.2.3"), []byte("\x08\x00\x18\x00UI\x06\x001.2.3\x00")},
		{"odd CS padded with space", str(0x0008, 0x0060, "CS", "SRX"), []byte("\x08\x00\x60\x00CS\x04\x00SRX ")},
		{"even raw value kept", raw(0x0010, 0x0010, "PN", []byte("Doe^J ")), []byte("\x10\x00\x10\x00PN\x06\x00Doe^J ")},
		{"UT long header", str(0x0040, 0xA160, "UT", "ab"), []byte("\x40\x00\x60\xa1UT\x00\x00\x02\x00\x00\x00ab")},
		{"empty sequence", seq(0x0008, 0x1111), []byte("\x08\x00\x11\x11SQ\x00\x00\x00\x00\x00\x00")},
		{"sequence with one item", seq(0x0008, 0x1111, []elem{str(0x0008, 0x0060, "CS", "SR")}),
			[]byte("\x08\x00\x11\x11SQ\x00\x00\x12\x00\x00\x00\xfe\xff\x00\xe0\x0a\x00\x00\x00\x08\x00\x60\x00CS\x02\x00SR")},
	}
	for _, tc := range tests {
		got, err := encodeElem(nil, tc.e)
		if err != nil || !bytes.Equal(got, tc.want) {
			t.Errorf("%s: got % x (%v), want % x", tc.name, got, err, tc.want)
		}
	}
	if _, err := encodeElem(nil, str(0x0010, 0x0010, "PN", strings.Repeat("a", 0x10000))); !errors.Is(err, ErrValueTooLong) {
		t.Errorf("65536-byte PN: err = %v", err)
	}
	if _, err := encodeDataSet(nil, []elem{str(0x0008, 0x0060, "CS", "SR"), str(0x0008, 0x0060, "CS", "OT")}); err == nil {
		t.Errorf("duplicate tag accepted")
	}
}
