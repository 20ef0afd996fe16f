package cachetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// secretServiceEnv is set in the test process that runs inside a private
// D-Bus session with gnome-keyring's Secret Service (see InSecretService).
const secretServiceEnv = "TELEREAD_TEST_SECRET_SERVICE"

// InSecretService runs the calling test again in a child process inside a
// private D-Bus session (dbus-run-session) in which gnome-keyring-daemon
// serves the Secret Service with a new "login" keyring in a temporary home,
// created and unlocked with a password given on stdin. It returns true in
// that child, where the test goes on; in the parent it waits for the child,
// fails with its output if it failed, and returns false. The developer's own
// keyring is never touched: HOME and XDG_DATA_HOME point into the test's
// temporary directory. Under CI=true a missing dbus-run-session or
// gnome-keyring-daemon fails the test; elsewhere it skips.
func InSecretService(t *testing.T) bool {
	t.Helper()
	if os.Getenv(secretServiceEnv) == "1" {
		if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
			t.Fatal("no session bus in the Secret Service child")
		}
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
	// gnome-keyring-daemon daemonizes once the Secret Service is on the bus;
	// --unlock makes (or unlocks) the login keyring with the password on
	// stdin, so nothing prompts.
	script := `printf 'teleread test keyring' | gnome-keyring-daemon --unlock --components=secrets >/dev/null || exit 97
exec "$@"`
	cmd := exec.Command("dbus-run-session", "--", "sh", "-c", script, "sh",
		os.Args[0], "-test.run", "^"+t.Name()+"$", "-test.count=1", "-test.v")
	// XDG_DATA_DIRS without /usr/share keeps D-Bus from activating a
	// second keyring daemon (one without the unlocked keyring, whose unlock
	// prompt nobody would answer) before this one owns the bus name.
	cmd.Env = []string{secretServiceEnv + "=1", "HOME=" + dir, "XDG_DATA_HOME=" + filepath.Join(dir, "data"),
		"XDG_DATA_DIRS=" + filepath.Join(dir, "none")}
	// A test that builds a binary keeps Go's caches, which would otherwise
	// follow HOME to an empty folder.
	if out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOPATH").Output(); err == nil {
		if v := strings.Split(strings.TrimSpace(string(out)), "\n"); len(v) == 3 {
			cmd.Env = append(cmd.Env, "GOCACHE="+v[0], "GOMODCACHE="+v[1], "GOPATH="+v[2])
		}
	}
	for _, kv := range os.Environ() {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "HOME", "XDG_DATA_HOME", "XDG_DATA_DIRS", "XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS", "GOCACHE", "GOMODCACHE", "GOPATH":
		default:
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("%s inside dbus-run-session with gnome-keyring: %v\n%s", t.Name(), err, out)
	}
	t.Logf("inside dbus-run-session with gnome-keyring:\n%s", out)
	return false
}
