package sync

import (
	"context"
	"fmt"
	"net/http"
	gosync "sync"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Auth adds credentials to requests. Implementations never put credentials
// in URLs, errors or logs.
type Auth interface {
	// authorize sets the request's credentials.
	authorize(ctx context.Context, req *http.Request) error
	// rejected is told that the archive answered 401 to credentials set by
	// authorize; it reports whether new credentials are worth one retry.
	rejected() bool
}

// BasicAuth is HTTP basic authentication.
type BasicAuth struct {
	User, Password string
}

func (a BasicAuth) authorize(_ context.Context, req *http.Request) error {
	req.SetBasicAuth(a.User, a.Password)
	return nil
}

func (BasicAuth) rejected() bool { return false }

// BearerToken sends a fixed bearer token (e.g. a shared-study token).
type BearerToken struct {
	Token string
}

func (a BearerToken) authorize(_ context.Context, req *http.Request) error {
	req.Header.Set("Authorization", "Bearer "+a.Token)
	return nil
}

func (BearerToken) rejected() bool { return false }

// OAuth2ClientCredentials obtains bearer tokens with the OAuth 2.0 client
// credentials grant (RFC 6749 §4.4), refreshing them before they expire and
// once more when the archive rejects one.
type OAuth2ClientCredentials struct {
	TokenURL     string
	ClientID     string
	ClientSecret string
	Scopes       []string
	// EndpointParams are extra form values for the token request (e.g. "audience").
	EndpointParams map[string][]string

	mu  gosync.Mutex
	src oauth2.TokenSource
	hc  *http.Client // the client's own HTTP client, for the token endpoint (TLS settings)
}

func (a *OAuth2ClientCredentials) source(ctx context.Context) oauth2.TokenSource {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.src == nil {
		cfg := clientcredentials.Config{
			ClientID:       a.ClientID,
			ClientSecret:   a.ClientSecret,
			TokenURL:       a.TokenURL,
			Scopes:         a.Scopes,
			EndpointParams: a.EndpointParams,
		}
		if a.hc != nil {
			// The token source keeps this context for its refreshes; it
			// carries only the HTTP client, never a deadline.
			ctx = context.WithValue(context.WithoutCancel(ctx), oauth2.HTTPClient, a.hc)
		} else {
			ctx = context.WithoutCancel(ctx)
		}
		a.src = oauth2.ReuseTokenSource(nil, cfg.TokenSource(ctx))
	}
	return a.src
}

func (a *OAuth2ClientCredentials) authorize(ctx context.Context, req *http.Request) error {
	tok, err := a.source(ctx).Token()
	if err != nil {
		// oauth2 errors may quote the token endpoint's answer, never the secret.
		return fmt.Errorf("oauth2 token from %s: %w", redactURL(a.TokenURL), err)
	}
	tok.SetAuthHeader(req)
	return nil
}

// rejected drops the cached token so the next request fetches a new one.
func (a *OAuth2ClientCredentials) rejected() bool {
	a.mu.Lock()
	a.src = nil
	a.mu.Unlock()
	return true
}

// SessionTokens hands out the access tokens of a signed-in user (package
// sync/signin): renewed before they expire, or an error wrapping
// ErrSignInRequired when the session has ended and only the user can start
// a new one.
type SessionTokens interface {
	AccessToken(ctx context.Context) (*oauth2.Token, error)
	// Invalidate is told that the archive refused the current access token:
	// the next AccessToken renews it instead of sending it again.
	Invalidate()
}

// OAuth2Session sends the access tokens of a user who signed in to the
// archive's OpenID Connect provider. The client sends them only to its own
// BaseURL (every request path is appended to it, and redirects are refused).
type OAuth2Session struct {
	Tokens SessionTokens
}

func (a OAuth2Session) authorize(ctx context.Context, req *http.Request) error {
	tok, err := a.Tokens.AccessToken(ctx)
	if err != nil {
		return fmt.Errorf("oauth2 sign-in: %w", err)
	}
	tok.SetAuthHeader(req)
	return nil
}

// rejected renews the token once: a token revoked early gets one retry, and
// an archive that refuses every token gets an HTTP 401, not a loop.
func (a OAuth2Session) rejected() bool {
	a.Tokens.Invalidate()
	return true
}
