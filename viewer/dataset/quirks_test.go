package dataset

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Vendor quirks: files real viewers open although they bend the standard. The
// files are made here from corpus files by inserting the quirk, in memory for
// the table tests and stored under testdata/quirks for the command line tests
// (TestQuirkFiles keeps the stored copies equal to what is made here;
// -update-quirks rewrites them).

var updateQuirks = flag.Bool("update-quirks", false, "rewrite testdata/quirks from the corpus")

const quirksDir = "../../testdata/quirks"

// elemLE encodes one explicit VR little endian element with a defined length.
func elemLE(tag Tag, vr string, value []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, [2]uint16{tag.Group(), tag.Element()})
	b.WriteString(vr)
	if _, long, _ := vrOf(vr[0], vr[1]); long {
		b.Write([]byte{0, 0})
		binary.Write(&b, binary.LittleEndian, uint32(len(value)))
	} else {
		binary.Write(&b, binary.LittleEndian, uint16(len(value)))
	}
	b.Write(value)
	return b.Bytes()
}

// delimited encodes an item or delimiter header (group FFFE) with a length.
func delimited(tag Tag, length uint32) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, [2]uint16{tag.Group(), tag.Element()})
	binary.Write(&b, binary.LittleEndian, length)
	return b.Bytes()
}

func us(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// iconJPEG is a baseline JPEG of an 8x8 gradient, padded to an even length as
// a fragment must be.
func iconJPEG(t testing.TB) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	for y := range 8 {
		for x := range 8 {
			img.SetGray(x, y, color.Gray{Y: uint8(16 * (x + y))})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	if b.Len()%2 == 1 {
		b.WriteByte(0)
	}
	return b.Bytes()
}

// iconShape says how an Icon Image Sequence is encoded.
type iconShape struct {
	definedSQ, definedItem bool     // defined lengths instead of delimiters
	offsets                []uint32 // Basic Offset Table entries
	fragments              int      // the JPEG split into this many fragments
	tag                    Tag      // the encapsulated element, PixelData unless set
}

// iconSequence encodes an Icon Image Sequence (0088,0200) holding an 8x8
// MONOCHROME2 icon whose pixel data are encapsulated (undefined length, a
// Basic Offset Table item, fragment items, a sequence delimiter), as several
// mammography and CT vendors write it in files of an encapsulated transfer
// syntax (PS3.5 A.4, PS3.3 F.7).
func iconSequence(jpg []byte, s iconShape) []byte {
	tag := s.tag
	if tag == 0 {
		tag = PixelData
	}
	var bot []byte
	for _, o := range s.offsets {
		bot = binary.LittleEndian.AppendUint32(bot, o)
	}
	frags := [][]byte{cat(delimited(Item, uint32(len(bot))), bot)}
	n := max(s.fragments, 1)
	size := (len(jpg)/n + 1) &^ 1
	for i := 0; i < len(jpg); i += size {
		f := jpg[i:min(i+size, len(jpg))]
		frags = append(frags, cat(delimited(Item, uint32(len(f))), f))
	}
	pixel := cat(
		us(tag.Group()), us(tag.Element()), []byte("OB\x00\x00\xFF\xFF\xFF\xFF"),
		bytes.Join(frags, nil),
		delimited(SequenceDelimitation, 0),
	)
	item := cat(
		elemLE(SamplesPerPixel, "US", us(1)),
		elemLE(PhotometricInterpretation, "CS", []byte("MONOCHROME2 ")),
		elemLE(Rows, "US", us(8)),
		elemLE(Columns, "US", us(8)),
		elemLE(BitsAllocated, "US", us(8)),
		elemLE(BitsStored, "US", us(8)),
		elemLE(T(0x0028, 0x0102), "US", us(7)),
		elemLE(PixelRepresentation, "US", us(0)),
		pixel,
	)
	if s.definedItem {
		item = cat(delimited(Item, uint32(len(item))), item)
	} else {
		item = cat(delimited(Item, undefinedLength), item, delimited(ItemDelimitationItem, 0))
	}
	head := cat(us(0x0088), us(0x0200), []byte("SQ\x00\x00"))
	if s.definedSQ {
		return cat(head, binary.LittleEndian.AppendUint32(nil, uint32(len(item))), item)
	}
	return cat(head, binary.LittleEndian.AppendUint32(nil, undefinedLength), item, delimited(SequenceDelimitation, 0))
}

// insertBefore inserts ins before the first occurrence of at in data.
func insertBefore(t testing.TB, data, at, ins []byte) []byte {
	t.Helper()
	i := bytes.Index(data, at)
	if i < 0 {
		t.Fatalf("insertion point % x not found", at)
	}
	return cat(data[:i], ins, data[i:])
}

// Where the quirks go: the icon sequence before the image's encapsulated Pixel
// Data (every other element of the base file sorts before (0088,0200)); the
// stray item before Patient's Name.
var (
	encapsulatedPixelHeader = []byte("\xE0\x7F\x10\x00OB\x00\x00\xFF\xFF\xFF\xFF")
	patientNameExplicit     = []byte("\x10\x00\x10\x00PN")
	patientNameImplicit     = []byte("\x10\x00\x10\x00\x16\x00\x00\x00CompressedSamples^MR1")
)

// strayContent is what the stray items hold: a Patient's Name that must not
// become the data set's.
var strayContent = elemLE(PatientName, "PN", []byte("Stray^Item"))

// strayItem is an Item outside any sequence.
func strayItem(undefined bool) []byte {
	content := strayContent
	if undefined {
		return cat(delimited(Item, undefinedLength), content, delimited(ItemDelimitationItem, 0))
	}
	return cat(delimited(Item, uint32(len(content))), content)
}

func corpusFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpusDir, "files", name))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return b
}

