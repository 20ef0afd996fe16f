// Package signin signs the reader in to a cloud archive's OpenID Connect
// provider the way a native app should (RFC 8252): the system browser, a
// redirect to a one-time listener on 127.0.0.1, PKCE (RFC 7636, S256), a
// state and a nonce checked on the way back, and the provider's endpoints
// from its discovery document. A machine without a browser uses the device
// authorization grant (RFC 8628).
//
// The session's refresh token is kept in the OS keyring (Secret Service),
// else in a file sealed with AES-256-GCM (see Store); it is never written in
// clear. Access tokens are renewed before they expire; when the provider
// refuses to renew them the session has ended and AccessToken says so with
// an error wrapping ErrSignInRequired, which the sync client does not retry.
package signin

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	gosync "sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	tsync "teleread/sync"
)

// ErrSignInRequired is the sync client's: the session has ended and only the
// user can start a new one.
var ErrSignInRequired = tsync.ErrSignInRequired

// ErrNotSignedIn reports that no session is stored for the issuer and client.
var ErrNotSignedIn = fmt.Errorf("%w: not signed in", ErrSignInRequired)

// ErrNoDeviceFlow reports a provider whose discovery document names no
// device authorization endpoint.
var ErrNoDeviceFlow = errors.New("the provider offers no device authorization (sign in with the browser)")

// ErrInsecureEndpoint reports an issuer or endpoint that is neither https nor
// on this machine: tokens would travel in clear.
var ErrInsecureEndpoint = errors.New("not https (nor on this machine): tokens would travel in clear")

// SessionEndedError reports that the provider refused to renew the session
// (the refresh token expired or was revoked): sign in again.
type SessionEndedError struct {
	Issuer string
	Err    error // the provider's answer
}

func (e *SessionEndedError) Error() string {
	return fmt.Sprintf("the session with %s has ended, sign in again: %v", e.Issuer, e.Err)
}

// Unwrap lets errors.Is find ErrSignInRequired and the provider's error.
func (e *SessionEndedError) Unwrap() []error { return []error{ErrSignInRequired, e.Err} }

// Config says which provider and client to sign in with.
type Config struct {
	// Issuer is the provider's issuer URL; its discovery document is
	// Issuer + "/.well-known/openid-configuration".
	Issuer string
	// ClientID is the archive's client registered at the provider for
	// Teleread (a native, public client: no secret).
	ClientID string
	// ClientSecret, for a provider that registers native clients with one
	// (it is then not secret: it ships with every installation).
	ClientSecret string
	// Scopes asked for; nil means DefaultScopes. "openid" is always added.
	Scopes []string
	// HTTPClient talks to the provider (CA file, time-outs); nil is a client
	// that follows no redirect.
	HTTPClient *http.Client
	// Store keeps the session. Required.
	Store Store
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// DefaultScopes are the scopes asked for when Config.Scopes is nil: who the
// reader is, and a refresh token (offline_access) so that the session
// outlives one access token.
var DefaultScopes = []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess}

// Identity is who signed in, from the provider's verified ID token.
type Identity struct {
	Subject string `json:"sub"`
	Name    string `json:"name,omitempty"`
	User    string `json:"preferred_username,omitempty"`
	Email   string `json:"email,omitempty"`
}

// String names the user the way a person would recognise them.
func (i Identity) String() string {
	name := i.Name
	if name == "" {
		name = i.User
	}
	switch {
	case name != "" && i.Email != "":
		return name + " <" + i.Email + ">"
	case name != "":
		return name
	case i.Email != "":
		return i.Email
	}
	return i.Subject
}

// Status is what is known of the session without asking the provider.
type Status struct {
	Issuer     string
	Identity   Identity
	SignedInAt time.Time
	// AccessExpiry is when the current access token expires; it is renewed
	// before then while the session lasts.
	AccessExpiry time.Time
	// SessionExpiry is when the refresh token expires, where the provider
	// says (refresh_expires_in); zero when unknown.
	SessionExpiry time.Time
	// Renewable reports whether a refresh token is held.
	Renewable bool
}

// record is what the store holds for a session (sealed or in the keyring).
type record struct {
	Issuer        string    `json:"issuer"`
	ClientID      string    `json:"client_id"`
	Identity      Identity  `json:"identity"`
	SignedInAt    time.Time `json:"signed_in_at"`
	AccessToken   string    `json:"access_token,omitempty"`
	TokenType     string    `json:"token_type,omitempty"`
	Issued        time.Time `json:"issued"`
	Expiry        time.Time `json:"expiry"`
	RefreshToken  string    `json:"refresh_token,omitempty"`
	SessionExpiry time.Time `json:"session_expiry"`
}

func (r *record) status() Status {
	return Status{Issuer: r.Issuer, Identity: r.Identity, SignedInAt: r.SignedInAt, AccessExpiry: r.Expiry,
		SessionExpiry: r.SessionExpiry, Renewable: r.RefreshToken != ""}
}

// Session is one user's sign-in with one provider and client. It is safe for
// concurrent use; renewals are serialised (a provider that rotates refresh
// tokens accepts each only once).
type Session struct {
	cfg Config
	id  string // the store's key: issuer and client

	mu    gosync.Mutex
	prov  *provider
	rec   *record // nil until loaded
	stale bool    // the archive refused the access token
}

