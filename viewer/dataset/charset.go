package dataset

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Text values are decoded per Specific Character Set (0008,0005): PS3.3
// C.12.1.1.2 lists the Defined Terms, PS3.5 6.1 says how ISO 2022 code
// extensions switch between them inside a value. golang.org/x/text decodes
// the sets themselves; only the escape sequences are handled here.

// ErrUnknownCharacterSet marks a Specific Character Set term that is not a
// Defined Term (nor a common misspelling of one).
var ErrUnknownCharacterSet = errors.New("unknown character set")

// ErrUndecodable marks bytes that are not a character of the set in force
// where they stand (invalid UTF-8, an unmapped double-byte code, an unknown
// escape sequence).
var ErrUndecodable = errors.New("bytes not valid in the character set")

// graphicSet is a coded character set that an ISO 2022 escape sequence can
// designate to G0 (bytes 0x21-0x7E) or G1 (bytes 0xA0-0xFF).
type graphicSet uint8

const (
	setNone     graphicSet = iota // G1 not designated: bytes above 0x7F are read as Latin-1
	setASCII                      // ISO-IR 6
	setRomaji                     // JIS X 0201 Roman (ISO-IR 14), read as ASCII: its yen sign sits on '\', the value delimiter
	setJIS0208                    // ISO-IR 87, two bytes in G0
	setJIS0212                    // ISO-IR 159, two bytes in G0
	setKatakana                   // JIS X 0201 Katakana (ISO-IR 13), half-width
	setKSX1001                    // ISO-IR 149, two bytes in G1
	setGB2312                     // ISO-IR 58, two bytes in G1
	setLatin1                     // ISO-IR 100
	setLatin2                     // ISO-IR 101
	setLatin3                     // ISO-IR 109
	setLatin4                     // ISO-IR 110
	setCyrillic                   // ISO-IR 144
	setArabic                     // ISO-IR 127
	setGreek                      // ISO-IR 126
	setHebrew                     // ISO-IR 138
	setLatin5                     // ISO-IR 148
	setLatin9                     // ISO-IR 203
	setThai                       // ISO-IR 166 (TIS 620)
)

// upperHalves decode the single-byte G1 sets. Windows-874 is TIS 620 plus a
// few characters in 0x80-0x9F, where TIS 620 has only control codes.
var upperHalves = map[graphicSet]*charmap.Charmap{
	setLatin1:   charmap.ISO8859_1,
	setLatin2:   charmap.ISO8859_2,
	setLatin3:   charmap.ISO8859_3,
	setLatin4:   charmap.ISO8859_4,
	setCyrillic: charmap.ISO8859_5,
	setArabic:   charmap.ISO8859_6,
	setGreek:    charmap.ISO8859_7,
	setHebrew:   charmap.ISO8859_8,
	setLatin5:   charmap.ISO8859_9,
	setLatin9:   charmap.ISO8859_15,
	setThai:     charmap.Windows874,
}

// escapes are the escape sequences of PS3.3 Tables C.12-3 and C.12-4 (the
// bytes after ESC), with the set they designate and to which element.
var escapes = []struct {
	seq string
	g1  bool
	set graphicSet
}{
	{"(B", false, setASCII},
	{"(J", false, setRomaji},
	{"$B", false, setJIS0208},
	{"$@", false, setJIS0208}, // JIS C 6226-1978, the older edition: same layout
	{"$(D", false, setJIS0212},
	{")I", true, setKatakana},
	{"$)C", true, setKSX1001},
	{"$)A", true, setGB2312},
	{"-A", true, setLatin1},
	{"-B", true, setLatin2},
	{"-C", true, setLatin3},
	{"-D", true, setLatin4},
	{"-L", true, setCyrillic},
	{"-G", true, setArabic},
	{"-F", true, setGreek},
	{"-H", true, setHebrew},
	{"-M", true, setLatin5},
	{"-b", true, setLatin9},
	{"-T", true, setThai},
}

// coding is how a whole value is read.
type coding uint8

const (
	codingISO2022 coding = iota // single-byte sets, with or without code extensions
	codingUTF8                  // ISO_IR 192
	codingGB18030               // GB18030
	codingGBK                   // GBK
)

