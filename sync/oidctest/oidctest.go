// Package oidctest runs a real OpenID Connect provider for tests (the
// certified github.com/zitadel/oidc op package, with an in-memory storage, a
// login page and a device verification page) and a guard in front of an
// archive that lets through only requests bearing an access token the
// provider signed, unexpired, for the client. Orthanc has no OpenID Connect
// of its own; the guard stands for the cloud archive's gateway.
//
// Only tests import it.
package oidctest

import (
	"crypto/sha256"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// User is an account at the provider.
type User struct {
	Password string
	Name     string
	Email    string
}

// Options configure a provider. Zero values mean the documented defaults.
type Options struct {
	// ClientID is the native app's client; default "teleread".
	ClientID string
	// Users by user name (the subject); default one, "reader" with
	// password "reader-pass", Ann Reader <ann.reader@example.org>.
	Users map[string]User
	// AccessTokenLifetime, default 10 minutes; RefreshTokenLifetime,
	// default 10 hours.
	AccessTokenLifetime, RefreshTokenLifetime time.Duration
	// DevicePollInterval is the interval the device grant asks the client
	// to poll at; default 1 s.
	DevicePollInterval time.Duration
}

// Provider is a running OpenID provider.
type Provider struct {
	// Issuer is the provider's URL, e.g. http://127.0.0.1:40123.
	Issuer   string
	ClientID string
	Users    map[string]User

	store *storage
	srv   *httptest.Server
	polls atomic.Int64
}

// New starts a provider on a loopback port; it stops when the test ends.
func New(t testing.TB, opts Options) *Provider {
	t.Helper()
	if opts.ClientID == "" {
		opts.ClientID = "teleread"
	}
	if opts.Users == nil {
		opts.Users = map[string]User{"reader": {Password: "reader-pass", Name: "Ann Reader", Email: "ann.reader@example.org"}}
	}
	if opts.AccessTokenLifetime == 0 {
		opts.AccessTokenLifetime = 10 * time.Minute
	}
	if opts.RefreshTokenLifetime == 0 {
		opts.RefreshTokenLifetime = 10 * time.Hour
	}
	if opts.DevicePollInterval == 0 {
		opts.DevicePollInterval = time.Second
	}
	st, err := newStorage(opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	p := &Provider{Issuer: issuer, ClientID: opts.ClientID, Users: opts.Users, store: st}
	cfg := &op.Config{
		CryptoKey:             sha256.Sum256([]byte(issuer)),
		CodeMethodS256:        true,
		GrantTypeRefreshToken: true,
		SupportedUILocales:    []language.Tag{language.English},
		DeviceAuthorization: op.DeviceAuthorizationConfig{
			Lifetime:     5 * time.Minute,
			PollInterval: opts.DevicePollInterval,
			UserFormPath: "/device",
			UserCode:     op.UserCodeBase20,
		},
	}
	provider, err := op.NewProvider(cfg, st, op.StaticIssuer(issuer), op.WithAllowInsecure(),
		op.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	callback := op.AuthCallbackURL(provider)
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		page(w, loginPage, map[string]string{"ID": r.FormValue("id")})
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		id := r.FormValue("id")
		if err := st.login(id, r.FormValue("username"), r.FormValue("password")); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			page(w, loginPage, map[string]string{"ID": id, "Error": err.Error()})
			return
		}
		http.Redirect(w, r, callback(r.Context(), id), http.StatusFound)
	})
	mux.HandleFunc("GET /device", func(w http.ResponseWriter, r *http.Request) {
		page(w, devicePage, map[string]string{"UserCode": r.FormValue("user_code")})
	})
	mux.HandleFunc("POST /device", func(w http.ResponseWriter, r *http.Request) {
		if err := st.approveDevice(r.FormValue("user_code"), r.FormValue("username"), r.FormValue("password")); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			page(w, devicePage, map[string]string{"UserCode": r.FormValue("user_code"), "Error": err.Error()})
			return
		}
		fmt.Fprintln(w, "Device approved. Return to the device.")
	})
	mux.Handle("/", provider)
	p.srv = &httptest.Server{Listener: ln, Config: &http.Server{Handler: p.count(mux), ReadHeaderTimeout: 10 * time.Second}}
	p.srv.Start()
	t.Cleanup(p.srv.Close)
	return p
}

// count counts the token requests of the device grant (its polls).
func (p *Provider) count(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth/token" && r.Method == http.MethodPost {
			r.ParseForm()
			if r.PostForm.Get("grant_type") == "urn:ietf:params:oauth:grant-type:device_code" {
				p.polls.Add(1)
			}
		}
		h.ServeHTTP(w, r)
	})
}

// DevicePolls is how many times the device grant's token request came.
func (p *Provider) DevicePolls() int64 { return p.polls.Load() }

// Refreshes is how many refresh grants the provider answered.
func (p *Provider) Refreshes() int {
	p.store.mu.Lock()
	defer p.store.mu.Unlock()
	return p.store.refreshes
}

// RefreshTokens lists every refresh token the provider handed out.
func (p *Provider) RefreshTokens() []string {
	p.store.mu.Lock()
	defer p.store.mu.Unlock()
	return append([]string(nil), p.store.issued...)
}

// Revoked lists the refresh tokens revoked at the revocation endpoint.
func (p *Provider) Revoked() []string {
	p.store.mu.Lock()
	defer p.store.mu.Unlock()
	return append([]string(nil), p.store.revoked...)
}

// EndSessions ends every session at the provider, as an administrator
// would: the next refresh is refused with invalid_grant.
func (p *Provider) EndSessions() { p.store.revokeAll() }

// ApproveDevice approves the device sign-in of userCode as the user would on
// the verification page.
func (p *Provider) ApproveDevice(userCode, user, password string) error {
	return p.store.approveDevice(userCode, user, password)
}

var loginPage = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<title>Sign in</title>
<form method="POST" action="/login">
<input type="hidden" name="id" value="{{.ID}}">
<label>User <input name="username" autocomplete="username"></label>
<label>Password <input name="password" type="password"></label>
<p>{{.Error}}</p>
<button type="submit">Sign in</button>
</form>
`))

var devicePage = template.Must(template.New("device").Parse(`<!DOCTYPE html>
<title>Approve a device</title>
<form method="POST" action="/device">
<label>Code <input name="user_code" value="{{.UserCode}}"></label>
<label>User <input name="username"></label>
<label>Password <input name="password" type="password"></label>
<p>{{.Error}}</p>
<button type="submit">Approve</button>
</form>
`))

func page(w http.ResponseWriter, t *template.Template, data map[string]string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	t.Execute(w, data)
}
