package share

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"teleread/cache"
	"teleread/viewer/dataset"
)

const corpusFiles = "../../testdata/corpus/files"

// need skips (locally) or fails (CI=true) when a tool or the corpus is missing.
func need(t *testing.T, tools ...string) {
	t.Helper()
	miss := func(err error) {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	if _, err := os.Stat(corpusFiles); err != nil {
		miss(err)
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			miss(err)
		}
	}
}

func openCache(t *testing.T, paths ...string) *cache.Cache {
	t.Helper()
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.ImportPaths(paths, nil)
	return c
}

// unzip extracts a zip into a new folder and returns it.
func unzip(t *testing.T, data []byte) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(zf.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var (
	uidPattern  = regexp.MustCompile(`[0-9]+(\.[0-9]+)+`)
	tailNumeral = regexp.MustCompile(`UID [0-9]+$`)
)

// dciodvfyErrors returns dciodvfy's error lines with UIDs normalised (they
// are replaced by de-identification, and messages quote them).
func dciodvfyErrors(t *testing.T, path string) map[string]bool {
	t.Helper()
	out, _ := exec.Command("dciodvfy", path).CombinedOutput() // exits non-zero on errors
	set := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(line, "Error") {
			continue
		}
		line = uidPattern.ReplaceAllString(line, "UID")
		line = tailNumeral.ReplaceAllString(line, "UID UID")
		set[line] = true
	}
	return set
}

// baselineErrors is what dciodvfy finds in the original, and in dcmtk's
// explicit VR little endian transcoding of it (dciodvfy reads some encodings,
// such as deflated data sets, only partly).
func baselineErrors(t *testing.T, path string) map[string]bool {
	set := dciodvfyErrors(t, path)
	conv := filepath.Join(t.TempDir(), "te.dcm")
	if err := exec.Command("dcmconv", "+te", path, conv).Run(); err == nil {
		for e := range dciodvfyErrors(t, conv) {
			set[e] = true
		}
	}
	return set
}

// values collects every value of every element, by tag, through sequences.
func values(ds *dataset.DataSet, into map[dataset.Tag][]string) {
	for _, e := range ds.Elements() {
		if e.VR == "SQ" {
			for _, it := range e.Items {
				values(it, into)
			}
			continue
		}
		into[e.Tag] = append(into[e.Tag], strings.TrimRight(string(e.Value), "\x00 "))
	}
}

