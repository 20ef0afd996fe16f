package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"teleread/sync/orthanctest"
)

// seedArchive uploads corpus studies to a private Orthanc and assigns copies of
// them: five to Reader^A (dates after the originals, so each original is a prior
// of the same patient) and three to Reader^B. It returns A's and B's study UIDs.
func seedArchive(t *testing.T, srv *orthanctest.Server) (a, b []string) {
	t.Helper()
	files := []string{"ct_small_explicit_le.dcm", "mr_small_explicit_le.dcm", "ct2_jpeg_lossless_sv1.dcm",
		"us_cine_jpeg_ybr422_30f.dcm", "mr_prostate_tcia_rescale.dcm", "pet_tcia_icon.dcm"}
	var originals []string
	for _, f := range files {
		if _, err := srv.UploadFile(filepath.Join(corpusDir, "files", f)); err != nil {
			t.Fatal(err)
		}
		var info struct{ StudyInstanceUID string }
		r := teleread(t, t.TempDir(), "info", "--json", filepath.Join(corpusDir, "files", f))
		json.Unmarshal([]byte(r.stdout), &info)
		originals = append(originals, info.StudyInstanceUID)
	}
	for i := range 5 {
		uid, err := srv.CopyStudy(originals[i], map[string]string{"NameOfPhysiciansReadingStudy": "Reader^A", "StudyDate": "20260101"})
		if err != nil {
			t.Fatal(err)
		}
		a = append(a, uid)
	}
	for _, i := range []int{0, 5, 5} {
		uid, err := srv.CopyStudy(originals[i], map[string]string{"NameOfPhysiciansReadingStudy": "Reader^B", "StudyDate": "20260102"})
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, uid)
	}
	return a, b
}

// TestSyncOnceCLI: `sync --once` as Reader^A leaves exactly A's studies and their
// priors in the cache, byte-identical to what the archive stores; offline, it
// says so and exits non-zero while the cached studies still render.
func TestSyncOnceCLI(t *testing.T) {
	requireCorpus(t)
	srv := orthanctest.New(t, orthanctest.Options{})
	a, b := seedArchive(t, srv)
	home := t.TempDir()
	r := teleread(t, home, "sync", "--once", "--archive", srv.DICOMwebURL, "--reader", "Reader^A", "--priors", "1")
	if r.code != 0 {
		t.Fatalf("sync --once: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	var studies []struct {
		StudyInstanceUID  string
		NumberOfInstances int
	}
	json.Unmarshal([]byte(teleread(t, home, "studies", "--json").stdout), &studies)
	got := map[string]bool{}
	for _, s := range studies {
		got[s.StudyInstanceUID] = true
	}
	for _, uid := range a {
		if !got[uid] {
			t.Errorf("assigned study %s missing", uid)
		}
	}
	for _, uid := range b {
		if got[uid] {
			t.Errorf("Reader^B's study %s fetched", uid)
		}
	}
	if len(studies) != 10 { // five assigned, five priors (the originals)
		t.Errorf("%d studies in the cache, want 10", len(studies))
	}
	// Byte-identical to the archive's stored files.
	filepath.WalkDir(filepath.Join(home, "files"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		local, _ := os.ReadFile(p)
		sop := strings.TrimSuffix(filepath.Base(p), ".dcm")
		body, err := srv.Post("/tools/lookup", []byte(sop))
		if err != nil {
			t.Fatal(err)
		}
		var ids []struct{ ID, Type string }
		json.Unmarshal(body, &ids)
		sort.Slice(ids, func(i, j int) bool { return ids[i].Type < ids[j].Type })
		for _, id := range ids {
			if id.Type != "Instance" {
				continue
			}
			remote, err := srv.InstanceFile(id.ID)
			if err != nil {
				t.Fatal(err)
			}
			if sha(local) != sha(remote) {
				t.Errorf("%s differs from the archive's copy", sop)
			}
		}
		return nil
	})
	if v := teleread(t, home, "verify"); v.code != 0 {
		t.Errorf("verify: %s", v.stdout)
	}

	srv.Kill()
	off := teleread(t, home, "sync", "--once", "--archive", srv.DICOMwebURL, "--reader", "Reader^A")
	if off.code == 0 || !strings.Contains(off.stderr, "OFFLINE") {
		t.Errorf("offline sync: exit %d, stderr %q", off.code, off.stderr)
	}
	var inst []string
	filepath.WalkDir(filepath.Join(home, "files"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			inst = append(inst, p)
		}
		return nil
	})
	if len(inst) == 0 {
		t.Fatal("no cached files")
	}
	out := filepath.Join(t.TempDir(), "x.png")
	if rr := teleread(t, home, "render", inst[0], "-o", out); rr.code != 0 {
		t.Errorf("render while offline: %s", rr.stderr)
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
