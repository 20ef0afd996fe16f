//go:build ignore

// mklegacy writes a cache as Teleread at 8ab1c38 writes it (index in clear).
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"teleread/cache"
	"teleread/cache/report"
	"teleread/viewer/dataset"
)

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func fields(path string) (string, map[string]string) {
	f, err := dataset.Open(path)
	must(err)
	defer f.Close()
	return f.String(dataset.StudyInstanceUID), map[string]string{
		"PatientID": f.Text(dataset.PatientID), "PatientName": f.Text(dataset.PatientName),
		"StudyDate": f.String(dataset.StudyDate), "ModalitiesInStudy": f.String(dataset.Modality),
		"StudyDescription": f.Text(dataset.StudyDescription), "AccessionNumber": f.Text(dataset.AccessionNumber),
	}
}

func main() {
	home, corpus := os.Args[1], os.Args[2]
	c, err := cache.Open(home)
	must(err)
	file := func(n string) string { return filepath.Join(corpus, n) }
	// The oldest study is evicted below: its rows leave plain bytes in free space.
	for _, n := range []string{"seg_binary_multiframe.dcm", "mr_overlay_two_windows.dcm", "brmulti_enhanced_mr_nema.dcm", "mr_prostate_tcia_rescale.dcm"} {
		_, err := c.ImportFile(file(n))
		must(err)
		time.Sleep(10 * time.Millisecond)
	}
	assigned, f := fields(file("mr_overlay_two_windows.dcm"))
	must(c.PutWorkItem(assigned, "Reader^A", "assigned", "", 0, f))
	must(c.SetStudyState(assigned, "ready", 1, 1, ""))
	prior, f := fields(file("brmulti_enhanced_mr_nema.dcm"))
	must(c.PutWorkItem(prior, "Reader^A", "prior", assigned, 0, f))
	must(c.SetStudyState(prior, "ready", 1, 1, ""))
	waiting, f := fields(file("ct_small_explicit_le.dcm"))
	must(c.PutWorkItem(waiting, "Reader^A", "assigned", "", 2, f))

	now := time.Now()
	obs := report.Observer{Name: "Reader^A"}
	r := report.NewDraft(report.KindReport, assigned, obs, report.Template{}, now)
	must(r.Edit(report.Sections{Findings: "Legacy signed finding: overlay shows a lesion", Impression: "Legacy impression"}))
	must(c.SaveDraft(r))
	doc, err := c.SignReport(r, now)
	must(err)
	must(c.MarkDelivered(doc.SOPInstanceUID, now))
	d := report.NewDraft(report.KindReport, prior, obs, report.Template{}, now)
	must(d.Edit(report.Sections{Findings: "Legacy draft finding: stacked brain"}))
	must(c.SaveDraft(d))
	prostate, _ := fields(file("mr_prostate_tcia_rescale.dcm"))
	cn := report.NewDraft(report.KindConsult, prostate, obs, report.Template{}, now)
	must(cn.Edit(report.Sections{Findings: "Legacy consult note: prostate"}))
	must(c.SaveDraft(cn))
	_, err = c.SignReport(cn, now)
	must(err)

	// What a long session leaves: most pages checkpointed into index.db,
	// the latest changes in the WAL.
	_, err = c.DB().Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	must(err)
	d.Sections.Findings += " (edited)"
	must(c.SaveDraft(d))
	var total int64
	must(c.DB().QueryRow(`SELECT SUM(size) FROM instances`).Scan(&total))
	ev, err := c.Evict(total - 1)
	must(err)
	fmt.Println("evicted", ev)
	// Exit without Close: the WAL keeps its frames, as after a crash or while
	// the app runs.
	os.Exit(0)
}
