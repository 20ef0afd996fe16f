package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"teleread/viewer/dataset"
)

const charsetDir = "../../testdata/charset"

// TestStudiesCharacterSetsCLI: files in every character set imported with
// `teleread import` are listed by `teleread studies` and `studies --json`
// with their names and descriptions in UTF-8, Person Name component groups
// whole and joined by '='. The expected text is hand-written: the standard's
// examples and made/NAMES.txt (what make_files.py encoded).
func TestStudiesCharacterSetsCLI(t *testing.T) {
	type want struct{ name, description string }
	expect := map[string]want{ // by file
		"pydicom/chrH31.dcm":   {"Yamada^Tarou=山田^太郎=やまだ^たろう", ""},
		"pydicom/chrH32.dcm":   {"ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう", ""},
		"pydicom/chrI2.dcm":    {"Hong^Gildong=洪^吉洞=홍^길동", ""},
		"pydicom/chrX1.dcm":    {"Wang^XiaoDong=王^小東", ""},
		"pydicom/chrX2.dcm":    {"Wang^XiaoDong=王^小东", ""},
		"pydicom/chrArab.dcm":  {"قباني^لنزار", ""},
		"pydicom/chrHbrw.dcm":  {"שרון^דבורה", ""},
		"pydicom/chrGreek.dcm": {"Διονυσιος", ""},
		"pydicom/chrRuss.dcm":  {"Люкceмбypг", ""},
		"pydicom/chrGerm.dcm":  {"Äneas^Rüdiger", ""},
	}
	nf, err := os.Open(filepath.Join(charsetDir, "made", "NAMES.txt"))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(nf)
	sc.Scan()
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		expect[filepath.Join("made", c[0])] = want{c[2], c[3]}
	}
	nf.Close()

	home := t.TempDir()
	var paths []string
	byUID := map[string]want{}
	for p, w := range expect {
		full := filepath.Join(charsetDir, p)
		f, err := dataset.Open(full)
		if err != nil {
			t.Fatal(err)
		}
		byUID[f.String(dataset.StudyInstanceUID)] = w
		f.Close()
		paths = append(paths, full)
	}
	if r := teleread(t, home, append([]string{"import"}, paths...)...); r.code != 0 {
		t.Fatalf("import: %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	r := teleread(t, home, "studies", "--json")
	if r.code != 0 {
		t.Fatalf("studies --json: %d %s", r.code, r.stderr)
	}
	var rows []struct {
		StudyInstanceUID, PatientName, StudyDescription string
	}
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatalf("studies --json: %v\n%s", err, r.stdout)
	}
	if len(rows) != len(byUID) {
		t.Errorf("%d studies listed, %d imported", len(rows), len(byUID))
	}
	for _, s := range rows {
		w, ok := byUID[s.StudyInstanceUID]
		if !ok {
			t.Errorf("unexpected study %s", s.StudyInstanceUID)
			continue
		}
		if s.PatientName != w.name || s.StudyDescription != w.description {
			t.Errorf("%s: PatientName %q, StudyDescription %q; want %q, %q", s.StudyInstanceUID, s.PatientName, s.StudyDescription, w.name, w.description)
		}
	}
	if strings.Contains(r.stdout, `\ufffd`) || strings.Contains(r.stdout, "\uFFFD") {
		t.Errorf("studies --json holds U+FFFD")
	}

	plain := teleread(t, home, "studies")
	for _, w := range byUID {
		if !strings.Contains(plain.stdout, w.name) {
			t.Errorf("studies does not show %q", w.name)
		}
	}
}
