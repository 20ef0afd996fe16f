package cache

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"teleread/cache/cachetest"
	"teleread/cache/report"
)

// importStudies imports corpus files, one study each, and returns their
// Study Instance UIDs.
func importStudies(t *testing.T, c *Cache, names ...string) []string {
	t.Helper()
	var uids []string
	for _, name := range names {
		res, err := c.ImportFile(filepath.Join(corpusDir, "files", name))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				missing(t, err)
			}
			t.Fatal(err)
		}
		uids = append(uids, res.StudyInstanceUID)
	}
	return uids
}

// studyFiles returns the absolute paths of a study's files.
func studyFiles(t *testing.T, c *Cache, uid string) []string {
	t.Helper()
	insts, err := c.StudyInstances(uid)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, in := range insts {
		out = append(out, in.Path)
	}
	return out
}

func countRows(t *testing.T, c *Cache, q string, args ...any) int {
	t.Helper()
	var n int
	if err := c.db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// sign signs a report of kind on uid and returns its SR's SOP Instance UID.
func sign(t *testing.T, c *Cache, kind report.Kind, uid string) string {
	t.Helper()
	r := report.NewDraft(kind, uid, report.Observer{Name: "Reader^A"}, report.Template{}, time.Now())
	r.Edit(report.Sections{Findings: "No acute finding."})
	doc, err := c.SignReport(r, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return doc.SOPInstanceUID
}

// assertGone checks that nothing of a purged study is left: no index row
// naming it (its patient included, when they had no other study), no file,
// and a purge line in the audit trail.
func assertGone(t *testing.T, c *Cache, uid string, files []string) {
	t.Helper()
	for _, f := range files {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("file %s still there after the purge (%v)", f, err)
		}
	}
	for _, tbl := range []string{"studies", "series", "worklist", "reports", "outbox", "workitem_claims", "purges"} {
		if n := countRows(t, c, `SELECT COUNT(*) FROM `+tbl+` WHERE study_uid = ?`, uid); n != 0 {
			t.Errorf("%d rows of %s left in %s", n, uid, tbl)
		}
	}
	if n := countRows(t, c, `SELECT COUNT(*) FROM patients WHERE id NOT IN (SELECT patient_pk FROM studies)`); n != 0 {
		t.Errorf("%d patient rows left without a study", n)
	}
	if _, err := c.StudyByUID(uid); !errors.Is(err, ErrNotFound) {
		t.Errorf("StudyByUID after purge: %v, want ErrNotFound", err)
	}
	evs, err := ReadAudit(c.Home(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range evs {
		if e.Action == AuditPurge && e.Study == uid {
			found = true
		}
	}
	if !found {
		t.Errorf("no purge event for %s in the audit trail", uid)
	}
	if probs, err := c.Verify(); err != nil || len(probs) != 0 {
		t.Errorf("verify after purge: %v %v", probs, err)
	}
}

// TestPurgeRefusesReportWork: a study with a draft, a signed report or
// addendum the archive has not confirmed, or a consultation note that was
// never sent is refused with the reason, naming the study and not the
// patient, and left whole; once every report is delivered the study is
// purged without a trace.
func TestPurgeRefusesReportWork(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, c *Cache, uid string)
		refuse  string // part of the reason; "" when the purge must succeed
	}{
		{"draft", func(t *testing.T, c *Cache, uid string) {
			d := report.NewDraft(report.KindReport, uid, report.Observer{Name: "Reader^A"}, report.Template{}, time.Now())
			if err := c.SaveDraft(d); err != nil {
				t.Fatal(err)
			}
		}, "draft"},
		{"consult draft", func(t *testing.T, c *Cache, uid string) {
			d := report.NewDraft(report.KindConsult, uid, report.Observer{Name: "Consultant^C"}, report.Template{}, time.Now())
			if err := c.SaveDraft(d); err != nil {
				t.Fatal(err)
			}
		}, "draft"},
		{"signed, pending", func(t *testing.T, c *Cache, uid string) { sign(t, c, report.KindReport, uid) }, "not yet delivered"},
		{"signed, failed", func(t *testing.T, c *Cache, uid string) {
			c.MarkFailed(sign(t, c, report.KindReport, uid), "refused")
		}, "not yet delivered"},
		{"signed, sending", func(t *testing.T, c *Cache, uid string) {
			c.MarkSending(sign(t, c, report.KindReport, uid))
		}, "not yet delivered"},
		{"consult note kept locally", func(t *testing.T, c *Cache, uid string) { sign(t, c, report.KindConsult, uid) }, "never sent"},
		{"delivered, addendum pending", func(t *testing.T, c *Cache, uid string) {
			sop := sign(t, c, report.KindReport, uid)
			c.MarkDelivered(sop, time.Now())
			r, err := c.LoadReport(uid, report.KindReport)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.AddAddendum(r, "Addendum.", report.Observer{Name: "Reader^A"}, time.Now()); err != nil {
				t.Fatal(err)
			}
		}, "not yet delivered"},
		{"no report", func(t *testing.T, c *Cache, uid string) {}, ""},
		{"delivered", func(t *testing.T, c *Cache, uid string) {
			c.MarkDelivered(sign(t, c, report.KindReport, uid), time.Now())
		}, ""},
		{"consult delivered", func(t *testing.T, c *Cache, uid string) {
			c.SetSource(uid, SourceArchive)
			c.MarkDelivered(sign(t, c, report.KindConsult, uid), time.Now())
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openTemp(t)
			uid := importStudies(t, c, "ct_small_explicit_le.dcm")[0]
			st, err := c.StudyByUID(uid)
			if err != nil {
				t.Fatal(err)
			}
			files := studyFiles(t, c, uid)
			key, err := c.StudyKey(uid)
			if err != nil {
				t.Fatal(err)
			}
			key = bytes.Clone(key)
			tt.prepare(t, c, uid)

			p, err := c.Purge(uid, "test")
			if tt.refuse != "" {
				var re *PurgeRefusedError
				if !errors.As(err, &re) || !errors.Is(err, ErrPurgeRefused) || re.Study != uid || !strings.Contains(re.Reason, tt.refuse) {
					t.Fatalf("purge: %v, want a refusal of %s about %q", err, uid, tt.refuse)
				}
				if strings.Contains(err.Error(), st.PatientName) || strings.Contains(err.Error(), st.PatientID) {
					t.Errorf("refusal %q names the patient", err)
				}
				if err := c.PurgeCheck(uid); !errors.Is(err, ErrPurgeRefused) {
					t.Errorf("PurgeCheck: %v, want the same refusal", err)
				}
				if got := studyFiles(t, c, uid); len(got) != len(files) {
					t.Errorf("refused purge left %d of %d instances indexed", len(got), len(files))
				}
				if probs, _ := c.Verify(); len(probs) != 0 {
					t.Errorf("refused purge left a cache that does not verify: %v", probs)
				}
				if n := countRows(t, c, `SELECT COUNT(*) FROM purges`); n != 0 {
					t.Errorf("refused purge left %d purges rows", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("purge: %v", err)
			}
			if p.StudyInstanceUID != uid || p.Files != len(files) || p.Bytes <= 0 {
				t.Errorf("purged %+v, want %d files of %s", p, len(files), uid)
			}
			assertGone(t, c, uid, files)
			// The study's data key is gone: asked for again, the study gets
			// a new one.
			if again, err := c.StudyKey(uid); err != nil || bytes.Equal(again, key) {
				t.Errorf("the study key after the purge: same as before %v (%v)", bytes.Equal(again, key), err)
			}
			if _, err := c.Purge(uid, "again"); !errors.Is(err, ErrNotFound) {
				t.Errorf("second purge: %v, want ErrNotFound", err)
			}
		})
	}
}

// TestPurgeKeepsSharedPatient: a patient's row goes with their last study
// only; another study of theirs stays whole and readable.
func TestPurgeKeepsSharedPatient(t *testing.T) {
	c := openTemp(t)
	src := filepath.Join(corpusDir, "files", "ct_small_explicit_le.dcm")
	if _, err := os.Stat(src); err != nil {
		missing(t, err)
	}
	dir := t.TempDir()
	paths, err := cachetest.MakeSeries(src, dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	// The second copy becomes a study of its own (a later visit of the same
	// patient): its study and series UIDs change, at the same length.
	b, err := os.ReadFile(paths[1])
	if err != nil {
		t.Fatal(err)
	}
	for _, uid := range []string{"1.3.6.1.4.1.5962.1.2.1.20040119072730.12322", "1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322"} {
		if !bytes.Contains(b, []byte(uid)) {
			t.Fatalf("%s does not hold %s", src, uid)
		}
		b = bytes.ReplaceAll(b, []byte(uid), []byte(uid[:len(uid)-1]+"9"))
	}
	if err := os.WriteFile(paths[1], b, 0o600); err != nil {
		t.Fatal(err)
	}
	var uids []string
	for _, p := range paths {
		res, err := c.ImportFile(p)
		if err != nil {
			t.Fatal(err)
		}
		uids = append(uids, res.StudyInstanceUID)
	}
	if uids[0] == uids[1] {
		t.Fatal("copies share a study")
	}
	st, _ := c.StudyByUID(uids[1])
	if _, err := c.Purge(uids[0], "test"); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, c, `SELECT COUNT(*) FROM patients`); n != 1 {
		t.Errorf("%d patient rows after purging one of two studies of one patient, want 1", n)
	}
	got, err := c.StudyByUID(uids[1])
	if err != nil || got.PatientName != st.PatientName || got.NumberOfInstances != 1 {
		t.Errorf("the other study after the purge: %+v %v", got, err)
	}
}

// TestRetention: only studies not accessed for the retention period, off
// the worklist and without report work left, are purged; opening, importing
// again or signing dates a study anew.
func TestRetention(t *testing.T) {
	c := openTemp(t)
	uids := importStudies(t, c, "ct_small_explicit_le.dcm", "mr_small_explicit_le.dcm", "us_cine_jpeg_ybr422_30f.dcm",
		"cr_mono1_chest_nometa.dcm", "nm1_jpeg_extended_fixed.dcm", "xa_cine_jpeg_baseline.dcm")
	old, reopened, onWorklist, delivered, draft, pending := uids[0], uids[1], uids[2], uids[3], uids[4], uids[5]
	if err := c.PutWorkItem(onWorklist, "A", "assigned", "", 2, nil); err != nil {
		t.Fatal(err)
	}
	c.MarkDelivered(sign(t, c, report.KindReport, delivered), time.Now())
	d := report.NewDraft(report.KindReport, draft, report.Observer{Name: "Reader^A"}, report.Template{}, time.Now())
	if err := c.SaveDraft(d); err != nil {
		t.Fatal(err)
	}
	sign(t, c, report.KindReport, pending)

	// Just imported: nothing has expired.
	if got, err := c.Retain(7, time.Now()); err != nil || len(got) != 0 {
		t.Fatalf("retention right after import purged %+v (%v)", got, err)
	}
	// Eight days pass without anyone touching them; then one is opened.
	eightDaysAgo := time.Now().Add(-8 * 24 * time.Hour).UTC().Format(time.RFC3339Nano)
	if _, err := c.db.Exec(`UPDATE studies SET last_access_at = ?`, eightDaysAgo); err != nil {
		t.Fatal(err)
	}
	if err := c.Audit(AuditOpen, reopened, "shown in the viewer"); err != nil {
		t.Fatal(err)
	}
	files := map[string][]string{}
	for _, uid := range uids {
		files[uid] = studyFiles(t, c, uid)
	}
	if got, err := c.Retain(0, time.Now()); err != nil || len(got) != 0 {
		t.Fatalf("retention_days 0 purged %+v (%v), want retention off", got, err)
	}
	got, err := c.Retain(7, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	purged := map[string]bool{}
	for _, p := range got {
		purged[p.StudyInstanceUID] = true
	}
	want := map[string]bool{old: true, delivered: true}
	for _, uid := range uids {
		if purged[uid] != want[uid] {
			t.Errorf("study %s purged %v, want %v", uid, purged[uid], want[uid])
		}
	}
	for uid := range want {
		assertGone(t, c, uid, files[uid])
	}
	for _, uid := range []string{reopened, onWorklist, draft, pending} {
		if len(studyFiles(t, c, uid)) == 0 {
			t.Errorf("study %s lost its instances", uid)
		}
	}
}

// TestPurgeResumedByOpen: a purge stopped after its first transaction (the
// process died) leaves a cache that opens and verifies without the study,
// and the next open finishes it: files removed, rows gone, audited.
func TestPurgeResumedByOpen(t *testing.T) {
	home := t.TempDir()
	c, err := Open(home)
	if err != nil {
		t.Fatal(err)
	}
	uids := importStudies(t, c, "ct_small_explicit_le.dcm", "mr_small_explicit_le.dcm")
	c.MarkDelivered(sign(t, c, report.KindReport, uids[0]), time.Now())
	files := studyFiles(t, c, uids[0])
	if _, _, err := c.markPurge(uids[0], "test"); err != nil {
		t.Fatal(err)
	}
	// What a crash right after the first step leaves: the study is out of
	// the index, its files still there.
	if list, _ := c.Studies(); len(list) != 1 || list[0].StudyInstanceUID != uids[1] {
		t.Fatalf("studies after the first step: %+v, want only the other study", list)
	}
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("the first step removed a file: %v", err)
		}
	}
	c.Close()

	c, err = Open(home)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	assertGone(t, c, uids[0], files)
	if got, err := c.Studies(); err != nil || len(got) != 1 {
		t.Errorf("studies after the resumed purge: %+v %v", got, err)
	}
}

// homeContains reports which of the values occur anywhere under home, byte for
// byte (grep -a -r).
func homeContains(t *testing.T, home string, values ...string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(home, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, v := range values {
			if v != "" && bytes.Contains(b, []byte(v)) {
				found = append(found, fmt.Sprintf("%q in %s", v, strings.TrimPrefix(p, home)))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestPurgeLeavesNoTrace: after a purge, the patient's name, ID and the
// accession number are nowhere under the home: not in a free page of
// index.db, not in its write-ahead log, not in a report or an SR of the
// outbox, not in the audit trail.
func TestPurgeLeavesNoTrace(t *testing.T) {
	c := openTemp(t)
	uids := importStudies(t, c, "ct_small_explicit_le.dcm", "us_cine_jpeg_ybr422_30f.dcm")
	st, err := c.StudyByUID(uids[0])
	if err != nil {
		t.Fatal(err)
	}
	c.MarkDelivered(sign(t, c, report.KindReport, uids[0]), time.Now())
	values := []string{st.PatientName, st.PatientID, st.AccessionNumber}
	t.Logf("before the purge: %v", homeContains(t, c.Home(), values...))
	if _, err := c.Purge(uids[0], "test"); err != nil {
		t.Fatal(err)
	}
	if found := homeContains(t, c.Home(), values...); len(found) != 0 {
		t.Errorf("after the purge the home still holds %v", found)
	}
}
