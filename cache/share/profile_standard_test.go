package share

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"teleread/viewer/dataset"
)

// This file checks the de-identified export against PS3.15 Table E.1-1 as
// transcribed in tableE11 (profile_table_e11_test.go), never against the
// package's own rule table: two instances are built that carry a distinct,
// recognisable value in every attribute of the table, at the top level and
// again inside a sequence item, and each value must be gone or replaced as the
// standard's action says.

// testElem is one element of a test instance, written by writeTestFile.
type testElem struct {
	tag   dataset.Tag
	vr    string
	value []byte
	items [][]testElem
}

// testLongVR reports whether vr has the explicit VR header with a 4-byte length
// (PS3.5 Table 7.1-1).
func testLongVR(vr string) bool {
	switch vr {
	case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV":
		return true
	}
	return false
}

// appendElems encodes elements in Explicit VR Little Endian, sorted by tag,
// sequences and items with undefined length. It is written here, apart from
// the package's encoder, so the input does not depend on the code under test.
func appendElems(b []byte, els []testElem) []byte {
	els = append([]testElem(nil), els...)
	sort.Slice(els, func(i, j int) bool { return els[i].tag < els[j].tag })
	for _, e := range els {
		b = binary.LittleEndian.AppendUint16(b, e.tag.Group())
		b = binary.LittleEndian.AppendUint16(b, e.tag.Element())
		b = append(b, e.vr...)
		if e.vr == "SQ" {
			b = append(b, 0, 0)
			b = binary.LittleEndian.AppendUint32(b, 0xFFFFFFFF)
			for _, it := range e.items {
				b = append(b, 0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF)
				b = appendElems(b, it)
				b = append(b, 0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0)
			}
			b = append(b, 0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0)
			continue
		}
		v := e.value
		if len(v)%2 == 1 {
			pad := byte(' ')
			if e.vr == "UI" || e.vr == "OB" || e.vr == "UN" {
				pad = 0
			}
			v = append(append([]byte(nil), v...), pad)
		}
		if testLongVR(e.vr) {
			b = append(b, 0, 0)
			b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
		} else {
			b = binary.LittleEndian.AppendUint16(b, uint16(len(v)))
		}
		b = append(b, v...)
	}
	return b
}

// testFile returns a Part 10 file: preamble, meta information and the data set.
func testFile(sopClass, sopInstance string, ds []testElem) []byte {
	ui := func(s string) []byte { return []byte(s) }
	meta := appendElems(nil, []testElem{
		{tag: 0x00020001, vr: "OB", value: []byte{0, 1}},
		{tag: 0x00020002, vr: "UI", value: ui(sopClass)},
		{tag: 0x00020003, vr: "UI", value: ui(sopInstance)},
		{tag: 0x00020010, vr: "UI", value: ui("1.2.840.10008.1.2.1")},
		{tag: 0x00020012, vr: "UI", value: ui("1.2.826.0.1.3680043.10.1313.1")},
	})
	b := make([]byte, 128, 128+4+12+len(meta))
	b = append(b, "DICM"...)
	b = appendElems(b, []testElem{{tag: 0x00020000, vr: "UL", value: binary.LittleEndian.AppendUint32(nil, uint32(len(meta)))}})
	b = append(b, meta...)
	return appendElems(b, ds)
}

// Where the test values live.
const (
	// nestTag is a sequence the table does not list (Anatomic Region
	// Sequence): kept, its item cleaned by the same rules as the top level.
	nestTag dataset.Tag = 0x00082218
	// markerTag is put in every item of every sequence the table lists, with
	// a value naming that sequence; Institution Name (0008,0080) is X/Z/D.
	markerTag dataset.Tag = 0x00080080
	// refUIDTag (Referenced SOP Instance UID, U) is put in every such item too,
	// so that X/Z/U* sequences have a contained instance UID to replace.
	refUIDTag  dataset.Tag = 0x00081155
	sopClassCT             = "1.2.840.10008.5.1.4.1.1.2"
)

