package signin

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tsync "teleread/sync"
	"teleread/sync/oidctest"
)

// noKeyring points the Secret Service client at a bus that is not there, so
// that a test uses the sealed file whatever the machine has.
func noKeyring(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
}

func testKey(t *testing.T) []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return SealKey(k)
}

// newSession returns a session with p, its tokens in the default store
// (keyring, else sealed files in dir).
func newSession(t *testing.T, p *oidctest.Provider, dir string) *Session {
	t.Helper()
	s, err := New(Config{Issuer: p.Issuer, ClientID: p.ClientID, Store: DefaultStore(dir, testKey(t))})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

var reader = oidctest.Browser{User: "reader", Password: "reader-pass"}

// TestLoginCodePKCE: the browser login through the provider's login page
// stores a session naming the user (from the verified ID token and user
// info); the authorization URL carried an S256 challenge that is not the
// verifier, and the refresh token is nowhere in clear in the store's folder.
func TestLoginCodePKCE(t *testing.T) {
	noKeyring(t)
	p := oidctest.New(t, oidctest.Options{})
	dir := t.TempDir()
	s := newSession(t, p, dir)
	var authURL string
	st, err := s.Login(ctx(t), func(u string) error { authURL = u; return reader.Open(u) })
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Identity.String(); got != "Ann Reader <ann.reader@example.org>" {
		t.Errorf("identity %q", got)
	}
	if !st.Renewable || st.AccessExpiry.Before(time.Now()) {
		t.Errorf("status %+v: want a refresh token and a future expiry", st)
	}
	u, _ := url.Parse(authURL)
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 || q.Get("state") == "" || q.Get("nonce") == "" {
		t.Errorf("authorization URL lacks PKCE S256, state or nonce: %s", authURL)
	}
	if ru, _ := url.Parse(q.Get("redirect_uri")); ru == nil || ru.Hostname() != "127.0.0.1" || ru.Port() == "" {
		t.Errorf("redirect_uri %q: want a loopback listener on 127.0.0.1 with a port", q.Get("redirect_uri"))
	}
	refresh := s.rec.RefreshToken
	if refresh == "" {
		t.Fatal("no refresh token")
	}
	assertNotInClear(t, refresh, dir)
	// A new session (the next run) reads the stored one.
	again := newSession(t, p, dir)
	again.cfg.Store = s.cfg.Store
	if st2, err := again.Status(); err != nil || st2.Identity != st.Identity {
		t.Errorf("stored session: %+v, %v", st2, err)
	}
}

// assertNotInClear fails when secret occurs in any file under the dirs.
func assertNotInClear(t *testing.T, secret string, dirs ...string) {
	t.Helper()
	files := 0
	for _, d := range dirs {
		filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return nil
			}
			files++
			b, _ := os.ReadFile(p)
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds the refresh token in clear", p)
			}
			return nil
		})
	}
	if files == 0 {
		t.Errorf("no file under %v: the session was not stored there", dirs)
	}
}

// TestWrongStateRefused: an answer to the loopback listener with another
// state (a page slipping in a code) is refused with 400 and not exchanged:
// the genuine answer that follows still signs in (its code unspent).
func TestWrongStateRefused(t *testing.T) {
	noKeyring(t)
	p := oidctest.New(t, oidctest.Options{})
	s := newSession(t, p, t.TempDir())
	var forged int
	_, err := s.Login(ctx(t), func(u string) error {
		back, err := reader.SignIn(u)
		if err != nil {
			return err
		}
		bad := *back
		q := bad.Query()
		q.Set("state", "not-the-state")
		bad.RawQuery = q.Encode()
		resp, err := http.Get(bad.String())
		if err != nil {
			return err
		}
		resp.Body.Close()
		forged = resp.StatusCode
		resp, err = http.Get(back.String())
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	})
	if forged != http.StatusBadRequest {
		t.Errorf("the answer with a wrong state got %d, want 400", forged)
	}
	if err != nil {
		t.Fatalf("the genuine answer after the forged one: %v", err)
	}
}

