package signin

import (
	"errors"
	"os"
	"testing"

	"teleread/cache/cachetest"
	"teleread/sync/oidctest"
)

// TestKeyringSession: with a Secret Service, the session goes to the
// keyring (no sealed file is written), a new session object finds it there,
// the refresh token is in no file of the home in clear (the keyring's own
// file included), and sign-out removes it from the keyring.
func TestKeyringSession(t *testing.T) {
	if !cachetest.InSecretService(t) {
		return
	}
	p := oidctest.New(t, oidctest.Options{})
	dir := t.TempDir()
	s := newSession(t, p, dir)
	if _, err := s.Login(ctx(t), reader.Open); err != nil {
		t.Fatal(err)
	}
	if _, err := (KeyringStore{}).Load(s.id); err != nil {
		t.Fatalf("the session is not in the keyring: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a sealed file was written although the keyring took the session")
	}
	again := newSession(t, p, t.TempDir())
	if st, err := again.Status(); err != nil || st.Identity.Subject != "reader" {
		t.Errorf("a new session does not find the keyring's: %+v, %v", st, err)
	}
	assertNotInClear(t, s.rec.RefreshToken, os.Getenv("HOME"))
	if _, err := s.Logout(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := (KeyringStore{}).Load(s.id); !errors.Is(err, ErrNoRecord) {
		t.Errorf("after sign-out the keyring still answers: %v", err)
	}
}
