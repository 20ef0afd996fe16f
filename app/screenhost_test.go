package app

import (
	"context"
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/test"

	"teleread/app/internal/reading"
	"teleread/cache"
	"teleread/cache/report"
	tsync "teleread/sync"
)

// fakeScreenHost is all the viewer screen needs around it (screenHost).
type fakeScreenHost struct {
	win   fyne.Window
	notes []string
	tool  tool
	src   sliceSource
}

func (h *fakeScreenHost) window() fyne.Window       { return h.win }
func (h *fakeScreenHost) note(msg string)           { h.notes = append(h.notes, msg) }
func (h *fakeScreenHost) reportSigned()             {}
func (h *fakeScreenHost) focusViewer()              {}
func (h *fakeScreenHost) signer() report.Observer   { return report.Observer{Name: "Doe^Jane"} }
func (h *fakeScreenHost) showModal(d dialog.Dialog) { d.Show() }
func (h *fakeScreenHost) updateStatus()             {}
func (h *fakeScreenHost) showWorklist()             {}
func (h *fakeScreenHost) showTags()                 {}
func (h *fakeScreenHost) showHelp()                 {}
func (h *fakeScreenHost) activeTool() tool          { return h.tool }
func (h *fakeScreenHost) useTool(t tool)            { h.tool = t }
func (h *fakeScreenHost) typedKey(*fyne.KeyEvent)   {}
func (h *fakeScreenHost) typedRune(rune)            {}
func (h *fakeScreenHost) sliceSource() sliceSource  { return h.src }

// listingSource lists a series as the archive would: the cached instances
// and two more after them.
type listingSource struct{ listed []reading.Listed }

func (s listingSource) listInstances(context.Context, string, string) ([]reading.Listed, error) {
	return s.listed, nil
}

func (s listingSource) fetchInstance(context.Context, string, string, string) error {
	return tsync.ErrOffline
}

// TestViewerScreenOnFakeHost builds the viewer screen without a workstation:
// a study the cache holds part of opens on its first image, the archive's
// listing (from the host's slice source) adds the slices not cached after
// it without moving the reader, and the toolbar's tool goes to the host.
func TestViewerScreenOnFakeHost(t *testing.T) {
	q := &uiQueue{}
	old := ui
	ui = q.push
	t.Cleanup(func() { ui = old })
	test.NewTempApp(t)
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if n, err := ImportSamplesIfEmpty(c, samplesDir(t)); err != nil && n == 0 {
		t.Fatal(err)
	}
	studies, err := c.Studies()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(studies, func(s cache.Study) bool { return slices.Contains(s.ModalitiesInStudy, "CT") })
	if i < 0 {
		t.Fatal("no CT study among the samples")
	}
	st := studies[i]
	// The archive counts two more instances than the cache holds.
	if err := c.PutWorkItem(st.StudyInstanceUID, "Doe^Jane", "assigned", "", tsync.PriorityRoutine, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.SetStudyState(st.StudyInstanceUID, tsync.StateDownloading, st.NumberOfInstances, st.NumberOfInstances+2, ""); err != nil {
		t.Fatal(err)
	}
	stacks, err := loadStacks(c, st.StudyInstanceUID)
	if err != nil || len(stacks) == 0 {
		t.Fatalf("stacks: %v", err)
	}
	var listed []reading.Listed
	for _, it := range stacks[0].Items {
		listed = append(listed, reading.Listed{SOP: it.SOP, Instance: it.Instance})
	}
	listed = append(listed, reading.Listed{SOP: "1.2.826.0.1.3680043.10.1107.16.91", Instance: 9001},
		reading.Listed{SOP: "1.2.826.0.1.3680043.10.1107.16.92", Instance: 9002})

	host := &fakeScreenHost{win: test.NewTempWindow(t, nil), src: listingSource{listed}}
	s := newViewerScreen(host, c, time.Now, nil, &Metrics{})
	t.Cleanup(s.close)
	o := readStudy(c, st.StudyInstanceUID, s.report.readReport)
	if o.err != nil {
		t.Fatal(o.err)
	}
	s.open(o)
	vp := s.viewports[0]
	cached, sop := len(vp.st.Items), vp.st.Items[0].SOP
	for deadline := time.Now().Add(10 * time.Second); vp.st.CountMissing() == 0 && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		q.runPending()
	}
	if got := vp.st.CountMissing(); got != 2 || len(vp.st.Items) != cached+2 {
		t.Fatalf("after the listing: %d images, %d missing; want %d, 2 missing", len(vp.st.Items), got, cached+2)
	}
	if vp.index != 0 || vp.st.Items[0].SOP != sop || !vp.st.Items[len(vp.st.Items)-1].Missing {
		t.Errorf("after the listing the reader is on %d (%s); want 0 (%s), the missing slices after it", vp.index, vp.st.Items[vp.index].SOP, sop)
	}

	s.toolSel.SetSelectedIndex(int(toolAngle))
	if host.tool != toolAngle || vp.host.activeTool() != toolAngle {
		t.Errorf("the toolbar chose %v; the host has %v", toolAngle, host.tool)
	}
}