// testValue returns the distinct value of the attribute at row i of the table
// for vr; nested values (inside nestTag's item) differ from top-level ones.
// Text values carry the tag, so a leak names its attribute.
func testValue(tag dataset.Tag, vr string, i int, nested bool) []byte {
	prefix := "TT"
	if nested {
		prefix, i = "TN", i+1000
	}
	text := fmt.Sprintf("%s%08X", prefix, uint32(tag))
	day := time.Date(1931, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 7*i)
	switch vr {
	case "DA":
		return []byte(day.Format("20060102"))
	case "TM":
		return []byte(fmt.Sprintf("%02d%02d%02d.%06d", 1+i%22, 1+i%58, 1+i/58%58, 700000+i))
	case "DT":
		return []byte(day.Format("20060102") + fmt.Sprintf("121314.%06d", 800000+i))
	case "AS":
		return []byte(fmt.Sprintf("%03dW", 100+i%900))
	case "IS":
		return []byte(fmt.Sprintf("73%07d", i))
	case "DS":
		return []byte(fmt.Sprintf("74%07d.5", i))
	case "UI":
		return []byte(fmt.Sprintf("1.2.826.0.1.3680043.10.1313.%d", 10000+i))
	case "US":
		return binary.LittleEndian.AppendUint16(nil, uint16(0x7300+i))
	case "UR":
		return []byte("http://tt.example/" + text)
	}
	return []byte(text) // AE CS SH LO LT ST UT UC PN, and OB OW UN bytes
}

// seqItem is the item put in every listed sequence: a marker naming the
// sequence and a contained instance UID.
func seqItem(seq dataset.Tag, nested bool) []testElem {
	p := "TT"
	if nested {
		p = "TN"
	}
	return []testElem{
		{tag: markerTag, vr: "LO", value: []byte(fmt.Sprintf("%s%08X-INSTITUTION", p, uint32(seq)))},
		{tag: refUIDTag, vr: "UI", value: []byte(fmt.Sprintf("1.2.826.0.1.3680043.10.1313.9.%d.%d", map[bool]int{false: 1, true: 2}[nested], uint32(seq)))},
	}
}

// notInDataSet are rows of the table that cannot sit in a stored data set as
// ordinary elements: the command elements of group 0000, the meta element
// (checked in the meta information) and the trailing padding, which only
// ends a data set.
var notInDataSet = map[dataset.Tag]bool{0x00001000: true, 0x00001001: true, 0x00020003: true, 0xFFFCFFFC: true}

