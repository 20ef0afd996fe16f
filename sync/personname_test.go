package sync

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"teleread/sync/orthanctest"
	"teleread/viewer/dataset"
)

// TestWorklistKeepsPersonNameGroups: the worklist row of a study not yet
// downloaded carries the patient's name whole, as the cache will once its
// files are in (PS3.18 F.2.2: DICOM JSON splits a PN into its groups).
func TestWorklistKeepsPersonNameGroups(t *testing.T) {
	tests := []struct {
		name, json, want string
	}{
		{"alphabetic only", `{"Alphabetic":"Doe^Jane"}`, "Doe^Jane"},
		{"three groups", `{"Alphabetic":"Yamada^Tarou","Ideographic":"山田^太郎","Phonetic":"やまだ^たろう"}`, "Yamada^Tarou=山田^太郎=やまだ^たろう"},
		{"no phonetic", `{"Alphabetic":"Wang^XiaoDong","Ideographic":"王^小东"}`, "Wang^XiaoDong=王^小东"},
		{"no ideographic", `{"Alphabetic":"Kim^Minsu","Phonetic":"김^민수"}`, "Kim^Minsu==김^민수"},
		{"ideographic only", `{"Ideographic":"김희중"}`, "=김희중"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var o Object
			if err := json.Unmarshal([]byte(`{"00100010":{"vr":"PN","Value":[`+tc.json+`]}}`), &o); err != nil {
				t.Fatal(err)
			}
			if got := displayFields(o)["PatientName"]; got != tc.want {
				t.Errorf("PatientName = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestWorklistNamesInCharacterSetsOrthanc: the archive's JSON for studies
// stored in other character sets gives the worklist the same whole names the
// cache will read from the files (the standard's examples, hand-written).
func TestWorklistNamesInCharacterSetsOrthanc(t *testing.T) {
	// Orthanc answers QIDO in its DefaultEncoding, Latin-1 unless told
	// otherwise, dropping the characters Latin-1 lacks: an archive must be
	// set to answer in UTF-8 for these names to survive.
	srv, err := orthanctest.Start(t.TempDir(), orthanctest.Options{Extra: map[string]any{"DefaultEncoding": "Utf8"}})
	requireDependency(t, err)
	t.Cleanup(srv.Stop)
	c := newTestClient(t, srv.DICOMwebURL, nil)
	tests := []struct{ file, want string }{
		{"pydicom/chrH31.dcm", "Yamada^Tarou=山田^太郎=やまだ^たろう"},
		{"pydicom/chrI2.dcm", "Hong^Gildong=洪^吉洞=홍^길동"},
		{"pydicom/chrX2.dcm", "Wang^XiaoDong=王^小东"},
		{"pydicom/chrRuss.dcm", "Люкceмбypг"},
		{"made/latin1_ir100.dcm", "Müller^Jürgen"},
		{"made/greek_ir126.dcm", "Παπαδόπουλος^Γιώργος"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("..", "testdata", "charset", tc.file)
			f, err := dataset.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			uid := f.String(dataset.StudyInstanceUID)
			f.Close()
			if _, err := srv.UploadFile(path); err != nil {
				t.Fatal(err)
			}
			got, err := c.SearchStudies(context.Background(), Query{Match: []Param{{"StudyInstanceUID", uid}}})
			if err != nil || len(got) != 1 {
				t.Fatalf("QIDO: %d studies, %v", len(got), err)
			}
			if name := displayFields(got[0])["PatientName"]; name != tc.want {
				t.Errorf("PatientName = %q, want %q", name, tc.want)
			}
		})
	}
}
