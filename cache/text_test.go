package cache

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"teleread/viewer/dataset"
)

const charsetDir = "../testdata/charset"

// charsetExpectation is what a character set example holds, as written by
// hand: made/NAMES.txt (the text make_files.py encoded) and the standard's
// examples among pydicom's files.
type charsetExpectation struct {
	path, patient, description, referring string
}

func charsetExpectations(t *testing.T) []charsetExpectation {
	t.Helper()
	f, err := os.Open(filepath.Join(charsetDir, "made", "NAMES.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []charsetExpectation
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) != 5 {
			t.Fatalf("NAMES.txt: bad line %q", sc.Text())
		}
		out = append(out, charsetExpectation{filepath.Join("made", c[0]), c[2], c[3], c[4]})
	}
	if len(out) < 20 {
		t.Fatalf("NAMES.txt lists %d files", len(out))
	}
	// PS3.5 H.3.1, H.3.2, I.2 and K (pydicom's copies; see PROVENANCE.md).
	return append(out,
		charsetExpectation{"pydicom/chrH31.dcm", "Yamada^Tarou=山田^太郎=やまだ^たろう", "", "^^^^"},
		charsetExpectation{"pydicom/chrH32.dcm", "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう", "", "^^^^"},
		charsetExpectation{"pydicom/chrI2.dcm", "Hong^Gildong=洪^吉洞=홍^길동", "", "^^^^"},
		charsetExpectation{"pydicom/chrX2.dcm", "Wang^XiaoDong=王^小东", "", "^^^^"},
		charsetExpectation{"pydicom/chrRuss.dcm", "Люкceмбypг", "", "^^^^"},
	)
}

// importCharsetFiles imports every example and returns its study UID by path.
func importCharsetFiles(t *testing.T, c *Cache, want []charsetExpectation) map[string]string {
	t.Helper()
	uids := map[string]string{}
	for _, w := range want {
		res, err := c.ImportFile(filepath.Join(charsetDir, w.path))
		if err != nil {
			t.Fatal(err)
		}
		uids[w.path] = res.StudyInstanceUID
	}
	return uids
}

// checkIndexedText compares what the index lists with the expectations.
func checkIndexedText(t *testing.T, c *Cache, want []charsetExpectation, uids map[string]string, skip map[string]bool) {
	t.Helper()
	for _, w := range want {
		if skip[w.path] {
			continue
		}
		s, err := c.StudyByUID(uids[w.path])
		if err != nil {
			t.Fatal(err)
		}
		series, err := c.SeriesOf(s.StudyInstanceUID)
		if err != nil || len(series) != 1 {
			t.Fatalf("%s: series %v, %v", w.path, series, err)
		}
		referring, seriesDesc := s.ReferringPhysicianName, series[0].Description
		for _, v := range []struct{ what, got, want string }{
			{"PatientName", s.PatientName, w.patient},
			{"StudyDescription", s.StudyDescription, w.description},
			{"SeriesDescription", seriesDesc, w.description},
			{"ReferringPhysicianName", referring, w.referring},
		} {
			if v.got != v.want {
				t.Errorf("%s: %s = %q, want %q", w.path, v.what, v.got, v.want)
			}
		}
	}
}

// TestIndexStoresUTF8: names and descriptions in every character set reach
// the index decoded, Person Name groups whole.
func TestIndexStoresUTF8(t *testing.T) {
	c := openTemp(t)
	want := charsetExpectations(t)
	checkIndexedText(t, c, want, importCharsetFiles(t, c, want), nil)
}

// TestMigrationRedecodesText opens a cache as an older version left it (the
// stored bytes in the index, migration 5 not applied) and finds its names decoded
// after Open; a study whose files are gone keeps its bytes read as Latin-1.
func TestMigrationRedecodesText(t *testing.T) {
	// A cache old enough to need this migration holds plain files (they
	// are sealed by SealFiles, after the migrations).
	sealFiles = false
	defer func() { sealFiles = true }()
	home := t.TempDir()
	c, err := Open(home)
	if err != nil {
		t.Fatal(err)
	}
	want := charsetExpectations(t)
	uids := importCharsetFiles(t, c, want)
	sealFiles = true
	before, _ := c.Studies()

	// Write back what the index held before: the values' bytes as
	// DataSet.String returns them, undecoded, and in clear (the index was
	// not sealed then either; Open seals them again).
	garbled := 0
	for _, w := range want {
		f, err := dataset.Open(filepath.Join(charsetDir, w.path))
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSpace(f.String(dataset.PatientName))
		if name != w.patient {
			garbled++
		}
		uid := uids[w.path]
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`UPDATE patients SET name = ?, patient_id = ?, issuer = '', birth_date = ?, sex = ?, identity = NULL, patient_key = NULL
				WHERE id = (SELECT patient_pk FROM studies WHERE study_uid = ?)`,
				[]any{name, f.String(dataset.PatientID), f.String(dataset.PatientBirthDate), f.String(dataset.PatientSex), uid}},
			{`UPDATE studies SET description = ?, referring = ?, accession = ?, study_id = ?, patient_age = ? WHERE study_uid = ?`,
				[]any{f.String(dataset.StudyDescription), f.String(dataset.ReferringPhysicianName), f.String(dataset.AccessionNumber),
					f.String(dataset.StudyID), f.String(dataset.PatientAge), uid}},
			{`UPDATE series SET description = ? WHERE study_uid = ?`, []any{f.String(dataset.SeriesDescription), uid}},
		} {
			if _, err := c.DB().Exec(q.sql, q.args...); err != nil {
				t.Fatal(err)
			}
		}
		f.Close()
	}
	if garbled < 15 {
		t.Fatalf("only %d names differ undecoded: the test would prove nothing", garbled)
	}
	if _, err := c.DB().Exec(`DELETE FROM schema_version WHERE version = 5`); err != nil {
		t.Fatal(err)
	}
	// One study's file is gone: its row can only be made valid UTF-8.
	lost := "pydicom/chrRuss.dcm"
	var rel string
	if err := c.DB().QueryRow(`SELECT i.path FROM instances i JOIN series se ON se.series_uid = i.series_uid WHERE se.study_uid = ?`,
		uids[lost]).Scan(&rel); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(c.FilePath(rel)); err != nil {
		t.Fatal(err)
	}
	c.Close()

	c, err = Open(home)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	checkIndexedText(t, c, want, uids, map[string]bool{lost: true})
	s, err := c.StudyByUID(uids[lost])
	if err != nil {
		t.Fatal(err)
	}
	// chrRuss's name bytes read as Latin-1.
	if want := "»îÚceÜÑypÓ"; s.PatientName != want {
		t.Errorf("%s without its file: PatientName = %q, want %q", lost, s.PatientName, want)
	}
	after, _ := c.Studies()
	if len(after) != len(before) {
		t.Errorf("%d studies after the migration, %d before", len(after), len(before))
	}
	for _, s := range after {
		if !utf8.ValidString(s.PatientName + s.StudyDescription) {
			t.Errorf("%s: not UTF-8: %q %q", s.StudyInstanceUID, s.PatientName, s.StudyDescription)
		}
	}
	var orphans int
	c.DB().QueryRow(`SELECT COUNT(*) FROM patients WHERE id NOT IN (SELECT patient_pk FROM studies)`).Scan(&orphans)
	if orphans != 0 {
		t.Errorf("%d patient rows without studies left behind", orphans)
	}
}
