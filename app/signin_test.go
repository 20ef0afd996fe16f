package app

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"teleread/cache"
	tsync "teleread/sync"
	"teleread/sync/config"
	"teleread/sync/oidctest"
	"teleread/sync/orthanctest"
	"teleread/sync/signin"
)

// TestAppSignInSyncs: with a configuration naming an archive behind an
// OpenID provider (a real Orthanc behind a guard that wants the provider's
// access tokens), the app says it is not signed in; Sign in opens the
// browser (here a client that fills in the provider's login page), after
// which the app names the user and the token's expiry and syncs the
// reader's study from that archive; no token is on disk in clear; Sign out
// revokes the session at the provider.
func TestAppSignInSyncs(t *testing.T) {
	const reader = "Doe^Jane"
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus")) // the sealed store
	srv := orthanctest.New(t, orthanctest.Options{})
	src := filepath.Join(samplesDir(t), "ct_small_explicit_le.dcm")
	srv.MustUploadFiles(t, src)
	assigned, err := srv.CopyStudy(studyUIDOf(t, src), map[string]string{"NameOfPhysiciansReadingStudy": reader, "StudyDate": "20261127"})
	if err != nil {
		t.Fatal(err)
	}
	p := oidctest.New(t, oidctest.Options{})
	guard := p.Guard(t, srv.URL)
	cfgDir := t.TempDir()
	path := filepath.Join(cfgDir, "config.json")
	raw, _ := json.Marshal(map[string]any{"archive": guard.URL + "/dicom-web", "reader": reader,
		"oauth2": map[string]any{"issuer": p.Issuer, "client_id": p.ClientID}})
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TELEREAD_CONFIG", path)
	opened := 0
	old := signin.OpenBrowser
	signin.OpenBrowser = func(u string) error {
		opened++
		return oidctest.Browser{User: "reader", Password: "reader-pass"}.Open(u)
	}
	defer func() { signin.OpenBrowser = old }()

	home := t.TempDir()
	c, err := cache.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	q := &uiQueue{}
	oldUI := ui
	ui = q.push
	defer func() { ui = oldUI }()
	a := test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	cfg := Config{Cache: c, Home: home, Preferences: a.Preferences(), SamplesDir: samplesDir(t), SyncInterval: time.Hour}
	if err := cfg.defaults(); err != nil {
		t.Fatal(err)
	}
	ws, err := newWorkstation(cfg, a, w)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.close()
	ws.startSync()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: never; status %q", what, ws.status.message.Text)
			}
			q.runPending()
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("the status bar asks to sign in", func() bool { return strings.Contains(ws.status.message.Text, "Sign in") })

	ws.showSettings() // the panel has its place there
	waitFor("Settings show the sign-in panel", func() bool { return ws.signIn != nil })
	panel := ws.signIn
	// The stored session is read off the UI goroutine.
	waitFor("the panel says who is signed in", func() bool { return !strings.Contains(panel.status.Text, "Reading") })
	if !strings.Contains(panel.status.Text, "Not signed in") {
		t.Errorf("before sign-in the panel says %q", panel.status.Text)
	}
	test.Tap(panel.signIn)
	waitFor("the panel names the user", func() bool { return strings.Contains(panel.status.Text, "Ann Reader") })
	if !strings.Contains(panel.status.Text, "expires") || opened != 1 {
		t.Errorf("after sign-in: %q, browser opened %d times", panel.status.Text, opened)
	}
	waitFor("the assigned study is ready", func() bool {
		for _, r := range ws.worklist.view.All {
			if r.UID == assigned && r.State == tsync.StateReady {
				return true
			}
		}
		return false
	})
	if guard.Accepted() == 0 {
		t.Errorf("no request reached the archive with a token")
	}
	secrets := append(p.RefreshTokens(), guard.AcceptedTokens()...)
	for _, dir := range []string{home, cfgDir} {
		filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return nil
			}
			b, _ := os.ReadFile(path)
			for _, s := range secrets {
				if bytes.Contains(b, []byte(s)) {
					t.Errorf("%s holds a token in clear", path)
				}
			}
			return nil
		})
	}

	test.Tap(panel.signOut)
	waitFor("the panel says signed out", func() bool { return strings.Contains(panel.status.Text, "Not signed in") })
	if len(p.Revoked()) != 1 {
		t.Errorf("sign-out revoked %d tokens at the provider, want 1", len(p.Revoked()))
	}
}

// TestSettingsIssuerTakesEffect: Settings switch a running app from an
// archive with a password to one behind an OpenID provider (issuer, client ID
// and scopes typed into the form). On Save the file names the issuer, client
// and scopes; the app at once says it is not signed in to that issuer, and a
// sign-in from Settings' panel syncs the reader's study from the new archive,
// without a restart.
func TestSettingsIssuerTakesEffect(t *testing.T) {
	useMemKeyring(t)
	const reader = "Doe^Jane"
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus")) // the sealed store
	srv1, first, path := configuredArchive(t, reader, "ct_small_explicit_le.dcm")
	srv2 := orthanctest.New(t, orthanctest.Options{})
	src := filepath.Join(samplesDir(t), "mr_small_explicit_le.dcm")
	srv2.MustUploadFiles(t, src)
	second, err := srv2.CopyStudy(studyUIDOf(t, src), map[string]string{"NameOfPhysiciansReadingStudy": reader, "StudyDate": "20261127"})
	if err != nil {
		t.Fatal(err)
	}
	p := oidctest.New(t, oidctest.Options{})
	guard := p.Guard(t, srv2.URL)
	old := signin.OpenBrowser
	signin.OpenBrowser = oidctest.Browser{User: "reader", Password: "reader-pass"}.Open
	defer func() { signin.OpenBrowser = old }()
	t.Setenv("TELEREAD_CONFIG", path)
	la := startLiveApp(t, t.TempDir())
	la.waitRow(t, first, srv1.DICOMwebURL)

	base, err := config.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f := newSettingsForm(base)
	f.url.SetText(guard.URL + "/dicom-web")
	f.auth.SetSelected("oauth2")
	f.issuer.SetText(p.Issuer)
	f.clientID.SetText(p.ClientID)
	f.scopes.SetText("openid profile offline_access")
	conf, err := f.apply(base)
	if err != nil {
		t.Fatal(err)
	}
	la.ws.saveSettings(path, conf)
	la.waitFor(t, "the status bar asks to sign in to the new archive", func() bool {
		return strings.Contains(la.ws.status.message.Text, "Sign in")
	})
	saved, err := config.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if o := saved.OAuth2; o == nil || o.Issuer != p.Issuer || o.ClientID != p.ClientID || strings.Join(o.Scopes, " ") != "openid profile offline_access" {
		t.Fatalf("the file's oauth2 after Save: %+v", saved.OAuth2)
	}

	la.ws.showSettings()
	la.waitFor(t, "Settings show the new issuer's sign-in panel", func() bool {
		return la.ws.signIn != nil && la.ws.signIn.s.Issuer() == p.Issuer
	})
	test.Tap(la.ws.signIn.signIn)
	la.waitRow(t, second, guard.URL+"/dicom-web")
	if guard.Accepted() == 0 {
		t.Errorf("no request reached the new archive with a token")
	}
}
