package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"teleread/cache"
	"teleread/cache/cachetest"
)

// TestFirstRunKeyring: the first run on a desktop session with a keyring
// (here a private D-Bus session with gnome-keyring) works out of the box: the
// app, with no TELEREAD_KEYSTORE, no TELEREAD_PASSPHRASE and no terminal,
// puts the new cache's master key in the keyring, asks nothing, imports the
// sample studies; and the commands run beside it read the cache with the key
// from the keyring.
func TestFirstRunKeyring(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no DISPLAY: run under xvfb-run")
		}
		t.Skip("no DISPLAY")
	}
	if !cachetest.InSecretService(t) {
		return
	}
	t.Setenv(cache.EnvKeystore, "")
	t.Setenv(cache.EnvPassphrase, "")
	samples, err := filepath.Abs(filepath.Join("..", "..", "testdata", "samples"))
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	app := exec.Command(binPath, "--home", home, "app", "--samples", samples, "--no-demo")
	app.Env = append(os.Environ(), "TELEREAD_CONFIG="+filepath.Join(t.TempDir(), "none.json"), "LANG=en_US.UTF-8")
	log := filepath.Join(t.TempDir(), "app.log")
	out, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	app.Stdout, app.Stderr = out, out
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { app.Process.Kill(); app.Wait() }()
	exited := make(chan struct{})
	go func() { app.Process.Wait(); close(exited) }()

	deadline := time.Now().Add(2 * time.Minute)
	for {
		var studies []struct{ StudyInstanceUID string }
		r := teleread(t, home, "studies", "--json")
		json.Unmarshal([]byte(r.stdout), &studies)
		if r.code == 0 && len(studies) > 0 {
			break
		}
		select {
		case <-exited:
			b, _ := os.ReadFile(log)
			t.Fatalf("the app ended on its first run:\n%s", b)
		default:
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(log)
			t.Fatalf("no sample study in the cache after 2 minutes (studies: %d %s)\n%s", r.code, r.stderr, b)
		}
		time.Sleep(500 * time.Millisecond)
	}
	var st struct {
		Keystore string `json:"keystore"`
		Unlocks  bool   `json:"unlocks"`
	}
	r := teleread(t, home, "keys", "status", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.Keystore != cache.KeystoreKeyring || !st.Unlocks {
		t.Fatalf("keys status after the first run: %+v %v\n%s%s", st, err, r.stdout, r.stderr)
	}
}