// term is what one Defined Term sets up: the whole-value coding, or the
// initial G0 and G1 of ISO 2022 decoding.
type term struct {
	coding coding
	g0, g1 graphicSet
}

// definedTerms maps normalised Defined Terms (see normaliseTerm) to their
// meaning. The ISO 2022 multi-byte sets may not be value 1; where a file
// puts one there anyway, the G1 sets are taken as designated from the start
// (EUC-KR and EUC-CN text without escapes is what such files hold).
var definedTerms = func() map[string]term {
	m := map[string]term{}
	add := func(names string, t term) {
		for _, n := range strings.Split(names, ",") {
			m[normaliseTerm(n)] = t
		}
	}
	add("ISO_IR 6,ISO 2022 IR 6", term{g0: setASCII, g1: setNone})
	add("ISO_IR 100,ISO 2022 IR 100", term{g0: setASCII, g1: setLatin1})
	add("ISO_IR 101,ISO 2022 IR 101", term{g0: setASCII, g1: setLatin2})
	add("ISO_IR 109,ISO 2022 IR 109", term{g0: setASCII, g1: setLatin3})
	add("ISO_IR 110,ISO 2022 IR 110", term{g0: setASCII, g1: setLatin4})
	add("ISO_IR 144,ISO 2022 IR 144", term{g0: setASCII, g1: setCyrillic})
	add("ISO_IR 127,ISO 2022 IR 127", term{g0: setASCII, g1: setArabic})
	add("ISO_IR 126,ISO 2022 IR 126", term{g0: setASCII, g1: setGreek})
	add("ISO_IR 138,ISO 2022 IR 138", term{g0: setASCII, g1: setHebrew})
	add("ISO_IR 148,ISO 2022 IR 148", term{g0: setASCII, g1: setLatin5})
	add("ISO_IR 203,ISO 2022 IR 203", term{g0: setASCII, g1: setLatin9})
	add("ISO_IR 166,ISO 2022 IR 166", term{g0: setASCII, g1: setThai})
	add("ISO_IR 13,ISO 2022 IR 13", term{g0: setRomaji, g1: setKatakana})
	add("ISO 2022 IR 87,ISO 2022 IR 159", term{g0: setASCII, g1: setNone})
	add("ISO 2022 IR 149", term{g0: setASCII, g1: setKSX1001})
	add("ISO 2022 IR 58", term{g0: setASCII, g1: setGB2312})
	add("ISO_IR 192,UTF-8,UTF8", term{coding: codingUTF8})
	add("GB18030", term{coding: codingGB18030})
	add("GBK", term{coding: codingGBK})
	return m
}()

