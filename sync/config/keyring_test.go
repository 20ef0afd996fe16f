package config

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemKeyring keeps a secret in the real system keyring: GNOME
// Keyring's Secret Service on a private D-Bus session (dbus-run-session),
// with its keyrings in a temporary home. The test runs itself again inside
// that session.
func TestSystemKeyring(t *testing.T) {
	if os.Getenv("TELEREAD_KEYRING_SESSION") == "" {
		for _, tool := range []string{"dbus-run-session", "gnome-keyring-daemon"} {
			if _, err := exec.LookPath(tool); err != nil {
				if os.Getenv("CI") == "true" {
					t.Fatalf("%s: %v (Debian packages dbus-daemon, gnome-keyring)", tool, err)
				}
				t.Skip(err)
			}
		}
		home := t.TempDir()
		cmd := exec.Command("dbus-run-session", "--", "sh", "-c",
			`printf test | gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec "$0" -test.run '^TestSystemKeyring$' -test.v`,
			os.Args[0])
		cmd.Env = append(os.Environ(), "TELEREAD_KEYRING_SESSION=1", "HOME="+home, "XDG_DATA_HOME="+filepath.Join(home, "data"),
			"XDG_RUNTIME_DIR="+home, "DBUS_SESSION_BUS_ADDRESS=")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestSystemKeyring") {
			t.Fatalf("in a keyring session: %v\n%s", err, out)
		}
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
