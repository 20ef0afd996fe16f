package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"teleread/sync/orthanctest"
)

// TestAppReadsConfiguredArchive runs the app binary with only TELEREAD_CONFIG
// naming a running Orthanc (and the sample studies at hand for a demo
// archive): the reader's studies arrive in the cache from that Orthanc, as
// `studies --json` lists them, and no demo archive is started.
func TestAppReadsConfiguredArchive(t *testing.T) {
	requireCorpus(t)
	if os.Getenv("DISPLAY") == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no DISPLAY: run under xvfb-run")
		}
		t.Skip("no DISPLAY")
	}
	srv := orthanctest.New(t, orthanctest.Options{})
	a, b := seedArchive(t, srv)
	conf := filepath.Join(t.TempDir(), "config.json")
	raw, _ := json.Marshal(map[string]string{"archive": srv.DICOMwebURL, "reader": "Reader^A"})
	if err := os.WriteFile(conf, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	samples, err := filepath.Abs(filepath.Join("..", "..", "testdata", "samples"))
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	app := exec.Command(binPath, "--home", home, "app", "--samples", samples, "--sync-interval", "2s")
	app.Env = append(os.Environ(), "TELEREAD_CONFIG="+conf, "HOME="+t.TempDir(), "LANG=en_US.UTF-8")
	out, err := os.Create(filepath.Join(t.TempDir(), "app.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	app.Stdout, app.Stderr = out, out
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { app.Process.Kill(); app.Wait() }()

	var got map[string]bool
	deadline := time.Now().Add(120 * time.Second)
	for {
		var studies []struct{ StudyInstanceUID string }
		json.Unmarshal([]byte(teleread(t, home, "studies", "--json").stdout), &studies)
		got = map[string]bool{}
		for _, s := range studies {
			got[s.StudyInstanceUID] = true
		}
		all := true
		for _, uid := range a {
			all = all && got[uid]
		}
		if all {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(out.Name())
			t.Fatalf("the app did not bring Reader^A's studies %v from the configured archive; cache holds %v\n%s", a, got, log)
		}
		time.Sleep(500 * time.Millisecond)
	}
	for _, uid := range b {
		if got[uid] {
			t.Errorf("Reader^B's study %s fetched", uid)
		}
	}
	if _, err := os.Stat(filepath.Join(home, "demo-archive")); !os.IsNotExist(err) {
		t.Errorf("a demo archive was started beside the configured one (%v)", err)
	}
}