// keptElems are attributes the table does not list (K): they must come back
// unchanged.
func keptElems(instanceNumber string) []testElem {
	us := func(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
	return []testElem{
		{tag: 0x00080008, vr: "CS", value: []byte(`ORIGINAL\PRIMARY\AXIAL`)},
		{tag: 0x00080016, vr: "UI", value: []byte(sopClassCT)},
		{tag: 0x00080060, vr: "CS", value: []byte("CT")},
		{tag: 0x00180050, vr: "DS", value: []byte("2.5")},
		{tag: 0x00200013, vr: "IS", value: []byte(instanceNumber)},
		{tag: 0x00280002, vr: "US", value: us(1)},
		{tag: 0x00280004, vr: "CS", value: []byte("MONOCHROME2")},
		{tag: 0x00280010, vr: "US", value: us(2)},
		{tag: 0x00280011, vr: "US", value: us(2)},
		{tag: 0x00280100, vr: "US", value: us(16)},
		{tag: 0x00280101, vr: "US", value: us(12)},
		{tag: 0x00280102, vr: "US", value: us(11)},
		{tag: 0x00280103, vr: "US", value: us(0)},
		{tag: 0x00280301, vr: "CS", value: []byte("NO")},
		{tag: 0x7FE00010, vr: "OW", value: []byte{1, 0, 2, 0, 3, 0, 4, 0}},
	}
}

// gone are values outside the table's plain rows that the profile removes:
// private attributes, curve data (50xx,xxxx), overlay data and comments.
var gone = []testElem{
	{tag: 0x00090010, vr: "LO", value: []byte("TTPRIVATECREATOR")},
	{tag: 0x00091001, vr: "LO", value: []byte("TTPRIVATEVALUE01")},
	{tag: 0x50000005, vr: "US", value: []byte{1, 0}},
	{tag: 0x50002500, vr: "LO", value: []byte("TTCURVELABEL0001")},
	{tag: 0x50003000, vr: "OW", value: []byte("TTCURVEDATA00001")},
	{tag: 0x60000010, vr: "US", value: []byte{2, 0}},
	{tag: 0x60000011, vr: "US", value: []byte{2, 0}},
	{tag: 0x60000040, vr: "CS", value: []byte("G")},
	{tag: 0x60000050, vr: "SS", value: []byte{1, 0, 1, 0}},
	{tag: 0x60000100, vr: "US", value: []byte{1, 0}},
	{tag: 0x60000102, vr: "US", value: []byte{0, 0}},
	{tag: 0x60003000, vr: "OW", value: []byte("TTOVERLAYDATA001")},
	{tag: 0x60004000, vr: "LT", value: []byte("TTOVERLAYCOMMENT")},
}

// standardInstance returns the data set of a test instance: every row of the
// table at the top level, every row again inside nestTag's item, the kept
// attributes and the ones removed by the group rules. Both instances of the
// export share every value but the SOP Instance UID and Instance Number, so
// replaced UIDs can be compared between them; refSOP, when set, replaces the
// UID contained in Source Image Sequence's item (a reference to the other
// instance).
func standardInstance(sop, instanceNumber, refSOP string) []testElem {
	var top, nest []testElem
	for i, r := range tableE11 {
		if notInDataSet[r.tag] {
			continue
		}
		if r.vr == "SQ" {
			it := seqItem(r.tag, false)
			if r.tag == 0x00082112 && refSOP != "" {
				it[1].value = []byte(refSOP)
			}
			top = append(top, testElem{tag: r.tag, vr: "SQ", items: [][]testElem{it}})
			nest = append(nest, testElem{tag: r.tag, vr: "SQ", items: [][]testElem{seqItem(r.tag, true)}})
			continue
		}
		v := testValue(r.tag, r.vr, i, false)
		if r.tag == dataset.SOPInstanceUID {
			v = []byte(sop)
		}
		top = append(top, testElem{tag: r.tag, vr: r.vr, value: v})
		nest = append(nest, testElem{tag: r.tag, vr: r.vr, value: testValue(r.tag, r.vr, i, true)})
	}
	top = append(top, testElem{tag: nestTag, vr: "SQ", items: [][]testElem{nest}})
	top = append(top, keptElems(instanceNumber)...)
	return append(top, gone...)
}

var uidSyntax = regexp.MustCompile(`^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$`)

// trimmed is a value as compared: trailing padding removed.
func trimmed(v []byte) string { return strings.TrimRight(string(v), "\x00 ") }

// checkAction checks one attribute of the de-identified data set against the
// table's action; orig is its test value (for a sequence, the item it had).
func checkAction(t *testing.T, where string, ds *dataset.DataSet, name, action string, orig testElem) {
	t.Helper()
	e := ds.Get(orig.tag)
	what := fmt.Sprintf("%s: %v %s (%s)", where, orig.tag, name, action)
	// removed allows X; empty allows Z; the rest is a replacement.
	removed := strings.HasPrefix(action, "X")
	empty := strings.Contains(action, "Z")
	if e == nil {
		if !removed {
			t.Errorf("%s: removed, the action keeps it present", what)
		}
		return
	}
	if action == "X" {
		t.Errorf("%s: present, must be removed", what)
		return
	}
	if orig.vr == "SQ" {
		if len(e.Items) == 0 {
			if !empty {
				t.Errorf("%s: emptied, the action wants a non-empty (dummy) sequence", what)
			}
			return
		}
		origItem := orig.items[0]
		for _, it := range e.Items {
			for _, el := range it.Elements() {
				for _, o := range origItem {
					if trimmed(el.Value) == trimmed(o.value) {
						t.Errorf("%s: item keeps the original %v %q", what, o.tag, trimmed(o.value))
					}
				}
			}
		}
		return
	}
	got, want := trimmed(e.Value), trimmed(orig.value)
	if binaryVR(orig.vr) {
		// Padding is not text here: two zero bytes are a (dummy) value.
		got, want = string(e.Value), string(orig.value)
	}
	switch {
	case got == "":
		if !empty || action == "U" {
			t.Errorf("%s: zero length, the action wants a (dummy) value", what)
		}
	case got == want || strings.Contains(got, want):
		t.Errorf("%s: keeps the original value %q", what, want)
	case action == "U" && (!uidSyntax.MatchString(got) || len(got) > 64):
		t.Errorf("%s: replacement %q is not a UID", what, got)
	}
}

// binaryVR reports whether values of vr are bytes or binary numbers, not text.
func binaryVR(vr string) bool {
	switch vr {
	case "OB", "OD", "OF", "OL", "OV", "OW", "UN", "US", "SS", "UL", "SL", "FL", "FD", "AT", "SV", "UV":
		return true
	}
	return false
}

// allValues lists every value of a data set, through sequences.
func allValues(ds *dataset.DataSet, into *[]string) {
	for _, e := range ds.Elements() {
		for _, it := range e.Items {
			allValues(it, into)
		}
		if v := trimmed(e.Value); v != "" {
			*into = append(*into, v)
		}
	}
}

// TestDeidentifyStandardTable exports two instances carrying a distinct value
// in every attribute of PS3.15 Table E.1-1 (top level and nested) and checks
// each against the standard's Basic Profile action: X gone, Z empty or dummy,
// D a dummy unlike the original, U a new UID the same across the export,
// compound actions one of their choices; private, curve and overlay data
// gone; attributes the table does not list (K) kept as they were.
func TestDeidentifyStandardTable(t *testing.T) {
	const sopA, sopB = "1.2.826.0.1.3680043.10.1313.7.1", "1.2.826.0.1.3680043.10.1313.7.2"
	insts := map[string][]testElem{
		"1": standardInstance(sopA, "1", ""),
		"2": standardInstance(sopB, "2", sopA),
	}
	dir := t.TempDir()
	for n, ds := range insts {
		sop := map[string]string{"1": sopA, "2": sopB}[n]
		if err := os.WriteFile(filepath.Join(dir, "IM"+n+".dcm"), testFile(sopClassCT, sop, ds), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := openCache(t, dir)
	studies, err := c.Studies()
	if err != nil || len(studies) != 1 || studies[0].NumberOfInstances != 2 {
		t.Fatalf("import: %v, %+v; want one study of two instances", err, studies)
	}
	x := &Exporter{Cache: c, Deidentify: true, Options: Options{IncludeBurnedIn: true}}
	out := map[string]*dataset.File{}
	raw := map[string][]byte{}
	sum, err := x.WriteFiles([]string{studies[0].StudyInstanceUID}, func(rec Record, data []byte) error {
		f, err := dataset.ParseBytes(append([]byte(nil), data...), "export")
		if err != nil {
			return err
		}
		n := f.String(0x00200013)
		out[n], raw[n] = f, data
		return nil
	})
	if err != nil || sum.Instances != 2 || len(out) != 2 {
		t.Fatalf("export: %v, %d instances (%v)", err, sum.Instances, sum.Failed)
	}

	for n, f := range out {
		where := "instance " + n
		orig := insts[n]
		byTag := map[dataset.Tag]testElem{}
		for _, e := range orig {
			byTag[e.tag] = e
		}
		nested := byTag[nestTag].items[0]
		nestByTag := map[dataset.Tag]testElem{}
		for _, e := range nested {
			nestByTag[e.tag] = e
		}
		nestOut := f.Items(nestTag)
		if len(nestOut) != 1 {
			t.Fatalf("%s: %v (not in the table, K) has %d items, want 1", where, nestTag, len(nestOut))
		}
		for _, r := range tableE11 {
			if notInDataSet[r.tag] {
				continue
			}
			checkAction(t, where, f.DataSet, r.name, r.action, byTag[r.tag])
			checkAction(t, where+" nested in "+nestTag.String(), nestOut[0], r.name, r.action, nestByTag[r.tag])
		}

		// Media Storage SOP Instance UID (U) is in the meta information.
		if ms := f.Meta.String(dataset.MediaStorageSOPInstanceUID); ms == "" || ms == sopA || ms == sopB || ms != f.String(dataset.SOPInstanceUID) {
			t.Errorf("%s: Media Storage SOP Instance UID %q, SOP Instance UID %q", where, ms, f.String(dataset.SOPInstanceUID))
		}

		// Private attributes, curves, overlay data and comments: gone.
		for _, g := range gone {
			grp := g.tag.Group()
			removeAll := grp%2 == 1 || grp&0xFF00 == 0x5000 || g.tag.Element() == 0x3000 || g.tag.Element() == 0x4000
			if removeAll && f.DataSet.Has(g.tag) {
				t.Errorf("%s: %v must be removed", where, g.tag)
			}
		}

		// K: what the table does not list comes back unchanged.
		for _, k := range keptElems(n) {
			if k.tag == 0x7FE00010 {
				p := f.Pixel
				if p == nil || p.Encapsulated {
					t.Errorf("%s: pixel data missing", where)
					continue
				}
				b, err := f.ReadPixelRange(p.Offset, p.Length)
				if err != nil || !bytes.Equal(b, k.value) {
					t.Errorf("%s: pixel data %v (%v), want %v", where, b, err, k.value)
				}
				continue
			}
			if e := f.DataSet.Get(k.tag); e == nil || trimmed(e.Value) != trimmed(k.value) {
				t.Errorf("%s: %v (not in the table) must be kept as %q, got %v", where, k.tag, trimmed(k.value), e)
			}
		}

		// No original value anywhere: not as a whole value in any element
		// (meta included), and no text value anywhere in the file's bytes.
		var vals []string
		allValues(f.Meta, &vals)
		allValues(f.DataSet, &vals)
		have := map[string]bool{}
		for _, v := range vals {
			have[v] = true
		}
		var secret func(els []testElem)
		secret = func(els []testElem) {
			for _, e := range els {
				if e.tag == nestTag {
					secret(e.items[0])
					continue
				}
				if e.vr == "SQ" {
					secret(e.items[0])
					continue
				}
				v := trimmed(e.value)
				if len(v) < 6 {
					continue // short binary values (US) are checked per element
				}
				if have[v] {
					t.Errorf("%s: original value %q of %v survives", where, v, e.tag)
				}
				if strings.HasPrefix(v, "TT") || strings.HasPrefix(v, "TN") {
					if bytes.Contains(raw[n], []byte(v)) {
						t.Errorf("%s: original text %q of %v appears in the file", where, v, e.tag)
					}
				}
			}
		}
		var identifying []testElem
		for _, e := range orig {
			if e.tag != 0x00080016 && e.tag != 0x7FE00010 && !isKept(e.tag) {
				identifying = append(identifying, e)
			}
		}
		secret(identifying)
	}

	// U: one replacement per original UID across the export. The two
	// instances share every UID but their own SOP Instance UID, and
	// instance 2's Source Image Sequence refers to instance 1.
	one, two := out["1"], out["2"]
	for _, r := range tableE11 {
		if r.action != "U" || notInDataSet[r.tag] {
			continue
		}
		a, b := one.String(r.tag), two.String(r.tag)
		if r.tag == dataset.SOPInstanceUID {
			if a == b {
				t.Errorf("two instances share the replaced SOP Instance UID %q", a)
			}
			continue
		}
		if a != b {
			t.Errorf("%v %s: replaced by %q in one instance and %q in the other", r.tag, r.name, a, b)
		}
	}
	if src := two.Items(0x00082112); len(src) == 1 {
		if got, want := src[0].String(refUIDTag), one.String(dataset.SOPInstanceUID); got != want {
			t.Errorf("Source Image Sequence refers to %q, want instance 1's new SOP Instance UID %q", got, want)
		}
	}
}

// isKept reports whether a test attribute is one of keptElems (not in the
// table): its value may survive.
func isKept(tag dataset.Tag) bool {
	for _, k := range keptElems("") {
		if k.tag == tag {
			return true
		}
	}
	return false
}
