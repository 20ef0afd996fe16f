package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	gosync "sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"teleread/cache"
	"teleread/sync/orthanctest"
)

// stowCounter is the archive seen through a proxy that counts STOW-RS
// requests per study (the study UID is in the request's path) and can hold a
// STOW-RS answer after the archive has stored what was sent. Orthanc keeps
// one copy of a SOP Instance however often it is sent, so the archive's
// content alone cannot show a report sent twice: the count can.
type stowCounter struct {
	URL string // DICOMweb root through the proxy

	mu    gosync.Mutex
	stows map[string]int

	hold    atomic.Bool
	posted  chan struct{}
	release chan struct{}
}

func newStowCounter(t *testing.T, srv *orthanctest.Server) *stowCounter {
	t.Helper()
	s := &stowCounter{stows: map[string]int{}, posted: make(chan struct{}, 8), release: make(chan struct{})}
	target, _ := url.Parse(srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(r *http.Response) error {
		if r.Request.Method != http.MethodPost {
			return nil
		}
		s.mu.Lock()
		s.stows[strings.TrimPrefix(r.Request.URL.Path, "/dicom-web/studies/")]++
		s.mu.Unlock()
		if s.hold.Load() {
			s.posted <- struct{}{}
			<-s.release
		}
		return nil
	}
	front := httptest.NewServer(proxy)
	t.Cleanup(func() {
		s.letGo()
		front.Close()
	})
	s.URL = front.URL + "/dicom-web"
	return s
}

// letGo releases held answers, once.
func (s *stowCounter) letGo() {
	select {
	case <-s.release:
	default:
		close(s.release)
	}
}

func (s *stowCounter) counts() (total int, per map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	per = map[string]int{}
	for k, v := range s.stows {
		per[k] = v
		total += v
	}
	return total, per
}

// outboxRows lists the outbox (rows as in consult_test.go), however many.
func outboxRows(t *testing.T, home string) []outboxRow {
	t.Helper()
	var items []outboxRow
	r := teleread(t, home, "outbox", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &items); err != nil && strings.TrimSpace(r.stdout) != "null" {
		t.Fatalf("outbox --json: %v %q", err, r.stdout)
	}
	return items
}

// archiveSRs counts the SR instances the archive holds in a study.
func archiveSRs(t *testing.T, srv *orthanctest.Server, study string) int {
	t.Helper()
	body, err := srv.Get("/dicom-web/studies/" + study + "/instances?Modality=SR")
	var srs []any
	if err == nil && len(body) > 0 {
		json.Unmarshal(body, &srs)
	}
	return len(srs)
}

// TestOutboxSurvivesOutageAndKills signs three reports while the archive is
// down, then kills Teleread twice while it delivers them: once right after a
// STOW-RS request was answered and before the outbox row was marked (through
// the stall seam), once while the STOW-RS answer is held by the proxy after
// the archive stored the SR. `sync --once` then delivers the rest: every
// report is marked delivered, the archive holds exactly one SR per study, and
// each SR was sent exactly once: the two interrupted sends are found by
// look-up, not sent again.
func TestOutboxSurvivesOutageAndKills(t *testing.T) {
	requireCorpus(t)
	srv := orthanctest.New(t, orthanctest.Options{})
	files := []string{"ct_small_explicit_le.dcm", "mr_small_explicit_le.dcm", "us_cine_jpeg_ybr422_30f.dcm"}
	home := t.TempDir()
	var studies []string
	for _, f := range files {
		p := filepath.Join(corpusDir, "files", f)
		if _, err := srv.UploadFile(p); err != nil {
			t.Fatal(err)
		}
		teleread(t, home, "import", p)
		var info struct{ StudyInstanceUID string }
		json.Unmarshal([]byte(teleread(t, home, "info", "--json", p).stdout), &info)
		studies = append(studies, info.StudyInstanceUID)
	}
	archive := newStowCounter(t, srv)

	srv.Kill()
	for _, uid := range studies {
		if r := teleread(t, home, "report", "--study", uid, "--findings", "No change.", "--impression", "Stable.", "--sign"); r.code != 0 {
			t.Fatalf("sign while the archive is down: %s", r.stderr)
		}
	}
	if r := teleread(t, home, "outbox", "--send", "--archive", archive.URL); r.code != 0 {
		t.Fatalf("outbox --send while offline: exit %d %s", r.code, r.stderr)
	}
	if n, _ := archive.counts(); n != 0 {
		t.Fatalf("%d STOW-RS requests reached the proxy while the archive was down", n)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}

	// Kill 1: the archive stored the first report and answered; Teleread
	// dies before marking the row.
	killAt(t, home, cache.StepOutboxSent, "outbox", "--send", "--archive", archive.URL)
	total, per := archive.counts()
	first := ""
	for _, it := range outboxRows(t, home) {
		if it.State == cache.OutboxSending {
			first = it.StudyInstanceUID
		}
	}
	if total != 1 || first == "" || per[first] != 1 || archiveSRs(t, srv, first) != 1 {
		t.Fatalf("after the first kill: %d STOW-RS requests %v, row left sending in study %q: want one request, for the row left sending, stored", total, per, first)
	}

	// Kill 2: the next report's answer is held after the archive stored it.
	archive.hold.Store(true)
	cmd := exec.Command(binPath, "--home", home, "outbox", "--send", "--archive", archive.URL)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-archive.posted:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("no STOW-RS request within 60 s")
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	archive.hold.Store(false)
	archive.letGo()

	r := teleread(t, home, "sync", "--once", "--archive", archive.URL, "--reader", "Nobody^Here")
	if r.code != 0 {
		t.Fatalf("sync --once: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	items := outboxRows(t, home)
	if len(items) != 3 {
		t.Fatalf("outbox has %d rows, want 3", len(items))
	}
	for _, it := range items {
		if it.State != cache.OutboxDelivered {
			t.Errorf("%s: %s, want delivered", it.StudyInstanceUID, it.State)
		}
	}
	total, per = archive.counts()
	for _, uid := range studies {
		if n := archiveSRs(t, srv, uid); n != 1 {
			t.Errorf("study %s: %d SR instances in the archive, want exactly 1", uid, n)
		}
		if per[uid] != 1 {
			t.Errorf("study %s: its report was sent %d times, want exactly once", uid, per[uid])
		}
	}
	if total != 3 {
		t.Errorf("%d STOW-RS requests in all (%v), want 3", total, per)
	}
}
