package sync

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"teleread/cache"
	"teleread/cache/report"
	"teleread/sync/orthanctest"
)

// grepIndexFiles runs `grep -a -l -F` for each needle over home's index
// files and returns "FILE: NEEDLE" for each hit.
func grepIndexFiles(t *testing.T, home string, needles ...string) []string {
	t.Helper()
	_, err := exec.LookPath("grep")
	requireDependency(t, err)
	var files []string
	for _, f := range []string{"index.db", "index.db-wal", "index.db-shm"} {
		if _, err := os.Stat(filepath.Join(home, f)); err == nil {
			files = append(files, filepath.Join(home, f))
		}
	}
	var hits []string
	for _, n := range needles {
		out, err := exec.Command("grep", append([]string{"-a", "-l", "-F", "-e", n}, files...)...).Output()
		var ee *exec.ExitError
		if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) {
			t.Fatalf("grep %q: %v", n, err)
		}
		for _, f := range strings.Fields(string(out)) {
			hits = append(hits, filepath.Base(f)+": "+n)
		}
	}
	return hits
}

// TestSyncedStudyIndexedSealed pulls a study assigned on a real Orthanc, with
// its prior (found on the archive by Patient ID), signs a report and delivers
// it: the patient's name, ID, the accession numbers and the report's text are
// nowhere in clear in the index files, while the studies, the worklist, the
// prior found in the cache by the keyed hash of the Patient ID, and the
// delivered report read back right.
func TestSyncedStudyIndexedSealed(t *testing.T) {
	man := loadManifest(t)
	srv := orthanctest.New(t, orthanctest.Options{})
	// Identifying values of the file as dcmdump prints them.
	const name, pid, priorAcc, acc = "Sssssss^Jsssss", "021234567", "8000000000330109", "SEALED-ACC-0001"
	if _, err := srv.UploadFile(corpusPath(man["mr_overlay_two_windows"])); err != nil {
		t.Fatal(err)
	}
	const prior = "1.2.124.113532.10.122.1.203.20051130.122937.2950157" // the file's, as dcmdump prints it
	assigned, err := srv.CopyStudy(prior, map[string]string{"NameOfPhysiciansReadingStudy": "Reader^A", "StudyDate": "20260101",
		"AccessionNumber": acc})
	if err != nil {
		t.Fatal(err)
	}

	home := t.TempDir()
	c, err := cache.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	client := newTestClient(t, srv.DICOMwebURL, nil)
	p := &Puller{Client: client, Store: c, Reader: "Reader^A", Priors: PriorPolicy{Max: 1}}
	res, err := p.Pull(context.Background())
	if err != nil || len(res.Ready) != 2 {
		t.Fatalf("pull: %+v, %v", res, err)
	}
	text := "Sealed finding: T2 lesion unchanged"
	r := report.NewDraft(report.KindReport, assigned, report.Observer{Name: "Reader^A"}, report.Template{}, time.Now())
	if err := r.Edit(report.Sections{Findings: text}); err != nil {
		t.Fatal(err)
	}
	if err := c.SaveDraft(r); err != nil {
		t.Fatal(err)
	}
	needles := []string{name, pid, priorAcc, acc, text}
	if hits := grepIndexFiles(t, home, needles...); len(hits) > 0 {
		t.Errorf("in clear after the pull and a draft: %v", hits)
	}
	doc, err := c.SignReport(r, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	out := &Outbox{Cache: c, Client: client, IgnoreBackoff: true}
	if fr, err := out.Flush(context.Background()); err != nil || fr.Delivered != 1 {
		t.Fatalf("flush: %+v, %v", fr, err)
	}
	if hits := grepIndexFiles(t, home, needles...); len(hits) > 0 {
		t.Errorf("in clear after signing and delivering: %v", hits)
	}

	// What the reader sees is what the archive holds.
	st, err := c.StudyByUID(assigned)
	if err != nil || st.PatientName != name || st.PatientID != pid || st.AccessionNumber != acc {
		t.Errorf("assigned study: %+v, %v", st, err)
	}
	priors, err := c.StudiesOfPatient(st)
	if err != nil || len(priors) != 1 || priors[0].StudyInstanceUID != prior || priors[0].AccessionNumber != priorAcc {
		t.Errorf("studies of the patient: %+v, %v", priors, err)
	}
	wl, err := c.Worklist()
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string]cache.WorkItem{}
	for _, w := range wl {
		roles[w.Role] = w
	}
	if w := roles["assigned"]; w.StudyInstanceUID != assigned || w.PatientName != name || w.Accession != acc {
		t.Errorf("assigned row: %+v", w)
	}
	if w := roles["prior"]; w.StudyInstanceUID != prior || w.PriorOf != assigned || w.PatientID != pid {
		t.Errorf("prior row: %+v", w)
	}
	got, err := c.LoadReport(assigned, report.KindReport)
	if err != nil || got.Sections.Findings != text || got.Events[len(got.Events)-1].Kind != report.EventDelivered {
		t.Errorf("report after delivery: %+v, %v", got, err)
	}
	// The archive holds the SR the outbox sealed, byte for byte.
	obj, err := client.FindInstance(context.Background(), doc.SOPInstanceUID)
	if err != nil || obj == nil {
		t.Fatalf("SR %s on the archive: %v, %v", doc.SOPInstanceUID, obj, err)
	}
	var sent []byte
	if err := client.RetrieveInstance(context.Background(), assigned, obj.SeriesUID(), doc.SOPInstanceUID, func(part io.Reader) error {
		sent, err = io.ReadAll(part)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sent, doc.SR) {
		t.Errorf("the archive holds %d bytes for the SR, signed %d", len(sent), len(doc.SR))
	}
	c.Close()
	if hits := grepIndexFiles(t, home, needles...); len(hits) > 0 {
		t.Errorf("in clear after closing: %v", hits)
	}
}
