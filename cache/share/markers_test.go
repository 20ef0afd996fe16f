package share

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"teleread/viewer"
	"teleread/viewer/dataset"

	"teleread/internal/corpustest"
)

// markerName is written into the code streams' comment and application
// segments of the crafted files; no byte of it may reach the export.
const markerName = "DOE^JOHN^IN^A^MARKER"

// encapsulatedCorpus lists the corpus files (MANIFEST.json) whose pixel data
// are JPEG, JPEG-LS or JPEG 2000 code streams, with the segments to insert
// after each first frame's start marker.
func encapsulatedCorpus(t *testing.T) map[string][]byte {
	t.Helper()
	entries := corpustest.Manifest(t, filepath.Join(corpusFiles, ".."))
	seg := func(marker byte, payload string) []byte {
		if len(payload)%2 == 1 {
			payload += " " // even, so that fragments stay even
		}
		s := []byte{0xFF, marker}
		s = binary.BigEndian.AppendUint16(s, uint16(2+len(payload)))
		return append(s, payload...)
	}
	// JPEG: a COM, an APP1 (as EXIF would be) and an APP13 segment. JPEG
	// 2000: a COM marker segment (Rcom 1, Latin-1 text) after SIZ.
	jpegText := append(append(seg(0xFE, markerName), seg(0xE1, "Exif\x00\x00"+markerName)...), seg(0xED, "Photoshop 3.0\x00"+markerName)...)
	j2kText := seg(0x64, "\x00\x01"+markerName)
	out := map[string][]byte{}
	for _, f := range entries {
		if f.Broken {
			continue
		}
		switch f.DICOM.TransferSyntaxUID {
		case dataset.JPEG2000Lossless, dataset.JPEG2000, dataset.HTJ2KLossless, dataset.HTJ2KLosslessRPCL, dataset.HTJ2K:
			out[filepath.Base(f.File)] = j2kText
		default:
			if codeStreamSyntax(f.DICOM.TransferSyntaxUID) {
				out[filepath.Base(f.File)] = jpegText
			}
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d JPEG and JPEG 2000 corpus files", len(out))
	}
	return out
}

// insertSegments writes a copy of a corpus file with text segments inserted
// into its first fragment (after SOI; or after SOC and SIZ and again after the
// first SOT), fixing that
// fragment's item length and the Basic Offset Table entries after it. It
// works on the file's bytes with the parser's offsets only, apart from the
// export code.
func insertSegments(t *testing.T, src, dst string, text []byte) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	f, err := dataset.ParseBytes(append([]byte(nil), b...), src)
	if err != nil {
		t.Fatal(err)
	}
	px := f.Pixel
	if px == nil || !px.Encapsulated || len(px.Fragments) == 0 || f.DataSet.Get(dataset.ExtendedOffsetTable) != nil {
		t.Fatalf("%s: not encapsulated as expected", src)
	}
	fr := px.Fragments[0]
	at := fr.Offset + 2 // after SOI
	if b[fr.Offset+1] == 0x4F {
		at = fr.Offset + 4 + int64(binary.BigEndian.Uint16(b[fr.Offset+4:])) // after SOC and SIZ (its length counts itself)
	}
	var nb []byte
	nb = append(nb, b[:at]...)
	nb = append(nb, text...)
	added := len(text)
	if b[fr.Offset+1] == 0x4F {
		// And into the first tile-part header, after SOT, whose tile-part
		// length (Psot) then grows by as much.
		sot := at
		for !(b[sot] == 0xFF && b[sot+1] == 0x90) {
			sot += 2 + int64(binary.BigEndian.Uint16(b[sot+2:]))
		}
		nb = append(nb, b[at:sot+12]...)
		if psot := binary.BigEndian.Uint32(b[sot+6:]); psot != 0 {
			binary.BigEndian.PutUint32(nb[len(nb)-6:], psot+uint32(len(text)))
		}
		nb = append(nb, text...)
		at = sot + 12
		added += len(text)
	}
	nb = append(nb, b[at:]...)
	binary.LittleEndian.PutUint32(nb[fr.Offset-4:], uint32(fr.Length)+uint32(added))
	// The Basic Offset Table lies just before the first fragment's item.
	bot := fr.Offset - 8 - 4*int64(len(px.OffsetTable))
	for i, o := range px.OffsetTable {
		if i > 0 {
			binary.LittleEndian.PutUint32(nb[bot+4*int64(i):], o+uint32(added))
		}
	}
	if err := os.WriteFile(dst, nb, 0o644); err != nil {
		t.Fatal(err)
	}
}