// TestProviderRefusal: an error the provider sends back (the user declined)
// ends the login with a *ProviderError.
func TestProviderRefusal(t *testing.T) {
	noKeyring(t)
	p := oidctest.New(t, oidctest.Options{})
	s := newSession(t, p, t.TempDir())
	_, err := s.Login(ctx(t), func(u string) error {
		au, _ := url.Parse(u)
		back, _ := url.Parse(au.Query().Get("redirect_uri"))
		back.RawQuery = url.Values{"state": {au.Query().Get("state")}, "error": {"access_denied"}}.Encode()
		resp, err := http.Get(back.String())
		if err == nil {
			resp.Body.Close()
		}
		return err
	})
	var pe *ProviderError
	if !errors.As(err, &pe) || pe.Code != "access_denied" {
		t.Errorf("got %v, want the provider's access_denied", err)
	}
}

// TestRefreshBeforeExpiry: an access token near its end is renewed with the
// refresh token (the provider counts one refresh grant), and a new session
// object reading the store uses the renewed one.
func TestRefreshBeforeExpiry(t *testing.T) {
	noKeyring(t)
	p := oidctest.New(t, oidctest.Options{AccessTokenLifetime: 3 * time.Second})
	s := newSession(t, p, t.TempDir())
	if _, err := s.Login(ctx(t), reader.Open); err != nil {
		t.Fatal(err)
	}
	first, err := s.AccessToken(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.AccessToken(ctx(t))
	if err != nil || again.AccessToken != first.AccessToken {
		t.Fatalf("a fresh token was not reused: %v", err)
	}
	time.Sleep(time.Until(first.Expiry))
	second, err := s.AccessToken(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if second.AccessToken == first.AccessToken || !second.Expiry.After(time.Now()) {
		t.Errorf("the expired access token was not renewed")
	}
	if n := p.Refreshes(); n != 1 {
		t.Errorf("%d refresh grants, want 1", n)
	}
}

// TestSessionEnded: when the provider refuses the refresh token (the
// session was ended there) AccessToken returns a *SessionEndedError that is
// ErrSignInRequired, the stored session is gone, and the next call says so
// without asking the provider again.
func TestSessionEnded(t *testing.T) {
	noKeyring(t)
	p := oidctest.New(t, oidctest.Options{})
	s := newSession(t, p, t.TempDir())
	if _, err := s.Login(ctx(t), reader.Open); err != nil {
		t.Fatal(err)
	}
	p.EndSessions()
	s.Invalidate() // the archive refused the token
	_, err := s.AccessToken(ctx(t))
	var se *SessionEndedError
	if !errors.As(err, &se) || !errors.Is(err, ErrSignInRequired) {
		t.Fatalf("got %v, want a SessionEndedError wrapping ErrSignInRequired", err)
	}
	if !strings.Contains(err.Error(), "sign in again") {
		t.Errorf("the error does not tell the reader to sign in again: %v", err)
	}
	before := p.Refreshes()
	if _, err := s.AccessToken(ctx(t)); !errors.Is(err, ErrNotSignedIn) {
		t.Errorf("second call: %v, want ErrNotSignedIn", err)
	}
	if _, err := s.Status(); !errors.Is(err, ErrNotSignedIn) {
		t.Errorf("status after the session ended: %v", err)
	}
	if p.Refreshes() != before {
		t.Errorf("the provider was asked again")
	}
}

// TestDeviceGrant: the device flow shows a verification URI and a user code;
// once the user approves it in a browser elsewhere, the polling ends with a
// session.
func TestDeviceGrant(t *testing.T) {
	noKeyring(t)
	p := oidctest.New(t, oidctest.Options{})
	s := newSession(t, p, t.TempDir())
	approved := make(chan error, 1)
	st, err := s.LoginDevice(ctx(t), func(dc DeviceCode) {
		if dc.UserCode == "" || !strings.HasPrefix(dc.VerificationURI, p.Issuer) {
			t.Errorf("device code %+v", dc)
		}
		go func() {
			time.Sleep(1500 * time.Millisecond) // the device polls meanwhile
			approved <- reader.Approve(dc.VerificationURI, dc.UserCode)
		}()
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-approved; err != nil {
		t.Fatal(err)
	}
	if st.Identity.Subject != "reader" || !st.Renewable {
		t.Errorf("status %+v", st)
	}
	if p.DevicePolls() < 2 {
		t.Errorf("%d polls: the device did not wait for the approval", p.DevicePolls())
	}
}

// TestLogoutRevokes: sign-out revokes the refresh token at the provider and
// deletes the stored session.
func TestLogoutRevokes(t *testing.T) {
	noKeyring(t)
	p := oidctest.New(t, oidctest.Options{})
	dir := t.TempDir()
	s := newSession(t, p, dir)
	if _, err := s.Login(ctx(t), reader.Open); err != nil {
		t.Fatal(err)
	}
	refresh := s.rec.RefreshToken
	revoked, err := s.Logout(ctx(t))
	if err != nil || !revoked {
		t.Fatalf("logout: revoked %v, %v", revoked, err)
	}
	got := p.Revoked()
	if len(got) != 1 || got[0] != refresh {
		t.Errorf("the provider revoked %d tokens, want the session's refresh token", len(got))
	}
	if _, err := s.Status(); !errors.Is(err, ErrNotSignedIn) {
		t.Errorf("status after logout: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("%d files left in the store after logout", len(entries))
	}
	if _, err := s.Logout(ctx(t)); !errors.Is(err, ErrNotSignedIn) {
		t.Errorf("second logout: %v", err)
	}
}

// TestInsecureIssuer: an issuer over plain http to another machine is refused.
func TestInsecureIssuer(t *testing.T) {
	_, err := New(Config{Issuer: "http://idp.example.org", ClientID: "x", Store: SealedFileStore{Dir: t.TempDir(), Key: testKey(t)}})
	if !errors.Is(err, ErrInsecureEndpoint) {
		t.Errorf("got %v, want ErrInsecureEndpoint", err)
	}
}

// TestSealedStore: a sealed session opens only with its key and under its
// own name; one sealed under another key (a new cache key) makes the
// session ask to sign in again instead of failing as if offline.
func TestSealedStore(t *testing.T) {
	dir := t.TempDir()
	k1, k2 := testKey(t), testKey(t)
	st := SealedFileStore{Dir: dir, Key: k1}
	if err := st.Save("issuer a", []byte(`{"secret":"s3cret-refresh"}`)); err != nil {
		t.Fatal(err)
	}
	assertNotInClear(t, "s3cret-refresh", dir)
	tests := []struct {
		name    string
		store   SealedFileStore
		id      string
		wantErr bool
	}{
		{"own key and name", st, "issuer a", false},
		{"another key", SealedFileStore{Dir: dir, Key: k2}, "issuer a", true},
		{"another name", st, "issuer b", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.store.Load(tt.id)
			if (err != nil) != tt.wantErr {
				t.Errorf("Load: %q, %v; want error %v", b, err, tt.wantErr)
			}
		})
	}
	// Copying the file under another session's name does not open it.
	a, b := st.path("issuer a"), st.path("issuer b")
	raw, _ := os.ReadFile(a)
	os.WriteFile(b, raw, 0o600)
	if _, err := st.Load("issuer b"); err == nil {
		t.Errorf("a sealed session copied under another name opened")
	}

	noKeyring(t)
	p := oidctest.New(t, oidctest.Options{})
	s := newSession(t, p, dir)
	if _, err := s.Login(ctx(t), reader.Open); err != nil {
		t.Fatal(err)
	}
	other, err := New(Config{Issuer: p.Issuer, ClientID: p.ClientID, Store: DefaultStore(dir, k2)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.AccessToken(ctx(t)); !errors.Is(err, ErrSignInRequired) {
		t.Errorf("a session sealed under another key: %v, want ErrSignInRequired", err)
	}
}

// TestArchiveRefusesEveryToken: an archive that refuses every access token
// gets one retry with a renewed token per request and then an HTTP 401,
// never a loop of renewals and refusals.
func TestArchiveRefusesEveryToken(t *testing.T) {
	noKeyring(t)
	p := oidctest.New(t, oidctest.Options{})
	guard := p.Guard(t, "http://127.0.0.1:1") // nothing is let through to it
	guard.RefuseAll.Store(true)
	s := newSession(t, p, t.TempDir())
	if _, err := s.Login(ctx(t), reader.Open); err != nil {
		t.Fatal(err)
	}
	c, err := tsync.New(tsync.Config{BaseURL: guard.URL + "/dicom-web", Auth: tsync.OAuth2Session{Tokens: s}})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Probe(ctx(t))
	var he *tsync.HTTPError
	if !errors.As(err, &he) || he.StatusCode != http.StatusUnauthorized {
		t.Fatalf("got %v, want the archive's 401", err)
	}
	if got := guard.Rejected(); got != 2 {
		t.Errorf("%d requests refused, want 2 (the first and one retry with a renewed token)", got)
	}
	if got := p.Refreshes(); got != 1 {
		t.Errorf("%d renewals, want 1", got)
	}
}