// normaliseTerm folds the spellings seen in the wild ("ISO_IR100",
// "ISO-IR 100", "ISO IR 100", lower case) onto one key; "ISO 2022 IR 100"
// stays distinct from "ISO_IR 100" by its "2022".
func normaliseTerm(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(strings.TrimSpace(s)) {
		switch r {
		case ' ', '_', '-':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// CharacterSet is a parsed Specific Character Set (0008,0005). The zero
// value is the default repertoire (ASCII) with the Latin-1 fallback.
type CharacterSet struct {
	coding  coding
	g0, g1  graphicSet
	unknown []string // terms that are not Defined Terms
}

// ParseCharacterSet reads the value of Specific Character Set (its values
// separated by '\'). It never fails: terms it does not know are recorded
// (see Err) and decoding goes on as if they were absent.
func ParseCharacterSet(value string) CharacterSet {
	var cs CharacterSet
	cs.g0, cs.g1 = setASCII, setNone
	for i, v := range strings.Split(value, `\`) {
		key := normaliseTerm(v)
		if key == "" {
			continue // value 1 empty: the default repertoire
		}
		t, ok := definedTerms[key]
		if !ok {
			cs.unknown = append(cs.unknown, strings.TrimSpace(v))
			continue
		}
		if i > 0 {
			// Later values only name the sets that escape sequences may
			// designate, and every escape sequence is understood anyway.
			continue
		}
		cs.coding, cs.g0, cs.g1 = t.coding, t.g0, t.g1
	}
	return cs
}

// Err reports the terms of the Specific Character Set that are not Defined
// Terms, wrapping ErrUnknownCharacterSet; nil when all are known.
func (cs CharacterSet) Err() error {
	if len(cs.unknown) == 0 {
		return nil
	}
	return fmt.Errorf("specific character set %q: %w", strings.Join(cs.unknown, `\`), ErrUnknownCharacterSet)
}

// IsTextVR reports whether values of vr are text in the Specific Character
// Set (PS3.5 6.1.2.3); the other string VRs hold the default repertoire only.
func IsTextVR(vr string) bool {
	switch vr {
	case "PN", "LO", "SH", "LT", "ST", "UT", "UC":
		return true
	}
	return false
}

// singleValued reports whether '\' is a character of vr rather than the
// value delimiter.
func singleValued(vr string) bool {
	switch vr {
	case "LT", "ST", "UT", "UR":
		return true
	}
	return false
}

// Decode returns value, an element of VR vr, as UTF-8, whole: values stay
// separated by '\', Person Name component groups by '=', and nothing is
// trimmed. Values of other than text VRs are read as ASCII. Bytes that
// cannot be read in the set in force (and every byte above 0x7F where no
// set is declared) are read as Latin-1, so the result is valid UTF-8 without
// U+FFFD; DecodeStrict says when that happened.
func (cs CharacterSet) Decode(vr string, value []byte) string {
	s, _ := cs.decode(vr, value)
	return s
}

// DecodeStrict is Decode for copies that must be exact (a signed report):
// it fails, wrapping ErrUnknownCharacterSet or ErrUndecodable, where Decode
// would have guessed. Bytes above 0x7F without a declared character set are
// still read as Latin-1: archives read them so.
func (cs CharacterSet) DecodeStrict(vr string, value []byte) (string, error) {
	if plain(value) {
		return string(value), nil
	}
	if err := cs.Err(); err != nil {
		return "", err
	}
	s, lossy := cs.decode(vr, value)
	if lossy {
		return "", fmt.Errorf("value %q: %w", value, ErrUndecodable)
	}
	return s, nil
}

// plain reports whether b is ASCII without escape sequences: the common
// case, the same text in every character set.
func plain(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 || c == 0x1b {
			return false
		}
	}
	return true
}

// decode is Decode; lossy reports that some bytes were read as Latin-1
// because the set in force has no character for them.
func (cs CharacterSet) decode(vr string, value []byte) (s string, lossy bool) {
	if plain(value) {
		return string(value), false
	}
	if !IsTextVR(vr) {
		return latin1(value), true
	}
	d := decoder{cs: cs, pn: vr == "PN", multi: !singleValued(vr)}
	d.out.Grow(len(value) + len(value)/2)
	switch cs.coding {
	case codingUTF8:
		d.utf8(value)
	case codingGB18030:
		d.chinese(value, simplifiedchinese.GB18030, true)
	case codingGBK:
		d.chinese(value, simplifiedchinese.GBK, false)
	default:
		d.iso2022(value)
	}
	return d.out.String(), d.lossy
}

func latin1(b []byte) string {
	var sb strings.Builder
	sb.Grow(2 * len(b))
	for _, c := range b {
		sb.WriteRune(rune(c))
	}
	return sb.String()
}

type decoder struct {
	cs        CharacterSet
	pn, multi bool
	out       strings.Builder
	lossy     bool
	dec       map[encoding.Encoding]*encoding.Decoder
}

// fallback writes b as Latin-1 and records the guess.
func (d *decoder) fallback(b ...byte) {
	for _, c := range b {
		d.out.WriteRune(rune(c))
	}
	d.lossy = true
}

// multiByte decodes one character of a double-byte set from its EUC form;
// false when the code is not a character there.
func (d *decoder) multiByte(e encoding.Encoding, b []byte) bool {
	if d.dec == nil {
		d.dec = map[encoding.Encoding]*encoding.Decoder{}
	}
	dec := d.dec[e]
	if dec == nil {
		dec = e.NewDecoder()
		d.dec[e] = dec
	}
	out, err := dec.Bytes(b)
	if err != nil {
		return false
	}
	r, n := utf8.DecodeRune(out)
	if r == utf8.RuneError || n != len(out) {
		return false
	}
	d.out.Write(out)
	return true
}

func (d *decoder) utf8(b []byte) {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			d.fallback(b[0])
			b = b[1:]
			continue
		}
		d.out.Write(b[:n])
		b = b[n:]
	}
}

// chinese reads GBK (two bytes above 0x80) or GB18030 (which adds
// four-byte codes whose second byte is a digit). Neither takes code
// extensions.
func (d *decoder) chinese(b []byte, e encoding.Encoding, four bool) {
	for len(b) > 0 {
		c := b[0]
		if c < 0x80 {
			d.out.WriteByte(c)
			b = b[1:]
			continue
		}
		n := 2
		if four && len(b) >= 2 && b[1] >= 0x30 && b[1] <= 0x39 {
			n = 4
		}
		if c == 0x80 || c == 0xff || len(b) < n || !d.multiByte(e, b[:n]) {
			d.fallback(c)
			b = b[1:]
			continue
		}
		b = b[n:]
	}
}

// iso2022 reads single-byte sets with or without ISO 2022 code extensions
// (PS3.5 6.1.2.5). Escape sequences designate a set to G0 or G1; the
// initial sets return at every control character and, for multi-valued VRs,
// at the value delimiter '\' and, for PN, at the '^' and '=' delimiters
// (PS3.5 6.1.2.5.3). While G0 holds a double-byte set those delimiter bytes
// are halves of characters: a conformant writer has gone back to ASCII
// before a delimiter.
func (d *decoder) iso2022(b []byte) {
	g0, g1 := d.cs.g0, d.cs.g1
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == 0x1b:
			n, g1Set, set := escapeSequence(b[i+1:])
			if n == 0 {
				d.lossy = true // an unknown escape: drop ESC, read on
				i++
				continue
			}
			if g1Set {
				g1 = set
			} else {
				g0 = set
			}
			i += 1 + n
		case c < 0x20 || c == 0x7f:
			d.out.WriteByte(c)
			g0, g1 = d.cs.g0, d.cs.g1
			i++
		case c < 0x80 && c != ' ' && (g0 == setJIS0208 || g0 == setJIS0212):
			if i+1 < len(b) && b[i+1] > 0x20 && b[i+1] < 0x7f {
				euc := []byte{c | 0x80, b[i+1] | 0x80}
				if g0 == setJIS0212 {
					euc = []byte{0x8f, c | 0x80, b[i+1] | 0x80}
				}
				if d.multiByte(japanese.EUCJP, euc) {
					i += 2
					continue
				}
			}
			d.fallback(c)
			i++
		case c < 0x80:
			d.out.WriteByte(c)
			if (c == '\\' && d.multi) || (d.pn && (c == '^' || c == '=')) {
				g0, g1 = d.cs.g0, d.cs.g1
			}
			i++
		default:
			i += d.upper(g1, b[i:])
		}
	}
}

// upper reads the character of G1 set g1 at the start of b (its first byte
// is above 0x7F) and returns the number of bytes used.
func (d *decoder) upper(g1 graphicSet, b []byte) int {
	c := b[0]
	switch g1 {
	case setNone:
		// No set designated: the stated fallback, Latin-1, as archives and
		// other viewers read such bytes.
		d.out.WriteRune(rune(c))
		return 1
	case setKatakana:
		if c >= 0xa1 && c <= 0xdf {
			d.out.WriteRune(0xff61 + rune(c-0xa1))
			return 1
		}
	case setKSX1001, setGB2312:
		if len(b) >= 2 && c >= 0xa1 && c <= 0xfe && b[1] >= 0xa1 && b[1] <= 0xfe {
			e := korean.EUCKR
			if g1 == setGB2312 {
				e = simplifiedchinese.GBK
			}
			if d.multiByte(e, b[:2]) {
				return 2
			}
		}
	default:
		if cm := upperHalves[g1]; cm != nil {
			if r := cm.DecodeByte(c); r != utf8.RuneError {
				d.out.WriteRune(r)
				return 1
			}
		}
	}
	d.fallback(c)
	return 1
}

// escapeSequence recognises the escape sequence at the start of b (the bytes
// after ESC): its length, whether it designates G1, and the set; n == 0 when
// it is not one of PS3.3 Tables C.12-3 and C.12-4.
func escapeSequence(b []byte) (n int, g1 bool, set graphicSet) {
	for _, e := range escapes {
		if len(b) >= len(e.seq) && string(b[:len(e.seq)]) == e.seq {
			return len(e.seq), e.g1, e.set
		}
	}
	return 0, false, 0
}
