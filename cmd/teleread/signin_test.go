package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"teleread/sync/oidctest"
	"teleread/sync/orthanctest"
)

// The test binary doubles as the system browser of the teleread binary under
// test: `teleread login` runs $BROWSER with the provider's URL, and this
// binary, started so, signs in on the provider's login page as the user
// named in the environment and follows the redirect back to teleread.
const envBrowser = "TELEREAD_TEST_BROWSER_USER"

func init() {
	user := os.Getenv(envBrowser)
	if user == "" || len(os.Args) < 2 {
		return
	}
	b := oidctest.Browser{User: user, Password: os.Getenv("TELEREAD_TEST_BROWSER_PASSWORD")}
	if err := b.Open(os.Args[len(os.Args)-1]); err != nil {
		os.Stderr.WriteString("test browser: " + err.Error() + "\n")
		os.Exit(1)
	}
	os.Exit(0)
}

// oidcRig is an archive behind an OpenID provider: a real Orthanc holding
// Reader^A's and Reader^B's studies, the guard in front of it that wants the
// provider's access tokens, and a configuration naming them.
type oidcRig struct {
	p       *oidctest.Provider
	guard   *oidctest.Guard
	a, b    []string
	home    string
	cfgDir  string // XDG_CONFIG_HOME, which holds config.json
	userDir string // HOME
	env     []string
}

func newOIDCRig(t *testing.T, opts oidctest.Options) *oidcRig {
	t.Helper()
	requireCorpus(t)
	srv := orthanctest.New(t, orthanctest.Options{})
	r := &oidcRig{p: oidctest.New(t, opts), home: t.TempDir(), cfgDir: t.TempDir(), userDir: t.TempDir()}
	r.a, r.b = seedArchive(t, srv)
	r.guard = r.p.Guard(t, srv.URL)
	conf := filepath.Join(r.cfgDir, "teleread", "config.json")
	os.MkdirAll(filepath.Dir(conf), 0o700)
	raw, _ := json.Marshal(map[string]any{"archive": r.guard.URL + "/dicom-web", "reader": "Reader^A",
		"oauth2": map[string]any{"issuer": r.p.Issuer, "client_id": r.p.ClientID}})
	if err := os.WriteFile(conf, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r.env = append(os.Environ(), "TELEREAD_CONFIG="+conf, "XDG_CONFIG_HOME="+r.cfgDir, "HOME="+r.userDir,
		// No Secret Service here: the session goes to the sealed file
		// (TestLoginKeyringCLI covers the keyring).
		"DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(t.TempDir(), "no-bus"),
		"BROWSER="+exe, envBrowser+"=reader", "TELEREAD_TEST_BROWSER_PASSWORD=reader-pass")
	return r
}

func (r *oidcRig) run(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(binPath, append([]string{"--home", r.home}, args...)...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Env = &so, &se, r.env
	err := cmd.Run()
	res := result{stdout: so.String(), stderr: se.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run teleread %v: %v", args, err)
	}
	return res
}

func (r *oidcRig) studies(t *testing.T) map[string]bool {
	var studies []struct{ StudyInstanceUID string }
	json.Unmarshal([]byte(r.run(t, "studies", "--json").stdout), &studies)
	got := map[string]bool{}
	for _, s := range studies {
		got[s.StudyInstanceUID] = true
	}
	return got
}

// assertNoSecretOnDisk fails when a refresh token the provider handed out,
// or an access token the archive accepted, is in any file of the cache
// home, the configuration folder or the user's home.
func (r *oidcRig) assertNoSecretOnDisk(t *testing.T) {
	t.Helper()
	secrets := append(r.p.RefreshTokens(), r.guard.AcceptedTokens()...)
	if len(r.p.RefreshTokens()) == 0 {
		t.Fatal("the provider handed out no refresh token")
	}
	sealed := 0
	for _, dir := range []string{r.home, r.cfgDir, r.userDir} {
		filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return nil
			}
			if strings.HasPrefix(p, filepath.Join(r.home, "signin")) {
				sealed++
			}
			b, _ := os.ReadFile(p)
			for _, s := range secrets {
				if bytes.Contains(b, []byte(s)) {
					t.Errorf("%s holds a token in clear", p)
				}
			}
			return nil
		})
	}
	if sealed == 0 {
		t.Errorf("no sealed session under %s: the test looked at the wrong place", filepath.Join(r.home, "signin"))
	}
}

