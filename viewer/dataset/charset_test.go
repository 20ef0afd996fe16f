package dataset

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// charsetDir holds the character set examples: pydicom's copies of the
// PS3.5 Annex H/I/J/K files and our own (testdata/charset/PROVENANCE.md).
const charsetDir = "../../testdata/charset"

func openCharsetFile(t *testing.T, name string) *File {
	t.Helper()
	f, err := Open(filepath.Join(charsetDir, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestCharsetStandardExamples reads the PS3.5 Annex H, I, J and K examples
// (as pydicom ships them). The expected names are the standard's examples
// as pydicom's own tests state them (pydicom/tests/test_charset.py,
// FILE_PATIENT_NAMES), trailing empty component groups dropped.
func TestCharsetStandardExamples(t *testing.T) {
	tests := []struct {
		file string
		want string
	}{
		{"chrArab.dcm", "قباني^لنزار"},
		{"chrFren.dcm", "Buc^Jérôme"},
		{"chrFrenMulti.dcm", "Buc^Jérôme"},
		{"chrGerm.dcm", "Äneas^Rüdiger"},
		{"chrGreek.dcm", "Διονυσιος"},
		{"chrH31.dcm", "Yamada^Tarou=山田^太郎=やまだ^たろう"},
		{"chrH32.dcm", "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう"},
		{"chrHbrw.dcm", "שרון^דבורה"},
		{"chrI2.dcm", "Hong^Gildong=洪^吉洞=홍^길동"},
		{"chrJapMulti.dcm", "やまだ^たろう"},
		{"chrJapMultiExplicitIR6.dcm", "やまだ^たろう"},
		{"chrKoreanMulti.dcm", "김희중"},
		{"chrRuss.dcm", "Люкceмбypг"},
		{"chrX1.dcm", "Wang^XiaoDong=王^小東"},
		{"chrX2.dcm", "Wang^XiaoDong=王^小东"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			f := openCharsetFile(t, filepath.Join("pydicom", tc.file))
			if got := f.Text(PatientName); got != tc.want {
				t.Errorf("PatientName = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestCharsetOtherElements checks values beyond the patient name in the
// same files: multiple values, LT, a PN in another attribute, and sequence
// items with their own or an inherited Specific Character Set.
func TestCharsetOtherElements(t *testing.T) {
	otherPatientNames := T(0x0010, 0x1001)
	patientComments := T(0x0010, 0x4000)
	additionalHistory := T(0x0010, 0x21B0)
	performing := T(0x0008, 0x1070)
	requesting := T(0x0032, 0x1064)

	f := openCharsetFile(t, "pydicom/chrFrenMulti.dcm")
	if got, want := f.TextValues(otherPatientNames), []string{"Buc^Jérôme", "Buc^Jérôme"}; !reflect.DeepEqual(got, want) {
		t.Errorf("chrFrenMulti OtherPatientNames = %q, want %q", got, want)
	}
	f = openCharsetFile(t, "pydicom/chrJapMulti.dcm")
	if got, want := f.TextValues(otherPatientNames), []string{"やまだ^たろう", "やまだ^たろう"}; !reflect.DeepEqual(got, want) {
		t.Errorf("chrJapMulti OtherPatientNames = %q, want %q", got, want)
	}
	if got, want := f.Text(additionalHistory), "たろう"; got != want {
		t.Errorf("chrJapMulti AdditionalPatientHistory = %q, want %q", got, want)
	}
	if got := f.Text(patientComments); got != "" {
		t.Errorf("chrJapMulti PatientComments = %q, want empty", got)
	}
	f = openCharsetFile(t, "pydicom/chrKoreanMulti.dcm")
	if got, want := f.Text(performing), "김희중"; got != want {
		t.Errorf("chrKoreanMulti OperatorsName = %q, want %q", got, want)
	}
	for _, name := range []string{"chrSQEncoding.dcm", "chrSQEncoding1.dcm"} {
		f = openCharsetFile(t, "pydicom/"+name)
		items := f.Items(requesting)
		if len(items) != 1 {
			t.Fatalf("%s: %d items in (0032,1064)", name, len(items))
		}
		if got, want := items[0].Text(PatientName), "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう"; got != want {
			t.Errorf("%s: item PatientName = %q, want %q", name, got, want)
		}
	}
}

// madeFiles are our own examples (testdata/charset/make_files.py wrote them
// with Python's codecs): one per single-byte Defined Term, the stand-alone
// multi-byte sets, ISO 2022 code extensions, and no character set at all.
var madeFiles = []struct {
	file, patient, description, referring string
}{
	{"latin1_ir100.dcm", "Müller^Jürgen", "Schädel nativ", "Böhm^Käthe"},
	{"latin2_ir101.dcm", "Dvořák^Antonín", "Hrudník", "Wałęsa^Łucja"},
	{"latin3_ir109.dcm", "Ħaġar^Ġużeppi", "Ċensu żgħir", "Borġ^Ħelena"},
	{"latin4_ir110.dcm", "Bērziņš^Jānis", "Krūškurvis", "Ozoliņa^Līga"},
	{"cyrillic_ir144.dcm", "Иванов^Пётр", "Грудная клетка", "Смирнова^Ольга"},
	{"arabic_ir127.dcm", "المصري^أحمد", "صدر", "حداد^ليلى"},
	{"greek_ir126.dcm", "Παπαδόπουλος^Γιώργος", "Θώρακας", "Νικολάου^Ελένη"},
	{"hebrew_ir138.dcm", "כהן^דוד", "חזה", "לוי^שרה"},
	{"latin5_ir148.dcm", "Çavuşoğlu^İsmail", "Göğüs", "Yılmaz^Ayşe"},
	{"latin9_ir203.dcm", "Kœnig^Šárka", "Thorax €", "Žák^Œdipe"},
	{"thai_ir166.dcm", "ใจดี^สมชาย", "ทรวงอก", "แก้วมณี^สุดา"},
	{"katakana_ir13.dcm", "ﾔﾏﾀﾞ^ﾀﾛｳ", "ｷｮｳﾌﾞ", "ｽｽﾞｷ^ﾊﾅｺ"},
	{"utf8_ir192.dcm", "Nguyễn^Văn Minh=阮^文明", "Ngực", "Trần^Thị Lan"},
	{"gb18030.dcm", "Liu^Yan=刘^䶮", "胸部平扫", "王^小东"},
	{"gbk.dcm", "Zhang^Wei=張^偉", "胸部", "陳^美玲"},
	{"no_charset_latin1.dcm", "Müller^Jürgen", "Schädel", ""},
	// 目 is 0x4C5C and 漱 0x5E7B in JIS X 0208: a '\' and a '^' byte
	// inside characters, not delimiters.
	{"jis_ir87_ir159.dcm", "Mori^Ogai=森^鷗外=もり^おうがい", "胸部 単純", "Natsume^Soseki=夏目^漱石"},
	{"chinese_ir58.dcm", "Zhang^XiaoDong=张^小东", "胸部", "Li^Hua=李^华"},
	{"korean_ir149.dcm", "Kim^Minsu=金^民洙=김^민수", "흉부", "Lee^Jiyoung==이^지영"},
	{"latin1_greek_cyrillic_2022.dcm", "Müller^Jürgen=Μύλλερ^Γιούργκεν", "Thorax грудь", "Petrov^Jörg=Петров^Йорг"},
}

func TestCharsetMadeFiles(t *testing.T) {
	for _, tc := range madeFiles {
		t.Run(tc.file, func(t *testing.T) {
			f := openCharsetFile(t, filepath.Join("made", tc.file))
			for _, c := range []struct {
				tag  Tag
				want string
			}{
				{PatientName, tc.patient},
				{StudyDescription, tc.description},
				{SeriesDescription, tc.description},
				{ReferringPhysicianName, tc.referring},
			} {
				if got := f.Text(c.tag); got != c.want {
					t.Errorf("%v = %q, want %q", c.tag, got, c.want)
				}
			}
			if vs := f.TextValues(ReferringPhysicianName); len(vs) > 1 {
				t.Errorf("ReferringPhysicianName split into %d values: %q", len(vs), vs)
			}
		})
	}
}

// TestDecodeValues covers the escape sequence handling value by value. The
// encoded names are those of pydicom's tests (ENCODED_NAMES and the
// multi-value cases), which follow PS3.5 Annex H-K.
func TestDecodeValues(t *testing.T) {
	tests := []struct {
		name, charset, vr string
		in                string
		want              string
	}{
		{"ascii", "ISO_IR 100", "PN", "Doe^John", "Doe^John"},
		{"latin-1", "ISO_IR 100", "PN", "Buc^J\xe9r\xf4me", "Buc^Jérôme"},
		{"no character set: latin-1", "", "PN", "M\xfcller^J\xfcrgen", "Müller^Jürgen"},
		{"unknown character set: latin-1", "ISO_IR 999", "LO", "R\xf6ntgen", "Röntgen"},
		{"misspelt term", "ISO-IR 144", "PN", "\xbb\xee\xdace\xdc\xd1yp\xd3", "Люкceмбypг"},
		{"misspelt term without space", "ISO_IR100", "LO", "R\xf6ntgen", "Röntgen"},
		{"not a text VR: latin-1", "ISO_IR 144", "CS", "\xbb", "»"},
		{"ir 13 via escape", `\ISO 2022 IR 13`, "PN", "ASCII+\x1b)I\xd4\xcf\xc0\xde^\x1b)I\xc0\xdb\xb3", "ASCII+ﾔﾏﾀﾞ^ﾀﾛｳ"},
		{"ir 100 via escape", `\ISO 2022 IR 100`, "PN", "ASCII+\x1b-ABuc^\x1b-AJ\xe9r\xf4me", "ASCII+Buc^Jérôme"},
		{"ir 101 via escape", `\ISO 2022 IR 101`, "PN", "ASCII+\x1b-BWa\xb3\xeasa", "ASCII+Wałęsa"},
		{"ir 109 via escape", `\ISO 2022 IR 109`, "PN", "ASCII+\x1b-Canta\xfdnomo", "ASCII+antaŭnomo"},
		{"ir 110 via escape", `\ISO 2022 IR 110`, "PN", "ASCII+\x1b-Dv\xe0rds", "ASCII+vārds"},
		{"ir 127 via escape", `\ISO 2022 IR 127`, "PN", "ASCII+\x1b-G\xe2\xc8\xc7\xe6\xea^\x1b-G\xe4\xe6\xd2\xc7\xd1", "ASCII+قباني^لنزار"},
		{"ir 126 via escape", `\ISO 2022 IR 126`, "PN", "ASCII+\x1b-F\xc4\xe9\xef\xed\xf5\xf3\xe9\xef\xf2", "ASCII+Διονυσιος"},
		{"ir 138 via escape", `\ISO 2022 IR 138`, "PN", "ASCII+\x1b-H\xf9\xf8\xe5\xef^\x1b-H\xe3\xe1\xe5\xf8\xe4", "ASCII+שרון^דבורה"},
		{"ir 144 via escape", `\ISO 2022 IR 144`, "PN", "ASCII+\x1b-L\xbb\xee\xdace\xdc\xd1yp\xd3", "ASCII+Люкceмбypг"},
		{"ir 148 via escape", `\ISO 2022 IR 148`, "PN", "ASCII+\x1b-M\xc7avu\xfeo\xf0lu", "ASCII+Çavuşoğlu"},
		{"ir 166 via escape", `\ISO 2022 IR 166`, "PN", "ASCII+\x1b-T\xb9\xd2\xc1\xca\xa1\xd8\xc5", "ASCII+นามสกุล"},
		{"ir 203 via escape", `\ISO 2022 IR 203`, "LO", "Thorax \x1b-b\xa4", "Thorax €"},
		// The '^' returns G1 to the initial set (none), so the last
		// component, missing its escape sequence, is read as Latin-1.
		{"missing escape after delimiter", `\ISO 2022 IR 13`, "PN", "ASCII+\x1b)I\xd4\xcf\xc0\xde^\xc0\xdb\xb3", "ASCII+ﾔﾏﾀﾞ^ÀÛ³"},
		{"first value used without escape", `ISO 2022 IR 100\ISO 2022 IR 144`, "LO", "R\xf6ntgenaufnahme", "Röntgenaufnahme"},
		{"groups in different sets", `ISO 2022 IR 100\ISO 2022 IR 126`, "PN", "Dionysios=\x1b-F\xc4\xe9\xef\xed\xf5\xf3\xe9\xef\xf2", "Dionysios=Διονυσιος"},
		{"switch inside a text value", `ISO 2022 IR 100\ISO 2022 IR 126`, "LO", "Dionysios is \x1b-F\xc4\xe9\xef\xed\xf5\xf3\xe9\xef\xf2", "Dionysios is Διονυσιος"},
		{"values in different sets", `ISO 2022 IR 100\ISO 2022 IR 144\ISO 2022 IR 126`, "PN",
			"Buc^J\xe9r\xf4me\\\x1b-F\xc4\xe9\xef\xed\xf5\xf3\xe9\xef\xf2\\\x1b-L\xbb\xee\xdace\xdc\xd1yp\xd3", `Buc^Jérôme\Διονυσιος\Люкceмбypг`},
		// PS3.5 H.3.1.
		{"japanese ir 87", `\ISO 2022 IR 87`, "PN", "Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B", "Yamada^Tarou=山田^太郎=やまだ^たろう"},
		// pydicom's encoding of Mori^Ogai=森^鷗外=もり^おうがい: 鷗 is in JIS X 0212.
		{"japanese ir 159", `ISO 2022 IR 6\ISO 2022 IR 87\ISO 2022 IR 159`, "PN",
			"Mori^Ogai=\x1b$B?9\x1b(B^\x1b$(Dl?\x1b$B30\x1b(B=\x1b$B$b$j\x1b(B^\x1b$B$*$&$,$$\x1b(B", "Mori^Ogai=森^鷗外=もり^おうがい"},
		// PS3.5 I.2.
		{"korean ir 149", `\ISO 2022 IR 149`, "PN", "Hong^Gildong=\x1b$)C\xfb\xf3^\x1b$)C\xd1\xce\xd4\xd7=\x1b$)C\xc8\xab^\x1b$)C\xb1\xe6\xb5\xbf", "Hong^Gildong=洪^吉洞=홍^길동"},
		// PS3.5 K.3.
		{"chinese ir 58", `ISO 2022 IR 6\ISO 2022 IR 58`, "PN", "Zhang^XiaoDong=\x1b$)A\xd5\xc5^\x1b$)A\xd0\xa1\xb6\xab=", "Zhang^XiaoDong=张^小东"},
		{"gb18030", "GB18030", "PN", "Wang^XiaoDong=\xcd\xf5^\xd0\xa1\xb6\xab=", "Wang^XiaoDong=王^小东"},
		{"gb18030 four bytes", "GB18030", "LO", "Stra\x81\x30\x89\x38e", "Straße"},
		// 乗 is 0x815C and 誠 0xD55C in GBK: no value delimiter.
		{"gbk trail byte 0x5c", "GBK", "LO", "\x81\x5c\xd5\x5c", "乗誠"},
		{"utf-8", "ISO_IR 192", "PN", "Wang^XiaoDong=\xe7\x8e\x8b^\xe5\xb0\x8f\xe6\x9d\xb1=", "Wang^XiaoDong=王^小東"},
		{"utf-8 ignores code extensions", `ISO_IR 192\ISO 2022 IR 100`, "PN", "Buc^J\xc3\xa9r\xc3\xb4me", "Buc^Jérôme"},
		{"invalid utf-8: latin-1", "ISO_IR 192", "PN", "M\xfcller", "Müller"},
		{"unmapped code: latin-1", "ISO_IR 126", "LO", "\xae", "®"},
		{"unknown escape dropped", "ISO_IR 100", "PN", "\x1b-Z\xc4", "-ZÄ"},
		{"trailing spaces and empty groups", "ISO_IR 100", "PN", "M\xfcller^J\xfcrgen==  ", "Müller^Jürgen"},
		{"text keeps leading spaces", "ISO_IR 100", "LT", "  Befund: unauff\xe4llig\r\n", "  Befund: unauffällig\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds := &DataSet{elements: []*Element{
				{Tag: SpecificCharacterSet, VR: "CS", Value: []byte(tc.charset)},
				{Tag: T(0x0010, 0x1001), VR: tc.vr, Value: []byte(tc.in)},
			}}
			got := ds.Text(T(0x0010, 0x1001))
			if got != tc.want {
				t.Errorf("Text = %q, want %q", got, tc.want)
			}
			if !utf8.ValidString(got) || strings.ContainsRune(got, utf8.RuneError) {
				t.Errorf("Text = %q: not clean UTF-8", got)
			}
		})
	}
}

func TestDecodeStrict(t *testing.T) {
	tests := []struct {
		name, charset string
		in            string
		want          string
		wantErr       error
	}{
		{"ascii kept", "ISO_IR 999", "Doe^John ", "Doe^John ", nil},
		{"latin-1", "ISO_IR 100", "M\xfcller", "Müller", nil},
		{"undeclared high bytes read as latin-1", "", "M\xfcller", "Müller", nil},
		{"code extensions", `\ISO 2022 IR 87`, "\x1b$B;3ED\x1b(B", "山田", nil},
		{"unknown set", "ISO_IR 999", "M\xfcller", "", ErrUnknownCharacterSet},
		{"invalid utf-8", "ISO_IR 192", "M\xfcller", "", ErrUndecodable},
		{"unknown escape", `\ISO 2022 IR 87`, "\x1b$Zab", "", ErrUndecodable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCharacterSet(tc.charset).DecodeStrict("PN", []byte(tc.in))
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// FuzzDecodeText: whatever the bytes and the character set, the text is
// valid UTF-8 and never holds U+FFFD that the input did not.
func FuzzDecodeText(f *testing.F) {
	for _, cs := range []string{"", "ISO_IR 100", `\ISO 2022 IR 87`, `ISO 2022 IR 13\ISO 2022 IR 87`, `\ISO 2022 IR 149`,
		`ISO 2022 IR 6\ISO 2022 IR 58`, "GB18030", "GBK", "ISO_IR 192", "ISO_IR 166"} {
		f.Add(cs, []byte("Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\x1b$)C\xfb\xf3\xcd\xf5\x81\x30\x89\x38\xe7\x8e\x8b"))
	}
	if names, err := filepath.Glob(filepath.Join(charsetDir, "*", "*.dcm")); err == nil {
		for _, n := range names {
			if df, err := Open(n); err == nil {
				if e := df.Get(PatientName); e != nil {
					f.Add(df.String(SpecificCharacterSet), e.Value)
				}
				df.Close()
			}
		}
	}
	f.Fuzz(func(t *testing.T, charset string, value []byte) {
		if len(value) > 4096 {
			return
		}
		cs := ParseCharacterSet(charset)
		for _, vr := range []string{"PN", "LO", "UT", "CS"} {
			got := cs.Decode(vr, value)
			if !utf8.ValidString(got) {
				t.Fatalf("%s %q in %q: invalid UTF-8 %q", vr, value, charset, got)
			}
			if strings.ContainsRune(got, utf8.RuneError) && !strings.Contains(string(value), "\uFFFD") {
				t.Fatalf("%s %q in %q: U+FFFD in %q", vr, value, charset, got)
			}
		}
	})
}

func TestCharsetFilesPresent(t *testing.T) {
	// The examples are part of the repository; their absence is a broken
	// checkout, not a missing tool.
	for _, dir := range []string{"pydicom", "made"} {
		names, _ := filepath.Glob(filepath.Join(charsetDir, dir, "*.dcm"))
		if len(names) < 15 {
			t.Errorf("%s: %d files", dir, len(names))
		}
	}
	if _, err := os.Stat(filepath.Join(charsetDir, "PROVENANCE.md")); err != nil {
		t.Error(err)
	}
}
