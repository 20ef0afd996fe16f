package app

import (
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"teleread/cache"
)

// TestOpenStudiesAtStart: the app started by `teleread open` shows the study
// it opened, not the worklist, and records the opening in the audit trail;
// started without, it shows the worklist.
func TestOpenStudiesAtStart(t *testing.T) {
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := ImportSamplesIfEmpty(c, samplesDir(t)); err != nil {
		t.Fatal(err)
	}
	studies, err := c.Studies()
	if err != nil || len(studies) < 2 {
		t.Fatalf("%d sample studies (%v), want two or more", len(studies), err)
	}
	q := &uiQueue{}
	old := ui
	ui = q.push
	defer func() { ui = old }()
	start := func(t *testing.T, open []string) *workstation {
		a := test.NewTempApp(t)
		cfg := Config{Cache: c, Preferences: a.Preferences(), OpenStudies: open, Now: func() time.Time { return time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC) }}
		if err := cfg.defaults(); err != nil {
			t.Fatal(err)
		}
		ws, err := newWorkstation(cfg, a, test.NewTempWindow(t, nil))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(ws.close)
		settleWorklist(t, ws, q)
		return ws
	}

	ws := start(t, nil)
	if ws.onViewer {
		t.Fatalf("started without studies to open, the viewer shows %s", ws.viewer.study.StudyInstanceUID)
	}
	// Not the study the worklist lists first: the one asked for.
	want := ws.worklist.view.Rows[len(ws.worklist.view.Rows)-1].UID
	ws = start(t, []string{want})
	settleOpen(t, ws, q)
	if !ws.onViewer || ws.viewer.study.StudyInstanceUID != want {
		t.Fatalf("viewer shown %v, study %s; want %s", ws.onViewer, ws.viewer.study.StudyInstanceUID, want)
	}
	// Showing a study is an access to patient data: it is in the audit trail.
	evs, err := cache.ReadAudit(c.Home(), time.Time{})
	var opened []string
	for _, e := range evs {
		if e.Action == cache.AuditOpen {
			opened = append(opened, e.Study)
		}
	}
	if err != nil || len(opened) != 1 || opened[0] != want {
		t.Errorf("audited opens %q (%v), want [%s]", opened, err, want)
	}
}