// TestLoginSyncCLI: `teleread login` signs in through the browser (code +
// PKCE at a real OpenID provider), `sync --once` then brings Reader^A's
// studies through the guard that wants the provider's tokens, `whoami`
// names the user and prints no token, no token is on disk in clear, an
// expired access token is renewed silently, and after `logout` (which
// revokes the refresh token) sync says to sign in again.
func TestLoginSyncCLI(t *testing.T) {
	const life = 4 * time.Second
	r := newOIDCRig(t, oidctest.Options{AccessTokenLifetime: life})

	if res := r.run(t, "sync", "--once", "--priors", "0"); res.code == 0 || !strings.Contains(res.stderr, "teleread login") {
		t.Errorf("sync before login: exit %d, want non-zero and a hint to sign in:\n%s", res.code, res.stderr)
	}
	if r.guard.Accepted()+r.guard.Rejected() != 0 {
		t.Errorf("sync without a session sent %d requests to the archive", r.guard.Accepted()+r.guard.Rejected())
	}

	res := r.run(t, "login")
	if res.code != 0 || !strings.Contains(res.stdout, "as Ann Reader <ann.reader@example.org>") {
		t.Fatalf("login: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	loggedIn := time.Now()
	res = r.run(t, "sync", "--once", "--priors", "0")
	if res.code != 0 {
		t.Fatalf("sync --once after login: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	got := r.studies(t)
	for _, uid := range r.a {
		if !got[uid] {
			t.Errorf("Reader^A's study %s is not in the cache", uid)
		}
	}
	for _, uid := range r.b {
		if got[uid] {
			t.Errorf("Reader^B's study %s was fetched", uid)
		}
	}
	if r.guard.Accepted() == 0 {
		t.Errorf("the archive's guard let no request through")
	}

	who := r.run(t, "whoami")
	if who.code != 0 || !strings.Contains(who.stdout, "Ann Reader") || !strings.Contains(who.stdout, "expires") {
		t.Errorf("whoami: exit %d: %s", who.code, who.stdout)
	}
	for _, tok := range append(r.p.RefreshTokens(), r.guard.AcceptedTokens()...) {
		if strings.Contains(who.stdout+who.stderr, tok) {
			t.Errorf("whoami printed a token")
		}
	}
	r.assertNoSecretOnDisk(t)

	// The access token expires; the next sync renews it before use.
	time.Sleep(time.Until(loggedIn.Add(life + time.Second)))
	refreshes, rejected := r.p.Refreshes(), r.guard.Rejected()
	if res := r.run(t, "sync", "--once", "--priors", "0"); res.code != 0 {
		t.Fatalf("sync after the access token expired: exit %d\n%s", res.code, res.stderr)
	}
	if r.p.Refreshes() == refreshes {
		t.Errorf("the expired access token was not renewed")
	}
	if r.guard.Rejected() != rejected {
		t.Errorf("the archive refused %d requests: an expired token was sent", r.guard.Rejected()-rejected)
	}
	r.assertNoSecretOnDisk(t)

	refresh := r.p.RefreshTokens()
	res = r.run(t, "logout")
	if res.code != 0 || !strings.Contains(res.stdout, "revoked") {
		t.Errorf("logout: exit %d: %s %s", res.code, res.stdout, res.stderr)
	}
	if rv := r.p.Revoked(); len(rv) != 1 || rv[0] != refresh[len(refresh)-1] {
		t.Errorf("the provider revoked %v, want the session's current refresh token", rv)
	}
	if who := r.run(t, "whoami"); who.code == 0 || !strings.Contains(who.stdout, "Not signed in") {
		t.Errorf("whoami after logout: exit %d: %s", who.code, who.stdout)
	}
	if entries, _ := os.ReadDir(filepath.Join(r.home, "signin")); len(entries) != 0 {
		t.Errorf("%d files left in the session store after logout", len(entries))
	}
	if res := r.run(t, "sync", "--once", "--priors", "0"); res.code == 0 || !strings.Contains(res.stderr, "teleread login") {
		t.Errorf("sync after logout: exit %d, want a hint to sign in:\n%s", res.code, res.stderr)
	}
}

// TestSessionEndedCLI: when the provider ends the session (the refresh
// token is refused), sync stops at once with "sign in again", without
// sending the archive a request and without retrying.
func TestSessionEndedCLI(t *testing.T) {
	r := newOIDCRig(t, oidctest.Options{AccessTokenLifetime: 2 * time.Second})
	if res := r.run(t, "login"); res.code != 0 {
		t.Fatalf("login: %s %s", res.stdout, res.stderr)
	}
	r.p.EndSessions()
	time.Sleep(2500 * time.Millisecond)
	start := time.Now()
	res := r.run(t, "sync", "--once", "--priors", "0")
	if res.code == 0 || !strings.Contains(res.stderr, "sign in again") || !strings.Contains(res.stderr, "teleread login") {
		t.Errorf("sync after the session ended: exit %d:\n%s", res.code, res.stderr)
	}
	if strings.Contains(res.stderr, "unreachable") || strings.Contains(res.stderr, "OFFLINE") {
		t.Errorf("an ended session is reported as an unreachable archive:\n%s", res.stderr)
	}
	if n := r.guard.Accepted() + r.guard.Rejected(); n != 0 {
		t.Errorf("%d requests reached the archive", n)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("sync took %v: it retried", d)
	}
}

// TestLoginDeviceCLI: `login --device` prints a verification URI and a user
// code and waits; once the user approves them in a browser elsewhere it is
// signed in, and sync brings the reader's studies.
func TestLoginDeviceCLI(t *testing.T) {
	r := newOIDCRig(t, oidctest.Options{})
	cmd := exec.Command(binPath, "--home", r.home, "login", "--device")
	cmd.Env = r.env
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var printed strings.Builder
	var mu gosync.Mutex
	codeRE := regexp.MustCompile(`visit (\S+) on any device and enter the code (\S+)`)
	found := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			mu.Lock()
			printed.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if m := codeRE.FindStringSubmatch(sc.Text()); m != nil {
				found <- m
			}
		}
	}()
	var m []string
	select {
	case m = <-found:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("no verification URI and code printed:\n%s", stderr.String())
	}
	time.Sleep(1500 * time.Millisecond) // the device polls meanwhile
	if err := (oidctest.Browser{User: "reader", Password: "reader-pass"}).Approve(m[1], m[2]); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("login --device: %v\n%s", err, stderr.String())
	}
	mu.Lock()
	if !strings.Contains(printed.String(), "as Ann Reader") {
		t.Errorf("login --device printed:\n%s", printed.String())
	}
	mu.Unlock()
	if r.p.DevicePolls() < 2 {
		t.Errorf("%d polls: the device did not wait for the approval", r.p.DevicePolls())
	}
	if res := r.run(t, "sync", "--once", "--priors", "0"); res.code != 0 {
		t.Fatalf("sync after the device login: exit %d\n%s", res.code, res.stderr)
	}
	got := r.studies(t)
	for _, uid := range r.a {
		if !got[uid] {
			t.Errorf("Reader^A's study %s is not in the cache", uid)
		}
	}
	r.assertNoSecretOnDisk(t)
}

// TestTokenStaysWithArchive: signed in to the configured archive, `open` of
// a study URL on another host sends that host no Authorization header, and
// `sync --archive` naming another host refuses rather than send it the
// archive's token.
func TestTokenStaysWithArchive(t *testing.T) {
	r := newOIDCRig(t, oidctest.Options{})
	if res := r.run(t, "login"); res.code != 0 {
		t.Fatalf("login: %s %s", res.stdout, res.stderr)
	}
	var mu gosync.Mutex
	var auth []string
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		auth = append(auth, req.Header.Get("Authorization"))
		mu.Unlock()
		io.Copy(io.Discard, req.Body)
		http.NotFound(w, req)
	}))
	defer elsewhere.Close()
	r.run(t, "open", elsewhere.URL+"/dicom-web/studies/1.2.3.4")
	res := r.run(t, "sync", "--once", "--archive", elsewhere.URL+"/dicom-web")
	if res.code == 0 {
		t.Errorf("sync --archive elsewhere: exit 0")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(auth) == 0 {
		t.Fatal("the other host got no request: the test proves nothing")
	}
	for _, a := range auth {
		if a != "" {
			t.Errorf("the other host got an Authorization header")
		}
	}
}
