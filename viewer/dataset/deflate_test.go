package dataset

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
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

// TestInflate checks inflate against compress/flate (an independent inflater)
// on a stream larger than the first output buffer and than one input chunk,
// read from memory and from a reader; and that a stream cut short is
// ErrTruncated and one that breaks the format ErrMalformed.
func TestInflate(t *testing.T) {
	var plain bytes.Buffer
	for i := 0; plain.Len() < 3<<20; i++ {
		binary.Write(&plain, binary.LittleEndian, uint32(i*i>>7))
	}
	var z bytes.Buffer
	zw, err := flate.NewWriter(&z, flate.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(plain.Bytes())
	zw.Close()
	want, err := io.ReadAll(flate.NewReader(bytes.NewReader(z.Bytes())))
	if err != nil {
		t.Fatal(err)
	}
	stream := z.Bytes()
	const pad = 7 // the stream starts after some bytes, as after a meta header
	file := append(make([]byte, pad), stream...)
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"intact", file, nil},
		{"truncated", file[:pad+len(stream)/2], ErrTruncated},
		{"empty", file[:pad], ErrTruncated},
		{"reserved block type", append(append(make([]byte, pad), 0x07), stream[1:]...), ErrMalformed},
	} {
		for _, inMemory := range []bool{true, false} {
			var whole []byte
			if inMemory {
				whole = tc.in
			}
			got, release, err := inflate(bytes.NewReader(tc.in), whole, pad, int64(len(tc.in)))
			switch {
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Errorf("%s (in memory %v): got %v, want %v", tc.name, inMemory, err, tc.want)
			case tc.want == nil && err != nil:
				t.Errorf("%s (in memory %v): %v", tc.name, inMemory, err)
			case tc.want == nil && !bytes.Equal(got, want):
				t.Errorf("%s (in memory %v): %d bytes inflated differ from compress/flate's %d", tc.name, inMemory, len(got), len(want))
			}
			if release != nil {
				release()
			}
		}
	}
}
