package signin

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"teleread/sync/oidctest"
)

// secretServiceEnv marks the test process that runs inside a private D-Bus
// session with gnome-keyring's Secret Service.
const secretServiceEnv = "TELEREAD_TEST_SECRET_SERVICE"

// inSecretService runs the calling test again in a child process inside a
// private D-Bus session (dbus-run-session) where gnome-keyring-daemon serves
// the Secret Service with a new login keyring in a temporary home, unlocked
// with a password on stdin. It returns true in the child, where the test
// goes on; in the parent it reports the child's result and returns false.
// The developer's own keyring is never touched. Under CI=true a missing
// dbus-run-session or gnome-keyring-daemon fails the test.
func inSecretService(t *testing.T) bool {
	t.Helper()
	if os.Getenv(secretServiceEnv) == "1" {
		return true
	}
	for _, tool := range []string{"dbus-run-session", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s: %v (Debian packages dbus-daemon and gnome-keyring)", tool, err)
			}
			t.Skipf("%s: %v", tool, err)
		}
	}
	dir := t.TempDir()
	script := `printf 'teleread test keyring' | gnome-keyring-daemon --unlock --components=secrets >/dev/null || exit 97
exec "$@"`
	cmd := exec.Command("dbus-run-session", "--", "sh", "-c", script, "sh",
		os.Args[0], "-test.run", "^"+t.Name()+"$", "-test.count=1", "-test.v")
	// XDG_DATA_DIRS without /usr/share keeps D-Bus from activating a second
	// keyring daemon, one whose unlock prompt nobody would answer.
	cmd.Env = []string{secretServiceEnv + "=1", "HOME=" + dir, "XDG_DATA_HOME=" + filepath.Join(dir, "data"),
		"XDG_DATA_DIRS=" + filepath.Join(dir, "none")}
	for _, kv := range os.Environ() {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "HOME", "XDG_DATA_HOME", "XDG_DATA_DIRS", "XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS":
		default:
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("%s inside dbus-run-session with gnome-keyring: %v\n%s", t.Name(), err, out)
	}
	return false
}

// TestKeyringSession: with a Secret Service, the session goes to the
// keyring (no sealed file is written), a new session object finds it there,
// the refresh token is in no file of the home in clear (the keyring's own
// file included), and sign-out removes it from the keyring.
func TestKeyringSession(t *testing.T) {
	if !inSecretService(t) {
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
