package oidctest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Guard is an archive's gateway: a reverse proxy to the archive that lets a
// request through only with an access token the provider signed for the
// client and that has not expired (the op package's own verifier, against
// the provider's keys); others get 401.
type Guard struct {
	// URL is the guard's root; the archive's paths follow it (the DICOMweb
	// root of an Orthanc is URL + "/dicom-web").
	URL string

	// RefuseAll makes the guard refuse every token, as an archive does
	// whose gateway wants another audience.
	RefuseAll atomic.Bool

	mu       gosync.Mutex
	accepted map[string]int // access tokens let through, and how many requests each
	rejected int
}

// Guard starts a guard in front of target (the archive's root URL); it stops
// when the test ends.
func (p *Provider) Guard(t testing.TB, target string) *Guard {
	t.Helper()
	tu, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	g := &Guard{accepted: map[string]int{}}
	proxy := httputil.NewSingleHostReverseProxy(tu)
	provider, err := op.NewProvider(&op.Config{CryptoKey: [32]byte{1}, CodeMethodS256: true}, p.store, op.StaticIssuer(p.Issuer), op.WithAllowInsecure())
	if err != nil {
		t.Fatal(err)
	}
	verifier := provider.AccessTokenVerifier(op.ContextWithIssuer(context.Background(), p.Issuer))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if ok {
			claims, err := op.VerifyAccessToken[*oidc.AccessTokenClaims](r.Context(), token, verifier)
			ok = err == nil && slices.Contains(claims.Audience, p.ClientID) && !g.RefuseAll.Load()
		}
		g.mu.Lock()
		if ok {
			g.accepted[token]++
		} else {
			g.rejected++
		}
		g.mu.Unlock()
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			http.Error(w, "invalid or expired token", http.StatusUnauthorized)
			return
		}
		r.Header.Del("Authorization") // the archive behind has no use for it
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	g.URL = srv.URL
	return g
}

// Tokens is how many distinct access tokens were let through.
func (g *Guard) Tokens() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.accepted)
}

// Accepted is how many requests were let through.
func (g *Guard) Accepted() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, c := range g.accepted {
		n += c
	}
	return n
}

// Rejected is how many requests were refused.
func (g *Guard) Rejected() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.rejected
}

// AcceptedTokens lists the access tokens let through.
func (g *Guard) AcceptedTokens() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for t := range g.accepted {
		out = append(out, t)
	}
	return out
}

// AcceptedToken reports whether the access token was let through.
func (g *Guard) AcceptedToken(token string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.accepted[token] > 0
}
