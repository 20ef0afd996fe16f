package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"teleread/sync/orthanctest"
)

// TestConsultNoteOnArchiveStudy: a study that `sync --once` retrieved is an
// archive study, so a consultation note signed on it goes through the outbox
// and reaches the archive exactly once; a note on a study opened for a second
// opinion stays local. (Synced studies used to be recorded as imports, and
// every consultation note stayed local.)
func TestConsultNoteOnArchiveStudy(t *testing.T) {
	requireCorpus(t)
	srv := orthanctest.New(t, orthanctest.Options{})
	ct := filepath.Join(corpusDir, "files", "ct_small_explicit_le.dcm")
	if _, err := srv.UploadFile(ct); err != nil {
		t.Fatal(err)
	}
	var info struct{ StudyInstanceUID string }
	json.Unmarshal([]byte(teleread(t, t.TempDir(), "info", "--json", ct).stdout), &info)
	assigned, err := srv.CopyStudy(info.StudyInstanceUID, map[string]string{"NameOfPhysiciansReadingStudy": "Reader^C", "StudyDate": "20260101"})
	if err != nil {
		t.Fatal(err)
	}

	home := t.TempDir()
	if r := teleread(t, home, "sync", "--once", "--archive", srv.DICOMwebURL, "--reader", "Reader^C", "--priors", "0"); r.code != 0 {
		t.Fatalf("sync --once: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	shared := filepath.Join(corpusDir, "files", "mr_small_explicit_le.dcm")
	if r := teleread(t, home, "open", "--no-app", shared); r.code != 0 {
		t.Fatalf("open: exit %d %s", r.code, r.stderr)
	}
	var mr struct{ StudyInstanceUID string }
	json.Unmarshal([]byte(teleread(t, home, "info", "--json", shared).stdout), &mr)

	var studies []struct{ StudyInstanceUID, Source string }
	json.Unmarshal([]byte(teleread(t, home, "studies", "--json").stdout), &studies)
	source := map[string]string{}
	for _, s := range studies {
		source[s.StudyInstanceUID] = s.Source
	}
	if source[assigned] != "archive" || source[mr.StudyInstanceUID] != "shared" {
		t.Fatalf("sources %v: want %s archive, %s shared", source, assigned, mr.StudyInstanceUID)
	}

	for _, uid := range []string{assigned, mr.StudyInstanceUID} {
		if r := teleread(t, home, "report", "--consult", "--study", uid, "--findings", "Agree with the report.", "--sign", "--reader", "Consultant^C"); r.code != 0 {
			t.Fatalf("sign consultation note on %s: exit %d %s", uid, r.code, r.stderr)
		}
	}
	want := map[string]string{assigned: "pending", mr.StudyInstanceUID: "local"}
	for _, it := range outboxItems(t, home) {
		if it.State != want[it.StudyInstanceUID] {
			t.Errorf("signed note on %s: %s, want %s", it.StudyInstanceUID, it.State, want[it.StudyInstanceUID])
		}
	}

	// Sent twice: delivered once.
	for range 2 {
		if r := teleread(t, home, "outbox", "--send", "--archive", srv.DICOMwebURL); r.code != 0 {
			t.Fatalf("outbox --send: exit %d %s %s", r.code, r.stdout, r.stderr)
		}
	}
	want[assigned] = "delivered"
	var sent string
	for _, it := range outboxItems(t, home) {
		if it.State != want[it.StudyInstanceUID] {
			t.Errorf("after --send, note on %s: %s, want %s", it.StudyInstanceUID, it.State, want[it.StudyInstanceUID])
		}
		if it.StudyInstanceUID == assigned {
			sent = it.SOPInstanceUID
		}
	}
	body, err := srv.Get("/dicom-web/studies/" + assigned + "/instances?Modality=SR&includefield=00080018")
	if err != nil {
		t.Fatal(err)
	}
	var srs []map[string]struct{ Value []string }
	json.Unmarshal(body, &srs)
	if len(srs) != 1 || len(srs[0]["00080018"].Value) != 1 || srs[0]["00080018"].Value[0] != sent {
		t.Errorf("archive holds %s for the study, want exactly the note %s", body, sent)
	}
}

type outboxRow struct{ SOPInstanceUID, StudyInstanceUID, State string }

func outboxItems(t *testing.T, home string) []outboxRow {
	t.Helper()
	var items []outboxRow
	r := teleread(t, home, "outbox", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &items); err != nil || len(items) != 2 {
		t.Fatalf("outbox --json: %d rows (%v): %s %s", len(items), err, r.stdout, r.stderr)
	}
	return items
}