// secrets lists the identifying strings of an original file that must not
// appear in its de-identified copy: patient name parts and ID, instance UIDs
// and dates (DA values, the date part of DT values), through sequences.
func secrets(ds *dataset.DataSet, into map[string]bool) {
	for _, e := range ds.Elements() {
		if e.VR == "SQ" {
			for _, it := range e.Items {
				secrets(it, into)
			}
			continue
		}
		if e.Tag.Group()%2 == 1 {
			continue // private: removed whole, checked separately
		}
		v := strings.TrimRight(string(e.Value), "\x00 ")
		switch {
		case e.Tag == 0x00100010 || e.Tag == 0x00100020:
			// Whole values only (short IDs such as "0010" occur inside any
			// number); whole-element matches are checked in checkIdentity.
			if len(strings.Trim(v, "^ ")) >= 6 {
				into[v] = true
			}
		case e.VR == "UI":
			for _, u := range strings.Split(v, `\`) {
				if len(u) >= 8 && !strings.HasPrefix(u, "1.2.840.10008.") && !classUIDs[e.Tag] {
					into[u] = true
				}
			}
		case e.VR == "DA" || e.VR == "DT":
			for _, d := range strings.Split(v, `\`) {
				if d = strings.TrimSpace(d); len(d) >= 8 {
					into[d[:8]] = true
				}
			}
		}
	}
}

// pixelBytes returns the stored pixel data: the native value, or the Basic
// Offset Table and fragments.
func pixelBytes(t *testing.T, f *dataset.File) [][]byte {
	t.Helper()
	p := f.Pixel
	if p == nil {
		return nil
	}
	if !p.Encapsulated {
		b, err := f.ReadPixelRange(p.Offset, p.Length)
		if err != nil {
			t.Fatal(err)
		}
		return [][]byte{b}
	}
	bot := make([]byte, 0, 4*len(p.OffsetTable))
	for _, o := range p.OffsetTable {
		bot = binary.LittleEndian.AppendUint32(bot, o)
	}
	out := [][]byte{bot}
	for _, fr := range p.Fragments {
		b, err := f.ReadPixelRange(fr.Offset, fr.Length)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// blankPixels returns the file's bytes with the pixel data values zeroed: they
// are the original's bytes, copied unchanged, and are compared separately.
func blankPixels(t *testing.T, path string, f *dataset.File) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if p := f.Pixel; p != nil {
		ranges := []dataset.Fragment{{Offset: p.Offset, Length: p.Length}}
		if p.Encapsulated {
			ranges = p.Fragments
		}
		for _, r := range ranges {
			clear(b[r.Offset : r.Offset+r.Length])
		}
	}
	return b
}

// checkProfile checks every element of a de-identified data set against
// Table E.1-1 and the original's values.
func checkProfile(t *testing.T, ds *dataset.DataSet, orig map[dataset.Tag][]string, where string) {
	t.Helper()
	for _, e := range ds.Elements() {
		tag := e.Tag
		if tag.Group()%2 == 1 {
			t.Errorf("%s: private attribute %v kept", where, tag)
			continue
		}
		r, listed := ruleFor(tag)
		if e.VR == "SQ" {
			if listed && r.act == actX {
				t.Errorf("%s: %v must be removed", where, tag)
			}
			if listed && r.act == actZ && len(e.Items) > 0 {
				t.Errorf("%s: %v must be empty", where, tag)
			}
			for i, it := range e.Items {
				checkProfile(t, it, orig, where+"/"+tag.String()+"["+string(rune('0'+i%10))+"]")
			}
			continue
		}
		if !listed {
			continue
		}
		v := strings.TrimRight(string(e.Value), "\x00 ")
		switch resolve(r.act, e.VR) {
		case actX:
			t.Errorf("%s: %v (%s) must be removed, has %q", where, tag, e.VR, v)
		case actZ:
			if v != "" {
				t.Errorf("%s: %v must be empty, has %q", where, tag, v)
			}
		default:
			for _, o := range orig[tag] {
				if o != "" && o == v && !strings.HasPrefix(v, "1.2.840.10008.") && string(dummy(e.VR)) != v {
					t.Errorf("%s: %v keeps its original value %q", where, tag, v)
				}
			}
		}
	}
}

// TestDeidentifiedExportCorpus exports every corpus study de-identified and
// checks each file against dciodvfy, Table E.1-1, the original's identifying
// strings and pixel bytes; the zip must import again and its DICOMDIR must
// read with dcmdump and dciodvfy and lead to every file.
func TestDeidentifiedExportCorpus(t *testing.T) {
	need(t, "dciodvfy", "dcmdump", "dcmconv")
	c := openCache(t, corpusFiles)
	studies, err := c.Studies()
	if err != nil || len(studies) == 0 {
		t.Fatalf("studies: %v (%d)", err, len(studies))
	}
	for _, st := range studies {
		t.Run(st.StudyInstanceUID, func(t *testing.T) {
			var buf bytes.Buffer
			x := &Exporter{Cache: c, Deidentify: true, Options: Options{IncludeBurnedIn: true}}
			sum, err := x.WriteZip(&buf, []string{st.StudyInstanceUID})
			if err != nil {
				t.Fatal(err)
			}
			if len(sum.Failed) > 0 || sum.Instances+len(sum.BurnedIn) != st.NumberOfInstances {
				t.Fatalf("exported %d, burned in %d, failed %v; study has %d", sum.Instances, len(sum.BurnedIn), sum.Failed, st.NumberOfInstances)
			}
			dir := unzip(t, buf.Bytes())
			newStudy := ""
			for _, rec := range sum.Records {
				out := filepath.Join(dir, filepath.Join(rec.FileID...))
				name := filepath.Base(rec.Source)
				src := plainCopy(t, c, rec.Source)
				of, err := dataset.Open(src)
				if err != nil {
					t.Fatal(err)
				}
				defer of.Close()
				nf, err := dataset.Open(out)
				if err != nil {
					t.Fatalf("%s: output does not parse: %v", name, err)
				}
				defer nf.Close()

				if got := nf.Meta.String(dataset.MediaStorageSOPInstanceUID); got != nf.String(dataset.SOPInstanceUID) || got == of.String(dataset.SOPInstanceUID) {
					t.Errorf("%s: Media Storage SOP Instance UID %q, SOP Instance UID %q", name, got, nf.String(dataset.SOPInstanceUID))
				}
				if newStudy == "" {
					newStudy = nf.String(dataset.StudyInstanceUID)
				} else if nf.String(dataset.StudyInstanceUID) != newStudy {
					t.Errorf("%s: study UID not replaced consistently", name)
				}
				if nf.String(tagPatientIdentityRemoved) != "YES" {
					t.Errorf("%s: Patient Identity Removed is %q", name, nf.String(tagPatientIdentityRemoved))
				}
				codes := nf.Items(tagDeidentificationMethodCodeSeq)
				if len(codes) != 1 || codes[0].String(tagCodeValue) != codeBasicProfile || codes[0].String(tagCodingSchemeDesignator) != "DCM" {
					t.Errorf("%s: De-identification Method Code Sequence %v", name, codes)
				}

				// No new dciodvfy errors.
				base := baselineErrors(t, src)
				for e := range dciodvfyErrors(t, out) {
					if !base[e] {
						t.Errorf("%s: new dciodvfy error: %s", name, e)
					}
				}

				// Table E.1-1 actions, checked element by element.
				orig := map[dataset.Tag][]string{}
				values(of.DataSet, orig)
				checkProfile(t, nf.DataSet, orig, name)

				checkIdentity(t, nf.DataSet, of.String(0x00100010), of.String(0x00100020), name)

				// No identifying string anywhere outside the (unchanged) pixels.
				sec := map[string]bool{}
				secrets(of.DataSet, sec)
				for _, u := range []string{of.Meta.String(dataset.MediaStorageSOPInstanceUID)} {
					if len(u) >= 8 {
						sec[u] = true
					}
				}
				raw := blankPixels(t, out, nf)
				for s := range sec {
					if bytes.Contains(raw, []byte(s)) {
						t.Errorf("%s: original value %q appears in the output", name, s)
					}
				}

				// JPEG and JPEG 2000 code streams lose their comment and
				// application segments: they must decode to the same pixels.
				// Other pixel data are copied byte for byte.
				if of.Pixel != nil && of.Pixel.Encapsulated && codeStreamSyntax(of.TransferSyntax) {
					want, werr := tryDecodeAll(src)
					got, gerr := tryDecodeAll(out)
					switch {
					case werr != nil && gerr == nil: // a broken original stays broken
						t.Errorf("%s: the original does not decode (%v), the copy does", name, werr)
					case werr == nil && (gerr != nil || !equalFrames(got, want)):
						t.Errorf("%s: frames decode differently (%v)", name, gerr)
					}
					continue
				}
				op, np := pixelBytes(t, of), pixelBytes(t, nf)
				if len(op) != len(np) {
					t.Fatalf("%s: %d pixel parts, want %d", name, len(np), len(op))
				}
				for i := range op {
					if !bytes.Equal(op[i], np[i]) {
						t.Errorf("%s: pixel part %d differs", name, i)
					}
				}
			}

			// The zip imports again, with the same counts.
			zpath := filepath.Join(t.TempDir(), "out.zip")
			if err := os.WriteFile(zpath, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			c2 := openCache(t, zpath)
			got, _ := c2.Studies()
			if len(got) != 1 || got[0].NumberOfInstances != sum.Instances || got[0].StudyInstanceUID != newStudy {
				t.Errorf("re-import: %+v, want 1 study %s with %d instances", got, newStudy, sum.Instances)
			}

			// dcmtk and dicom3tools read the DICOMDIR; its references lead to
			// every file; its offsets point at items.
			dd := filepath.Join(dir, "DICOMDIR")
			if out, err := exec.Command("dcmdump", "-q", dd).CombinedOutput(); err != nil {
				t.Errorf("dcmdump DICOMDIR: %v\n%s", err, out)
			}
			for e := range dciodvfyErrors(t, dd) {
				t.Errorf("dciodvfy DICOMDIR: %s", e)
			}
			refs, err := cache.DICOMDIRFiles(dd)
			if err != nil || len(refs) != sum.Instances {
				t.Errorf("DICOMDIR references %d files (%v), want %d", len(refs), err, sum.Instances)
			}
			checkOffsets(t, dd)
		})
	}
}

// checkIdentity checks that no element anywhere holds the original patient
// name or ID as its value.
func checkIdentity(t *testing.T, ds *dataset.DataSet, name, id, where string) {
	t.Helper()
	vals := map[dataset.Tag][]string{}
	values(ds, vals)
	for tag, vs := range vals {
		for _, v := range vs {
			if v != "" && (v == name || v == id) {
				t.Errorf("%s: %v holds the original patient name or ID %q", where, tag, v)
			}
		}
	}
}

// checkOffsets follows the DICOMDIR's record offsets from the root and checks
// that each points at an item whose record is the one expected.
func checkOffsets(t *testing.T, path string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := dataset.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs := f.Items(tagDirectoryRecordSequence)
	// Records are written in order; recover each one's offset by scanning.
	at := map[uint32]*dataset.DataSet{}
	pos := 0
	for _, r := range recs {
		i := bytes.Index(raw[pos:], []byte{0xFE, 0xFF, 0x00, 0xE0})
		if i < 0 {
			t.Fatal("DICOMDIR: item not found")
		}
		pos += i
		at[uint32(pos)] = r
		pos += 8
	}
	u32 := func(ds *dataset.DataSet, tag dataset.Tag) uint32 {
		e := ds.Get(tag)
		if e == nil || len(e.Value) != 4 {
			t.Fatalf("DICOMDIR: %v missing", tag)
		}
		return binary.LittleEndian.Uint32(e.Value)
	}
	levels := []string{"PATIENT", "STUDY", "SERIES"}
	seen := 0
	var walk func(off uint32, depth int)
	walk = func(off uint32, depth int) {
		for off != 0 {
			r := at[off]
			if r == nil {
				t.Fatalf("DICOMDIR: offset %d is not a record", off)
			}
			seen++
			typ := r.String(tagDirectoryRecordType)
			if depth < len(levels) && typ != levels[depth] {
				t.Errorf("DICOMDIR: record at %d is %s, want %s", off, typ, levels[depth])
			}
			walk(u32(r, tagOffsetOfLowerLevelDirectory), depth+1)
			off = u32(r, tagOffsetOfNextDirectoryRecord)
		}
	}
	root := f.DataSet.Get(0x00041200)
	walk(binary.LittleEndian.Uint32(root.Value), 0)
	if seen != len(recs) {
		t.Errorf("DICOMDIR: %d records reachable, %d present", seen, len(recs))
	}
}

// TestExportOptions checks the two profile options: dates shifted by the
// export's offset with code 113106, device identity kept with code 113109,
// and both absent by default.
func TestExportOptions(t *testing.T) {
	need(t)
	src := filepath.Join(corpusFiles, "brmulti_enhanced_mr_nema.dcm")
	c := openCache(t, src)
	of, err := dataset.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer of.Close()
	studyDate := of.String(dataset.StudyDate)
	serial := of.String(0x00181000)
	if studyDate == "" || serial == "" {
		t.Fatal("test file lacks Study Date or Device Serial Number")
	}
	tests := []struct {
		name       string
		opts       Options
		wantDate   string
		wantSerial bool
		wantCodes  []string
	}{
		{"basic", Options{IncludeBurnedIn: true}, "", false, []string{codeBasicProfile}},
		{"dates", Options{KeepDates: true, DateShiftDays: -100, IncludeBurnedIn: true}, shiftDays(t, studyDate, -100), false, []string{codeBasicProfile, codeModifiedDates}},
		{"device", Options{KeepDevice: true, IncludeBurnedIn: true}, "", true, []string{codeBasicProfile, codeDeviceID}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := &Exporter{Cache: c, Deidentify: true, Options: tc.opts}
			var got []byte
			sum, err := x.WriteFiles([]string{of.String(dataset.StudyInstanceUID)}, func(_ Record, data []byte) error {
				got = append([]byte(nil), data...)
				return nil
			})
			if err != nil || sum.Instances != 1 {
				t.Fatalf("export: %v, %d instances", err, sum.Instances)
			}
			nf, err := dataset.Parse(bytes.NewReader(got), int64(len(got)), "out")
			if err != nil {
				t.Fatal(err)
			}
			if d := nf.String(dataset.StudyDate); d != tc.wantDate {
				t.Errorf("Study Date %q, want %q", d, tc.wantDate)
			}
			if s := nf.String(0x00181000); (s == serial) != tc.wantSerial {
				t.Errorf("Device Serial Number %q (original %q), kept want %v", s, serial, tc.wantSerial)
			}
			var codes []string
			for _, it := range nf.Items(tagDeidentificationMethodCodeSeq) {
				codes = append(codes, it.String(tagCodeValue))
			}
			sort.Strings(codes)
			if strings.Join(codes, ",") != strings.Join(tc.wantCodes, ",") {
				t.Errorf("method codes %v, want %v", codes, tc.wantCodes)
			}
		})
	}
}

func shiftDays(t *testing.T, da string, days int) string {
	d, err := time.Parse("20060102", da)
	if err != nil {
		t.Fatal(err)
	}
	return d.AddDate(0, 0, days).Format("20060102")
}

// TestBurnedInLeftOut sets a corpus image's Burned In Annotation to YES,
// leaves it absent (the corpus file has none) or sets it to NO with dcmodify:
// the de-identified export leaves out all but NO and says why, unless asked.
func TestBurnedInLeftOut(t *testing.T) {
	need(t, "dcmodify")
	b, err := os.ReadFile(filepath.Join(corpusFiles, "ct_small_explicit_le.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	if f, err := dataset.ParseBytes(append([]byte(nil), b...), "ct_small"); err != nil || f.String(tagBurnedInAnnotation) != "" {
		t.Fatalf("the test file should lack Burned In Annotation: %v", err)
	}
	tests := []struct {
		value     string // "" leaves the attribute absent
		include   bool
		wantFiles int
		wantErr   error
		wantWhy   string
	}{
		{"YES", false, 0, ErrNothingToExport, "Burned In Annotation is YES"},
		{"YES", true, 1, nil, ""},
		{"", false, 0, ErrNothingToExport, "Burned In Annotation is absent"},
		{"", true, 1, nil, ""},
		{"NO", false, 1, nil, ""},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q include=%v", tc.value, tc.include), func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "burned.dcm")
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			if tc.value != "" {
				if out, err := exec.Command("dcmodify", "-nb", "-i", "(0028,0301)="+tc.value, p).CombinedOutput(); err != nil {
					t.Fatalf("dcmodify: %v\n%s", err, out)
				}
			}
			c := openCache(t, p)
			studies, _ := c.Studies()
			if len(studies) != 1 {
				t.Fatalf("%d studies", len(studies))
			}
			x := &Exporter{Cache: c, Deidentify: true, Options: Options{IncludeBurnedIn: tc.include}}
			sum, err := x.WriteZip(io.Discard, []string{studies[0].StudyInstanceUID})
			if !errors.Is(err, tc.wantErr) || sum.Instances != tc.wantFiles || len(sum.BurnedIn) != 1-tc.wantFiles {
				t.Fatalf("%d files, %d left out, err %v", sum.Instances, len(sum.BurnedIn), err)
			}
			if tc.wantWhy != "" && sum.BurnedIn[0].Reason != tc.wantWhy {
				t.Errorf("reason %q, want %q", sum.BurnedIn[0].Reason, tc.wantWhy)
			}
		})
	}
}

// plainCopy writes the bytes of the cached file at path (sealed on disk) as
// received to a file of its own, for the tools that compare with it.
func plainCopy(t *testing.T, c *cache.Cache, path string) string {
	t.Helper()
	st, _, err := c.OpenStoredPath(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b := make([]byte, st.Size())
	if _, err := st.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), filepath.Base(path))
	if err := os.WriteFile(out, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}
