package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"

	"teleread/sync/orthanctest"
)

// TestWorklistPriorityCLI stores three studies assigned to one reader in a
// real Orthanc, with Requested Procedure Priority ROUTINE, HIGH and STAT and
// the STAT study the newest (an order by date alone would be the reverse):
// `sync --once` retrieves them STAT first, and `teleread worklist` lists
// them STAT, HIGH, ROUTINE with those priorities.
func TestWorklistPriorityCLI(t *testing.T) {
	requireCorpus(t)
	srv := orthanctest.New(t, orthanctest.Options{})
	if _, err := srv.UploadFile(filepath.Join(corpusDir, "files", "ct_small_explicit_le.dcm")); err != nil {
		t.Fatal(err)
	}
	const original = "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322"
	assigned := []struct {
		priority, date string
		want           int // the worklist's code: 0 STAT, 1 HIGH, 2 ROUTINE
	}{
		{"ROUTINE", "20260101", 2},
		{"HIGH", "20260102", 1},
		{"STAT", "20260103", 0},
	}
	var wantOrder []string // STAT first
	wantPriority := map[string]int{}
	for _, a := range assigned {
		uid, err := srv.CopyStudy(original, map[string]string{
			"NameOfPhysiciansReadingStudy": "Reader^P", "RequestedProcedurePriority": a.priority, "StudyDate": a.date,
		})
		if err != nil {
			t.Fatal(err)
		}
		wantOrder = append([]string{uid}, wantOrder...)
		wantPriority[uid] = a.want
	}

	// The archive through a proxy that records the order of study retrieves.
	var mu gosync.Mutex
	var retrieved []string
	target, _ := url.Parse(srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(r *http.Response) error {
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/related") {
			return nil
		}
		study, _, _ := strings.Cut(strings.TrimPrefix(r.Request.URL.Path, "/dicom-web/studies/"), "/")
		mu.Lock()
		if len(retrieved) == 0 || retrieved[len(retrieved)-1] != study {
			retrieved = append(retrieved, study)
		}
		mu.Unlock()
		return nil
	}
	front := httptest.NewServer(proxy)
	defer front.Close()

	home := t.TempDir()
	r := teleread(t, home, "sync", "--once", "--archive", front.URL+"/dicom-web", "--reader", "Reader^P", "--priors", "0")
	if r.code != 0 {
		t.Fatalf("sync --once: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	mu.Lock()
	if strings.Join(retrieved, " ") != strings.Join(wantOrder, " ") {
		t.Errorf("retrieved in the order\n%v\nwant STAT, HIGH, ROUTINE:\n%v", retrieved, wantOrder)
	}
	mu.Unlock()

	var items []struct {
		StudyInstanceUID string
		Priority         int
		Role             string
	}
	w := teleread(t, home, "worklist", "--json")
	if err := json.Unmarshal([]byte(w.stdout), &items); err != nil {
		t.Fatalf("worklist --json: %v %q %s", err, w.stdout, w.stderr)
	}
	var got []string
	for _, it := range items {
		got = append(got, it.StudyInstanceUID)
		if it.Priority != wantPriority[it.StudyInstanceUID] || it.Role != "assigned" {
			t.Errorf("%s: priority %d, role %s; want %d, assigned", it.StudyInstanceUID, it.Priority, it.Role, wantPriority[it.StudyInstanceUID])
		}
	}
	if strings.Join(got, " ") != strings.Join(wantOrder, " ") {
		t.Errorf("worklist lists\n%v\nwant STAT, HIGH, ROUTINE:\n%v", got, wantOrder)
	}
	text := teleread(t, home, "worklist").stdout
	if i, j, k := strings.Index(text, "STAT "), strings.Index(text, "HIGH "), strings.Index(text, "ROUTINE "); i < 0 || !(i < j && j < k) {
		t.Errorf("worklist text does not list STAT, HIGH, ROUTINE in that order:\n%s", text)
	}
}
