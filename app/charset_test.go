package app

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"teleread/app/internal/worklist"
	tsync "teleread/sync"
)

// TestNamesInEveryCharacterSet: studies whose files use other character sets
// than ASCII show their decoded names in the worklist, the viewer overlay
// and the tag browser. The expected text is written by hand from the
// standard's examples and testdata/charset/made/NAMES.txt.
func TestNamesInEveryCharacterSet(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		file        string
		cell        string // the worklist's patient column
		description string
		tagLine     string // in the tag browser's PatientName line
	}{
		{"pydicom/chrH31.dcm", "Yamada, Tarou = 山田 太郎 = やまだ たろう", "", "Yamada^Tarou=山田^太郎=やまだ^たろう"},
		{"pydicom/chrI2.dcm", "Hong, Gildong = 洪 吉洞 = 홍 길동", "", "Hong^Gildong=洪^吉洞=홍^길동"},
		{"pydicom/chrArab.dcm", "قباني, لنزار", "", "قباني^لنزار"},
		{"made/latin1_ir100.dcm", "Müller, Jürgen", "Schädel nativ", "Müller^Jürgen"},
		{"made/cyrillic_ir144.dcm", "Иванов, Пётр", "Грудная клетка", "Иванов^Пётр"},
		{"made/greek_ir126.dcm", "Παπαδόπουλος, Γιώργος", "Θώρακας", "Παπαδόπουλος^Γιώργος"},
		{"made/hebrew_ir138.dcm", "כהן, דוד", "חזה", "כהן^דוד"},
		{"made/korean_ir149.dcm", "Kim, Minsu = 金 民洙 = 김 민수", "흉부", "Kim^Minsu=金^民洙=김^민수"},
		{"made/no_charset_latin1.dcm", "Müller, Jürgen", "Schädel", "Müller^Jürgen"},
	}
	uids := map[string]string{}
	for _, tc := range tests {
		res, err := h.cache.ImportFile(filepath.Join("..", "testdata", "charset", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		uids[tc.file] = res.StudyInstanceUID
	}
	h.reloadWorklist()
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			row := slices.IndexFunc(h.ws.worklist.view.Rows, func(r worklist.Row) bool { return r.UID == uids[tc.file] })
			if row < 0 {
				t.Fatalf("study %s not on the worklist", uids[tc.file])
			}
			r := h.ws.worklist.view.Rows[row]
			if got := r.Cell(worklist.ColPatient, h.now, tsync.Turnaround{}); got != tc.cell {
				t.Errorf("worklist patient = %q, want %q", got, tc.cell)
			}
			if r.Description != tc.description {
				t.Errorf("worklist description = %q, want %q", r.Description, tc.description)
			}

			h.openStudy(uids[tc.file])
			vp := h.ws.viewer.active
			if vp == nil || !vp.hasLast || vp.last.image == nil {
				t.Fatal("the study did not open")
			}
			if got := cornerTexts(vp, 0); len(got) == 0 || got[0] != tc.cell {
				t.Errorf("overlay top left = %q, want %q first", got, tc.cell)
			}
			if tc.description != "" && !slices.Contains(cornerTexts(vp, 1), tc.description) {
				t.Errorf("overlay top right = %q, want %q in it", cornerTexts(vp, 1), tc.description)
			}
			lines := tagLines(vp.last.image.File.DataSet, 0, nil)
			i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "(0010,0010)") })
			if i < 0 || !strings.HasSuffix(lines[i], "  "+tc.tagLine) {
				t.Errorf("tag browser: PatientName line %q, want it to end with %q", lines[max(i, 0)], tc.tagLine)
			}
			h.ws.showWorklist()
		})
	}
}
