package cache

import (
	"path/filepath"
	"testing"
	"time"

	"teleread/cache/report"
)

// TestEvictNeverTakesUnreportedWork fills a cache with three studies: one on the
// worklist, one with a draft, one read long ago. Evicting to zero bytes may only
// remove the last.
func TestEvictNeverTakesUnreportedWork(t *testing.T) {
	c := openTemp(t)
	var uids []string
	for _, name := range []string{"ct_small_explicit_le.dcm", "mr_small_explicit_le.dcm", "us_cine_jpeg_ybr422_30f.dcm", "cr_mono1_chest_nometa.dcm"} {
		res, err := c.ImportFile(filepath.Join(corpusDir, "files", name))
		if err != nil {
			t.Fatal(err)
		}
		uids = append(uids, res.StudyInstanceUID)
	}
	if err := c.PutWorkItem(uids[0], "A", "assigned", "", 2, nil); err != nil {
		t.Fatal(err)
	}
	draft := report.NewDraft(report.KindReport, uids[1], report.Observer{Name: "A"}, report.Template{}, time.Now())
	if err := c.SaveDraft(draft); err != nil {
		t.Fatal(err)
	}
	signed := report.NewDraft(report.KindReport, uids[3], report.Observer{Name: "A"}, report.Template{}, time.Now())
	signed.Edit(report.Sections{Findings: "x"})
	if _, err := c.SignReport(signed, time.Now()); err != nil {
		t.Fatal(err)
	}
	c.MarkRead(uids[2])

	ev, err := c.Evict(0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) != 1 || ev[0].StudyInstanceUID != uids[2] {
		t.Fatalf("evicted %+v, want only %s", ev, uids[2])
	}
	if probs, _ := c.Verify(); len(probs) != 0 {
		t.Fatalf("verify after evict: %v", probs)
	}
	// Delivered: the signed study may now go.
	c.MarkDelivered(func() string { it, _ := c.Outbox(); return it[0].SOPInstanceUID }(), time.Now())
	ev, _ = c.Evict(0)
	if len(ev) != 1 || ev[0].StudyInstanceUID != uids[3] {
		t.Fatalf("after delivery evicted %+v, want %s", ev, uids[3])
	}
}

func TestWorklistState(t *testing.T) {
	c := openTemp(t)
	c.PutWorkItem("1.2.3", "A", "assigned", "", 0, map[string]string{"PatientName": "Doe^J"})
	c.PutWorkItem("1.2.4", "A", "assigned", "", 2, nil)
	c.PutWorkItem("1.2.2", "A", "prior", "1.2.3", 2, nil)
	if err := c.SetStudyState("1.2.3", "downloading", 3, 10, ""); err != nil {
		t.Fatal(err)
	}
	w, _ := c.WorkItemByUID("1.2.3")
	since := w.StateSince
	c.SetStudyState("1.2.3", "downloading", 4, 10, "")
	w, _ = c.WorkItemByUID("1.2.3")
	if w.StateSince != since || w.Done != 4 {
		t.Errorf("progress changed the state time or lost progress: %+v", w)
	}
	c.UnassignOthers("A", []string{"1.2.4"})
	list, _ := c.Worklist()
	if len(list) != 1 || list[0].StudyInstanceUID != "1.2.4" {
		t.Fatalf("after unassign: %+v", list)
	}
	// Assigned again: back on the list with its progress kept.
	c.PutWorkItem("1.2.3", "A", "assigned", "", 0, nil)
	list, _ = c.Worklist()
	if len(list) != 2 || list[0].StudyInstanceUID != "1.2.3" {
		t.Fatalf("STAT study not first: %+v", list)
	}
}

// TestConsultNoteStaysLocal: a consultation note on a study from a CD or zip has
// no archive to go to; one on a study pulled from the archive is delivered.
func TestConsultNoteStaysLocal(t *testing.T) {
	for _, tt := range []struct {
		source, want string
	}{{"shared", OutboxLocal}, {"archive", OutboxPending}} {
		c := openTemp(t)
		res, err := c.ImportFile(filepath.Join(corpusDir, "files", "ct_small_explicit_le.dcm"))
		if err != nil {
			t.Fatal(err)
		}
		c.SetSource(res.StudyInstanceUID, tt.source)
		r := report.NewDraft(report.KindConsult, res.StudyInstanceUID, report.Observer{Name: "Consultant^C"}, report.Template{}, time.Now())
		r.Edit(report.Sections{Findings: "Agree with the primary read."})
		if _, err := c.SignReport(r, time.Now()); err != nil {
			t.Fatal(err)
		}
		items, _ := c.Outbox()
		if len(items) != 1 || items[0].State != tt.want {
			t.Errorf("source %s: outbox %+v, want state %s", tt.source, items, tt.want)
		}
	}
}

// TestSetWorklistArchive: the worklist rows survive reopening on the same
// archive and are dropped for another one, or for a first record on a cache
// whose rows came from an archive it never recorded; the cached study stays.
func TestSetWorklistArchive(t *testing.T) {
	const a, b = "https://a.example.org/dicom-web", "https://b.example.org/dicom-web"
	tests := []struct {
		name     string
		before   string // archive recorded first ("" none)
		now      string
		wantKept bool
	}{
		{"same archive", a, a, true},
		{"another archive", a, b, false},
		{"from the demo archive", "demo", a, false},
		{"unrecorded", "", a, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := openTemp(t)
			res, err := c.ImportFile(filepath.Join(corpusDir, "files", "ct_small_explicit_le.dcm"))
			if err != nil {
				t.Fatal(err)
			}
			uid := res.StudyInstanceUID
			if tc.before != "" {
				if _, err := c.SetWorklistArchive(tc.before); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.PutWorkItem(uid, "A", "assigned", "", 2, nil); err != nil {
				t.Fatal(err)
			}
			dropped, err := c.SetWorklistArchive(tc.now)
			if err != nil {
				t.Fatal(err)
			}
			_, werr := c.WorkItemByUID(uid)
			if kept := werr == nil; kept != tc.wantKept || (len(dropped) == 0) != tc.wantKept {
				t.Errorf("row kept %v (dropped %v); want kept %v", kept, dropped, tc.wantKept)
			}
			if n, err := c.StudyInstanceCount(uid); err != nil || n == 0 {
				t.Errorf("the cached study went with its row: %d instances, %v", n, err)
			}
		})
	}
}
