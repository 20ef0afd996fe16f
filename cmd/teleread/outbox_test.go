package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"teleread/sync/orthanctest"
)

// TestOutboxSurvivesOutageAndKills signs three reports while the archive is
// down, kills Teleread with SIGKILL once before sending starts and once while a
// STOW-RS request is in flight (the archive has stored the SR, the answer never
// reaches Teleread), brings the archive back and runs `sync --once`: exactly one
// SR per study in the archive, and the outbox shows all three delivered.
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

	// The archive is reached through a proxy that can hold a STOW-RS answer
	// after the archive has stored the SR.
	target, _ := url.Parse(srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var hold atomic.Bool
	posted := make(chan struct{}, 8)
	release := make(chan struct{})
	proxy.ModifyResponse = func(r *http.Response) error {
		if r.Request.Method == http.MethodPost && hold.Load() {
			posted <- struct{}{}
			<-release
		}
		return nil
	}
	front := httptest.NewServer(proxy)
	defer front.Close()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	archive := front.URL + "/dicom-web"

	srv.Kill()
	for _, uid := range studies {
		if r := teleread(t, home, "report", "--study", uid, "--findings", "No change.", "--impression", "Stable.", "--sign"); r.code != 0 {
			t.Fatalf("sign while the archive is down: %s", r.stderr)
		}
	}
	// Killed before sending starts.
	cmd := exec.Command(binPath, "--home", home, "outbox", "--send", "--archive", archive)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if r := teleread(t, home, "outbox", "--send", "--archive", archive); r.code != 0 {
		t.Fatalf("outbox --send while offline: exit %d %s", r.code, r.stderr)
	}

	// Archive back; killed while the first STOW-RS answer is held.
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	hold.Store(true)
	cmd = exec.Command(binPath, "--home", home, "outbox", "--send", "--archive", archive)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-posted:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("no STOW-RS request within 60 s")
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	hold.Store(false)
	close(release)

	r := teleread(t, home, "sync", "--once", "--archive", archive, "--reader", "Nobody^Here")
	if r.code != 0 {
		t.Fatalf("sync --once: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	var items []struct{ StudyInstanceUID, State string }
	json.Unmarshal([]byte(teleread(t, home, "outbox", "--json").stdout), &items)
	if len(items) != 3 {
		t.Fatalf("outbox has %d rows, want 3", len(items))
	}
	for _, it := range items {
		if it.State != "delivered" {
			t.Errorf("%s: %s, want delivered", it.StudyInstanceUID, it.State)
		}
	}
	for _, uid := range studies {
		body, err := srv.Get("/dicom-web/studies/" + uid + "/instances?Modality=SR")
		var srs []any
		if err == nil && len(body) > 0 {
			json.Unmarshal(body, &srs)
		}
		if len(srs) != 1 {
			t.Errorf("study %s: %d SR instances in the archive, want exactly 1 (%v)", uid, len(srs), err)
		}
	}
}
