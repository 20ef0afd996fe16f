package viewer

import (
	"path/filepath"
	"testing"

	"teleread/viewer/dataset"
)

// TestLossyCorpusSyntaxes sweeps the corpus: every file whose transfer syntax
// PS3.5 lists as lossy (JPEG baseline and extended, JPEG-LS near-lossless,
// JPEG 2000 that may be irreversible) is lossy; the lossless ones (native,
// deflated, RLE, JPEG lossless, JPEG-LS and JPEG 2000 lossless) are not marked
// for their syntax.
func TestLossyCorpusSyntaxes(t *testing.T) {
	lossy := map[string]bool{
		"1.2.840.10008.1.2.4.50": true,
		"1.2.840.10008.1.2.4.51": true,
		"1.2.840.10008.1.2.4.81": true,
		"1.2.840.10008.1.2.4.91": true,
	}
	lossless := map[string]bool{
		"1.2.840.10008.1.2": true, "1.2.840.10008.1.2.1": true, "1.2.840.10008.1.2.1.99": true,
		"1.2.840.10008.1.2.2": true, "1.2.840.10008.1.2.5": true, "1.2.840.10008.1.2.4.57": true,
		"1.2.840.10008.1.2.4.70": true, "1.2.840.10008.1.2.4.80": true, "1.2.840.10008.1.2.4.90": true,
		"": true, // no meta header: a native encoding
	}
	dir := goldenCorpusDir(t)
	seen := map[bool]int{}
	for _, e := range loadManifest(t, dir) {
		ts := e.DICOM.TransferSyntaxUID
		if !lossy[ts] && !lossless[ts] {
			t.Errorf("%s: transfer syntax %s is in neither list of this test", e.ID, ts)
			continue
		}
		f, err := dataset.Open(filepath.Join(dir, e.File))
		if err != nil {
			if !e.Broken {
				t.Errorf("%s: %v", e.ID, err)
			}
			continue
		}
		m := Lossy(f)
		f.Close()
		if m.Syntax != lossy[ts] {
			t.Errorf("%s (%s): Syntax %v, want %v", e.ID, ts, m.Syntax, lossy[ts])
		}
		if lossy[ts] && (!m.Lossy || m.String() == "") {
			t.Errorf("%s (%s): not marked LOSSY (%+v)", e.ID, ts, m)
		}
		seen[lossy[ts]]++
	}
	if seen[true] == 0 || seen[false] == 0 {
		t.Errorf("corpus had %d lossy and %d lossless files; want both", seen[true], seen[false])
	}
}

// TestLossyMarkText covers the header's own flag and the overlay's text. The
// expectations are the files' Lossy Image Compression attributes as dcmdump
// shows them.
func TestLossyMarkText(t *testing.T) {
	dir := goldenCorpusDir(t)
	for _, c := range []struct{ file, want string }{
		// Stored uncompressed, but once JPEG-compressed: stays lossy.
		{"sc_ybr_full_uncompressed.dcm", "LOSSY 21.521:1 ISO_10918_1"},
		{"sc_jpeg_baseline_mono8.dcm", "LOSSY 17.401:1 ISO_10918_1"},
		{"sc_jpeg_rgb_app14.dcm", "LOSSY ISO_10918_1"},
		{"ct2_jpegls_near_lossless.dcm", "LOSSY 10:1"},
		{"cr_rg1_j2k_lossy_mono1_large.dcm", "LOSSY 10:1"},
		// Lossless, with (0028,2110) "00" or without it.
		{"ct2_jpeg_lossless_sv1.dcm", ""},
		{"dx_j2k_lossless_16bit.dcm", ""},
		{"mr_prostate_tcia_rescale.dcm", ""},
	} {
		f, err := dataset.Open(filepath.Join(dir, "files", c.file))
		if err != nil {
			t.Errorf("%s: %v", c.file, err)
			continue
		}
		got := Lossy(f).String()
		f.Close()
		if got != c.want {
			t.Errorf("%s: overlay text %q, want %q", c.file, got, c.want)
		}
	}
	if got := Lossy(nil).String(); got != "" {
		t.Errorf("no file: %q, want none", got)
	}
}