// quirkFiles are the stored test files, made from corpus files (see
// testdata/quirks/README.md).
func quirkFiles(t testing.TB) map[string][]byte {
	return map[string][]byte{
		"icon_encapsulated_in_sequence.dcm": insertBefore(t, corpusFile(t, "sc_jpeg_baseline_mono8.dcm"), encapsulatedPixelHeader,
			iconSequence(iconJPEG(t), iconShape{})),
		"stray_item_top_level.dcm": insertBefore(t, corpusFile(t, "mr_small_explicit_le.dcm"), patientNameExplicit, strayItem(false)),
	}
}

// TestQuirkFiles keeps testdata/quirks equal to what quirkFiles makes; a
// difference is written beside the stored file as .got.
func TestQuirkFiles(t *testing.T) {
	for name, want := range quirkFiles(t) {
		p := filepath.Join(quirksDir, name)
		if *updateQuirks {
			if err := os.WriteFile(p, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%v (make it with go test -run TestQuirkFiles -update-quirks)", err)
		}
		if !bytes.Equal(got, want) {
			os.WriteFile(p+".got", want, 0o644)
			t.Errorf("%s differs from what is made from the corpus (made: %s.got)", name, p)
		}
	}
}

// TestVendorQuirks parses files with each quirk inserted into a corpus file:
// tolerated quirks parse to the base file's data set (plus the icon), with the
// image's own pixel data untouched and a warning for what was skipped; broken
// or hostile variants are refused with the sentinel that names why.
func TestVendorQuirks(t *testing.T) {
	jpg := iconJPEG(t)
	jpegBase := corpusFile(t, "sc_jpeg_baseline_mono8.dcm")
	mrBase := corpusFile(t, "mr_small_explicit_le.dcm")
	mrImplicit := corpusFile(t, "mr_small_implicit_le.dcm")
	icon := func(s iconShape) []byte {
		return insertBefore(t, jpegBase, encapsulatedPixelHeader, iconSequence(jpg, s))
	}
	stray := func(base, at, ins []byte) []byte { return insertBefore(t, base, at, ins) }
	gib := []byte{0x00, 0x00, 0x00, 0x40}
	// An icon sequence whose pixel data has no sequence delimiter: an offset
	// table, one fragment, and then whatever follows.
	unclosedIcon := cat(us(0x0088), us(0x0200), []byte("SQ\x00\x00\xFF\xFF\xFF\xFF"), delimited(Item, undefinedLength),
		us(0x7FE0), us(0x0010), []byte("OB\x00\x00\xFF\xFF\xFF\xFF"), delimited(Item, 0), delimited(Item, 4), []byte("\xFF\xD8\xFF\xD9"))
	tests := []struct {
		name      string
		base      []byte // the file before the quirk
		data      []byte
		icon      int // fragments of the icon's pixel data; 0: no icon
		iconTag   Tag // where the icon's encapsulated value is, PixelData unless set
		warnings  []string
		wantErr   error
		wantNoErr bool
	}{
		{name: "icon, delimited sequence and item", base: jpegBase, data: icon(iconShape{}), icon: 1},
		{name: "icon, defined lengths", base: jpegBase, data: icon(iconShape{definedSQ: true, definedItem: true}), icon: 1},
		{name: "icon, offset table and three fragments", base: jpegBase, data: icon(iconShape{offsets: []uint32{0}, fragments: 3}), icon: 3},
		{name: "encapsulated private OB in an item", base: jpegBase, data: icon(iconShape{tag: T(0x0009, 0x1010)}), icon: 1, iconTag: T(0x0009, 0x1010)},
		{name: "stray item", base: mrBase, data: stray(mrBase, patientNameExplicit, strayItem(false)),
			warnings: []string{fmt.Sprintf("at offset %d, element (FFFE,E000): stray item of %d bytes at the top level", bytes.Index(mrBase, patientNameExplicit), len(strayContent))}},
		{name: "stray item of undefined length", base: mrBase, data: stray(mrBase, patientNameExplicit, strayItem(true)),
			warnings: []string{fmt.Sprintf("(FFFE,E000): stray item of undefined length (%d bytes)", len(strayContent)+8)}},
		{name: "empty stray item", base: mrBase, data: stray(mrBase, patientNameExplicit, delimited(Item, 0)),
			warnings: []string{"stray item of 0 bytes"}},
		{name: "stray item, implicit VR", base: mrImplicit, data: stray(mrImplicit, patientNameImplicit, cat(delimited(Item, 8), []byte("\x10\x00\x10\x00\x00\x00\x00\x00"))),
			warnings: []string{"stray item of 8 bytes"}},
		{name: "stray item at the end", base: mrBase, data: cat(mrBase, strayItem(false)),
			warnings: []string{fmt.Sprintf("at offset %d, element (FFFE,E000): stray item of %d bytes", len(mrBase), len(strayContent))}},
		{name: "two stray items", base: mrBase, data: stray(mrBase, patientNameExplicit, cat(strayItem(false), strayItem(true))),
			warnings: []string{"stray item of 18 bytes", "stray item of undefined length"}},
		{name: "stray sequence delimiter", base: mrBase, data: stray(mrBase, patientNameExplicit, delimited(SequenceDelimitation, 0)),
			warnings: []string{"element (FFFE,E0DD): stray sequence delimiter"}},

		{name: "stray item declaring 1 GiB", data: stray(mrBase, patientNameExplicit, cat(delimited(Item, 0x40000000), []byte("xxxx"))), wantErr: ErrValueTooLong},
		{name: "stray item never delimited", data: cat(mrBase, delimited(Item, undefinedLength), elemLE(PatientName, "PN", []byte("Stray^Item"))), wantErr: ErrTruncated},
		{name: "item inside an item", data: stray(jpegBase, encapsulatedPixelHeader,
			cat(us(0x0088), us(0x0200), []byte("SQ\x00\x00\xFF\xFF\xFF\xFF"), delimited(Item, undefinedLength), delimited(Item, 0), delimited(ItemDelimitationItem, 0), delimited(SequenceDelimitation, 0))),
			wantErr: ErrMalformed},
		{name: "icon fragment declaring 1 GiB", data: icon(iconShape{}), wantErr: ErrValueTooLong},
		{name: "icon fragment overrunning its item", data: icon(iconShape{definedItem: true}), wantErr: ErrValueTooLong},
		{name: "icon pixel data running into the next element", data: stray(mrBase, []byte("\xE0\x7F\x10\x00OW"), cat(unclosedIcon, []byte("\xFF\xD8\xFF\xD9"))),
			wantErr: ErrMalformed},
		{name: "icon pixel data cut by the end of the file", data: cat(mrBase, unclosedIcon), wantErr: ErrTruncated},
		{name: "icon fragment of undefined length", data: stray(mrBase, []byte("\xE0\x7F\x10\x00OW"), cat(unclosedIcon[:len(unclosedIcon)-12], delimited(Item, undefinedLength))),
			wantErr: ErrMalformed},
	}
	// Hostile variants of well-formed icons: the first fragment's length
	// made huge, or longer than the item it is in.
	for i := range tests {
		switch tests[i].name {
		case "icon fragment declaring 1 GiB":
			tests[i].data = setFragmentLength(t, tests[i].data, jpg, gib)
		case "icon fragment overrunning its item":
			tests[i].data = setFragmentLength(t, tests[i].data, jpg, binary.LittleEndian.AppendUint32(nil, uint32(len(jpg)+64)))
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse(bytes.NewReader(tt.data), int64(len(tt.data)), "quirk.dcm")
			mf, merr := ParseBytes(tt.data, "quirk.dcm")
			if (err == nil) != (merr == nil) {
				t.Fatalf("Parse: %v; ParseBytes: %v", err, merr)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			base, err := ParseBytes(tt.base, "base.dcm")
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range []*File{f, mf} {
				checkQuirk(t, g, base, jpg, tt.icon, tt.iconTag, tt.warnings)
			}
		})
	}
}

// setFragmentLength replaces the length of the item that holds the first
// bytes of jpg with length.
func setFragmentLength(t *testing.T, data, jpg, length []byte) []byte {
	t.Helper()
	i := bytes.Index(data, jpg[:16])
	if i < 8 || !bytes.Equal(data[i-8:i-4], []byte{0xFE, 0xFF, 0x00, 0xE0}) {
		t.Fatal("icon fragment not found")
	}
	out := bytes.Clone(data)
	copy(out[i-4:i], length)
	return out
}

// checkQuirk compares a parsed quirk file with the file it was made from.
func checkQuirk(t *testing.T, f, base *File, jpg []byte, fragments int, iconTag Tag, warnings []string) {
	t.Helper()
	if len(f.Warnings) != len(warnings) {
		t.Fatalf("warnings %v, want %d", f.Warnings, len(warnings))
	}
	for i, w := range warnings {
		if !strings.Contains(f.Warnings[i].String(), w) {
			t.Errorf("warning %q, want one with %q", f.Warnings[i], w)
		}
	}
	if got, want := f.String(PatientName), base.String(PatientName); got != want {
		t.Errorf("PatientName %q, want %q (a skipped item's content leaked into the data set)", got, want)
	}
	wantElems := len(base.Elements())
	if fragments > 0 {
		wantElems++
	}
	if n := len(f.Elements()); n != wantElems {
		t.Errorf("%d elements, want %d", n, wantElems)
	}
	// The image's own pixel data are the base file's, byte for byte.
	if f.Pixel == nil || base.Pixel == nil || f.Pixel.Encapsulated != base.Pixel.Encapsulated || len(f.Pixel.Fragments) != len(base.Pixel.Fragments) {
		t.Fatalf("pixel data %+v, want like %+v", f.Pixel, base.Pixel)
	}
	ranges := func(g *File) (out []Fragment) {
		if !g.Pixel.Encapsulated {
			return []Fragment{{g.Pixel.Offset, g.Pixel.Length}}
		}
		return g.Pixel.Fragments
	}
	fr, br := ranges(f), ranges(base)
	for i := range fr {
		got, err := f.ReadPixelRange(fr[i].Offset, fr[i].Length)
		want, _ := base.ReadPixelRange(br[i].Offset, br[i].Length)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("pixel data fragment %d differs from the base file's (%v)", i, err)
		}
	}
	if err := f.Validate(); err != nil {
		t.Error(err)
	}
	if fragments == 0 {
		return
	}
	seq := f.Get(T(0x0088, 0x0200))
	if seq == nil || len(seq.Items) != 1 {
		t.Fatalf("icon image sequence %+v", seq)
	}
	item := seq.Items[0]
	if r, _ := item.Int(Rows); r != 8 {
		t.Errorf("icon rows %d, want 8", r)
	}
	if iconTag == 0 {
		iconTag = PixelData
	}
	el := item.Get(iconTag)
	if el == nil || el.VR != "OB" || len(el.Fragments) != fragments || len(el.Value) != 0 {
		t.Fatalf("icon pixel data %+v, want %d fragments", el, fragments)
	}
	var got []byte
	for _, fr := range el.Fragments {
		b, err := f.ReadPixelRange(fr.Offset, fr.Length)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, b...)
	}
	if !bytes.Equal(got, jpg) {
		t.Errorf("icon fragments hold %d bytes, not the %d of the icon's JPEG", len(got), len(jpg))
	}
}

// TestStrayItemWarningsBounded: a file made of a million empty stray items
// parses (each is tolerated) but keeps a bounded list of warnings, not one
// per 8 bytes of input.
func TestStrayItemWarningsBounded(t *testing.T) {
	data := cat(corpusFile(t, "mr_small_explicit_le.dcm"), bytes.Repeat(delimited(Item, 0), 1<<20))
	f, err := ParseBytes(data, "stray.dcm")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.Warnings); n != maxWarnings+1 || !strings.Contains(f.Warnings[n-1].Msg, "not listed") {
		t.Fatalf("%d warnings, the last %v; want %d and one saying the rest are not listed", n, f.Warnings[n-1], maxWarnings+1)
	}
}
