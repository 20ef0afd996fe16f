package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"teleread/cache/cachetest"
)

// TestSystemKeyring keeps a secret in the real system keyring: GNOME
// Keyring's Secret Service on a private D-Bus session (dbus-run-session),
// with its keyrings in a temporary home. The test runs itself again inside
// that session (cachetest.InSecretService).
func TestSystemKeyring(t *testing.T) {
	if !cachetest.InSecretService(t) {
		return
	}
	if Keyring != (systemKeyring{}) {
		t.Fatal("Keyring is not the system keyring")
	}
	path := filepath.Join(t.TempDir(), "config.json")
	c := Config{Archive: "https://pacs.example.org/dicom-web", Auth: "bearer", Token: "tok-in-the-keyring-7"}
	if err := Save(path, c); err != nil {
		t.Fatalf("Save with the system keyring: %v", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "tok-in-the-keyring-7") {
		t.Fatalf("the token is in the file:\n%s", b)
	}
	t.Setenv("TELEREAD_CONFIG", path)
	got, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if got.Token != "tok-in-the-keyring-7" {
		t.Fatalf("Load took %q from the keyring (%v)", got.Token, got.SecretError())
	}
	c.Token = ""
	if err := Save(path, c); err != nil {
		t.Fatal(err)
	}
	if _, err := Keyring.Get(c.SecretKey(SecretToken)); err == nil {
		t.Error("an emptied token is still in the keyring")
	}
}