// decodeAll decodes every frame of a file with the viewer's decoders.
func decodeAll(t *testing.T, path string) [][]byte {
	t.Helper()
	out, err := tryDecodeAll(path)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func tryDecodeAll(path string) ([][]byte, error) {
	im, err := viewer.Open(path)
	if err != nil {
		return nil, err
	}
	defer im.Close()
	var out [][]byte
	for n := 0; n < im.NumFrames(); n++ {
		fr, err := im.Frame(n)
		if err != nil {
			return nil, err
		}
		out = append(out, append([]byte(nil), fr.Bytes()...))
	}
	return out, nil
}

// TestDeidentifyStripsCodeStreamText puts a patient name into COM and APPn
// segments (JPEG, JPEG-LS) or a COM marker segment (JPEG 2000) of every such
// corpus file: the de-identified export holds the name nowhere in its bytes,
// and every frame decodes to exactly the pixels of the original.
func TestDeidentifyStripsCodeStreamText(t *testing.T) {
	need(t)
	for name, text := range encapsulatedCorpus(t) {
		t.Run(name, func(t *testing.T) {
			src := filepath.Join(corpusFiles, name)
			crafted := filepath.Join(t.TempDir(), name)
			insertSegments(t, src, crafted, text)
			raw, _ := os.ReadFile(crafted)
			if !bytes.Contains(raw, []byte(markerName)) {
				t.Fatal("crafted file lacks the name")
			}
			want := decodeAll(t, src)
			if got := decodeAll(t, crafted); !equalFrames(got, want) {
				t.Fatal("the crafted file does not decode as the original")
			}
			c := openCache(t, crafted)
			studies, err := c.Studies()
			if err != nil || len(studies) != 1 {
				t.Fatalf("studies: %v %d", err, len(studies))
			}
			var buf bytes.Buffer
			x := &Exporter{Cache: c, Deidentify: true, Options: Options{IncludeBurnedIn: true}}
			sum, err := x.WriteZip(&buf, []string{studies[0].StudyInstanceUID})
			if err != nil || sum.Instances != 1 {
				t.Fatalf("export: %v, %d files, failed %v", err, sum.Instances, sum.Failed)
			}
			dir := unzip(t, buf.Bytes())
			out := filepath.Join(dir, filepath.Join(sum.Records[0].FileID...))
			err = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
				if err != nil || fi.IsDir() {
					return err
				}
				b, err := os.ReadFile(p)
				if bytes.Contains(bytes.ToUpper(b), []byte(markerName)) {
					t.Errorf("%s holds the name", strings.TrimPrefix(p, dir))
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := decodeAll(t, out); !equalFrames(got, want) {
				t.Error("exported frames do not decode to the original pixels")
			}
		})
	}
}

// codeStreamSyntax reports whether a transfer syntax's frames are JPEG,
// JPEG-LS or JPEG 2000 code streams (PS3.5 A.4), which can carry text.
func codeStreamSyntax(ts string) bool {
	switch ts {
	case dataset.JPEGBaseline, dataset.JPEGExtended, dataset.JPEGLossless, dataset.JPEGLosslessSV1,
		dataset.JPEGLSLossless, dataset.JPEGLSNearLossless,
		dataset.JPEG2000Lossless, dataset.JPEG2000, dataset.HTJ2KLossless, dataset.HTJ2KLosslessRPCL, dataset.HTJ2K:
		return true
	}
	return false
}

func equalFrames(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// TestDeidentifyUnreadableCodeStream breaks a JPEG frame's SOI marker: the
// instance is not exported (its text could not be removed), it is counted as
// failed, and the reason does not name the cached file, whose name is the
// original SOP Instance UID.
func TestDeidentifyUnreadableCodeStream(t *testing.T) {
	need(t)
	src := filepath.Join(corpusFiles, "sc_jpeg_baseline_mono8.dcm")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	f, err := dataset.ParseBytes(append([]byte(nil), b...), src)
	if err != nil || f.Pixel == nil || len(f.Pixel.Fragments) != 1 {
		t.Fatalf("%s: want one fragment (%v)", src, err)
	}
	sop := f.String(dataset.SOPInstanceUID)
	b[f.Pixel.Fragments[0].Offset], b[f.Pixel.Fragments[0].Offset+1] = 0, 0
	p := filepath.Join(t.TempDir(), "broken.dcm")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	c := openCache(t, p)
	studies, _ := c.Studies()
	if len(studies) != 1 {
		t.Fatalf("%d studies", len(studies))
	}
	x := &Exporter{Cache: c, Deidentify: true, Options: Options{IncludeBurnedIn: true}}
	sum, err := x.WriteZip(io.Discard, []string{studies[0].StudyInstanceUID})
	if !errors.Is(err, ErrNothingToExport) || len(sum.Failed) != 1 {
		t.Fatalf("export: %v, %d files, failed %v", err, sum.Instances, sum.Failed)
	}
	if why := sum.Failed[0].Reason; !strings.Contains(why, "unreadable code stream") || strings.Contains(why, sop) {
		t.Errorf("reason %q", why)
	}
}