// New returns the session of cfg (signed in or not: see Status).
func New(cfg Config) (*Session, error) {
	if cfg.Store == nil {
		return nil, errors.New("signin: no store")
	}
	if cfg.ClientID == "" {
		return nil, errors.New("signin: no client_id")
	}
	u, err := url.Parse(cfg.Issuer)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("signin: issuer %q: want https://host/path", cfg.Issuer)
	}
	if !secureOrLoopback(cfg.Issuer) {
		return nil, fmt.Errorf("signin: issuer %s: %w", cfg.Issuer, ErrInsecureEndpoint)
	}
	if cfg.HTTPClient == nil {
		hc, err := tsync.ProviderHTTPClient(tsync.Config{})
		if err != nil {
			return nil, err
		}
		cfg.HTTPClient = hc
	}
	if cfg.Scopes == nil {
		cfg.Scopes = DefaultScopes
	}
	if !contains(cfg.Scopes, oidc.ScopeOpenID) {
		cfg.Scopes = append([]string{oidc.ScopeOpenID}, cfg.Scopes...)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Session{cfg: cfg, id: StoreID(cfg.Issuer, cfg.ClientID)}, nil
}

// Issuer is the provider's issuer URL.
func (s *Session) Issuer() string { return s.cfg.Issuer }

// StoreID is the name under which the session of issuer and clientID is
// stored.
func StoreID(issuer, clientID string) string {
	return strings.TrimRight(issuer, "/") + " " + clientID
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

func secureOrLoopback(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	return u.Scheme == "https" || u.Scheme == "http" && tsync.IsLoopback(u.Hostname())
}

func (s *Session) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, s.cfg.HTTPClient)
}

// load reads the stored session once (s.mu held).
func (s *Session) load() (*record, error) {
	if s.rec != nil {
		return s.rec, nil
	}
	b, err := s.cfg.Store.Load(s.id)
	if errors.Is(err, ErrNoRecord) {
		return nil, ErrNotSignedIn
	}
	if err != nil {
		// A session sealed under another key, or damaged: signing in
		// again replaces it. Not worth retrying.
		return nil, fmt.Errorf("signin: %w: the stored session cannot be read: %w", ErrSignInRequired, err)
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("signin: %w: the stored session cannot be read: %w", ErrSignInRequired, err)
	}
	if r.Issuer != s.cfg.Issuer || r.ClientID != s.cfg.ClientID {
		return nil, ErrNotSignedIn
	}
	s.rec = &r
	return s.rec, nil
}

// save stores r (s.mu held).
func (s *Session) save(r *record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("signin: %w", err)
	}
	if err := s.cfg.Store.Save(s.id, b); err != nil {
		return fmt.Errorf("signin: store the session: %w", err)
	}
	s.rec, s.stale = r, false
	return nil
}

// forget deletes the stored session (s.mu held).
func (s *Session) forget() error {
	s.rec, s.stale = nil, false
	if err := s.cfg.Store.Delete(s.id); err != nil && !errors.Is(err, ErrNoRecord) {
		return fmt.Errorf("signin: delete the stored session: %w", err)
	}
	return nil
}

// Status reports who is signed in and until when, from the stored session
// (no network); ErrNotSignedIn when there is none.
func (s *Session) Status() (Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.load()
	if err != nil {
		return Status{}, err
	}
	return r.status(), nil
}

// newRecord turns a token answer into the stored session, verifying the ID
// token (nonce "" skips the nonce check: refresh and device grants carry
// none). A refresh answer without an ID token or refresh token keeps the
// previous ones' identity and refresh token.
func (s *Session) newRecord(ctx context.Context, p *provider, tok *oauth2.Token, nonce string, prev *record) (*record, error) {
	now := s.cfg.Now()
	r := &record{Issuer: s.cfg.Issuer, ClientID: s.cfg.ClientID, SignedInAt: now, AccessToken: tok.AccessToken,
		TokenType: tok.Type(), Issued: now, Expiry: tok.Expiry, RefreshToken: tok.RefreshToken}
	if prev != nil {
		r.SignedInAt, r.Identity, r.SessionExpiry = prev.SignedInAt, prev.Identity, prev.SessionExpiry
		if r.RefreshToken == "" {
			r.RefreshToken = prev.RefreshToken
		}
	}
	if sec, ok := tok.Extra("refresh_expires_in").(float64); ok && sec > 0 {
		r.SessionExpiry = now.Add(time.Duration(sec) * time.Second)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		if prev == nil {
			return nil, fmt.Errorf("signin: %s sent no ID token (is \"openid\" among the scopes?)", s.cfg.Issuer)
		}
		return r, nil
	}
	idt, err := p.verifier.Verify(s.ctx(ctx), raw)
	if err != nil {
		return nil, fmt.Errorf("signin: ID token from %s: %w", s.cfg.Issuer, err)
	}
	if nonce != "" && idt.Nonce != nonce {
		return nil, fmt.Errorf("signin: ID token from %s: nonce does not match the request", s.cfg.Issuer)
	}
	if prev != nil && prev.Identity.Subject != "" && idt.Subject != prev.Identity.Subject {
		return nil, fmt.Errorf("signin: ID token from %s names another user than the session's", s.cfg.Issuer)
	}
	if prev != nil {
		return r, nil
	}
	var id Identity
	if err := idt.Claims(&id); err != nil {
		return nil, fmt.Errorf("signin: ID token claims: %w", err)
	}
	id.Subject = idt.Subject
	if id.Name == "" && id.User == "" && id.Email == "" && p.p.UserInfoEndpoint() != "" {
		// Providers put profile claims in the ID token only when no access
		// token is issued (OpenID Connect Core 5.4); the user info
		// endpoint has them. Best effort: the subject alone names the user.
		if ui, err := p.p.UserInfo(s.ctx(ctx), oauth2.StaticTokenSource(tok)); err == nil && ui.Subject == id.Subject {
			var more Identity
			if ui.Claims(&more) == nil {
				id.Name, id.User, id.Email = more.Name, more.User, ui.Email
			}
		}
	}
	r.Identity = id
	return r, nil
}

// randomString is n random bytes, base64url: state and nonce.
func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
