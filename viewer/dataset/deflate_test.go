package dataset

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestDeflatedValuesOutliveClose checks that a deflated file's values are
// its own: closing it gives the inflated data set back for reuse, and opening
// another deflated file (which reuses that memory; a copy of the corpus file
// with other values) must not change the values of the first, closed one;
// reading its pixels after Close is an error.
func TestDeflatedValuesOutliveClose(t *testing.T) {
	var path string
	for _, e := range loadManifest(t) {
		if e.ID == "image_deflate_sc" {
			path = filepath.Join(corpusDir, e.File)
		}
	}
	if path == "" {
		t.Fatal("image_deflate_sc is not in the corpus manifest")
	}
	first, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if first.TransferSyntax != DeflatedExplicitVRLittleEndian || first.Pixel == nil {
		t.Fatalf("transfer syntax %s, pixel data %v", first.TransferSyntax, first.Pixel)
	}
	snapshot := map[Tag][]byte{}
	for _, e := range first.Elements() {
		snapshot[e.Tag] = bytes.Clone(e.Value)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := first.ReadPixelRange(first.Pixel.Offset, 16); err == nil {
		t.Error("pixel read after Close succeeded")
	}
	second, err := Open(otherDeflated(t, path))
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if _, err := second.ReadPixelRange(second.Pixel.Offset, second.Pixel.Length); err != nil {
		t.Fatal(err)
	}
	for _, e := range first.Elements() {
		if !bytes.Equal(e.Value, snapshot[e.Tag]) {
			t.Errorf("element %s changed after Close and a second Open: %q, was %q", e.Tag, e.Value, snapshot[e.Tag])
		}
	}
	if bytes.Equal(second.Get(SOPInstanceUID).Value, snapshot[SOPInstanceUID]) {
		t.Errorf("the second file has the first one's SOP Instance UID %q", snapshot[SOPInstanceUID])
	}
}

// otherDeflated writes a copy of the deflated file at path whose data set has
// every '1' turned into a '2' (UIDs and numbers change, lengths do not).
func otherDeflated(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 144 || string(b[128:132]) != "DICM" {
		t.Fatal("no meta header")
	}
	start := 144 + int(binary.LittleEndian.Uint32(b[140:144]))
	ds, err := io.ReadAll(flate.NewReader(bytes.NewReader(b[start:])))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	out.Write(b[:start])
	zw, err := flate.NewWriter(&out, flate.DefaultCompression)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(bytes.ReplaceAll(ds, []byte("1"), []byte("2")))
	zw.Close()
	p := filepath.Join(t.TempDir(), "other.dcm")
	if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
