package app

import (
	"strings"
	"testing"

	"teleread/viewer/dataset"
)

// TestOverlayMarksLossyImages opens a JPEG baseline study (a lossy syntax in
// PS3.5) and an uncompressed one from the samples: the first's overlay says
// LOSSY in the study's corner, as a warning; the second's says nothing of it.
func TestOverlayMarksLossyImages(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct {
		modality, syntax string
		lossy            bool
	}{
		{"XA", dataset.JPEGBaseline, true},
		{"PT", dataset.ExplicitVRLittleEndian, false},
	} {
		if h.ws.onViewer {
			h.ws.showWorklist()
		}
		vp := h.openStudyWith(c.modality)
		if vp.last.image == nil {
			t.Fatalf("%s: nothing on screen (%v)", c.modality, vp.last.err)
		}
		if ts := vp.last.image.TransferSyntax; ts != c.syntax {
			t.Fatalf("%s: the sample on screen is %s, this test expects %s", c.modality, ts, c.syntax)
		}
		var found bool
		for _, l := range overlayLines(vp)[1] {
			if strings.HasPrefix(l.text, "LOSSY") {
				found = true
				if !l.warn {
					t.Errorf("%s: %q is not shown as a warning", c.modality, l.text)
				}
			}
		}
		if found != c.lossy {
			t.Errorf("%s (%s): LOSSY in the overlay %v, want %v; overlay %v", c.modality, c.syntax, found, c.lossy, overlayLines(vp))
		}
	}
}
