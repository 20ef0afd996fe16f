package signin

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	gosync "sync"
	"time"
	"unicode"

	"golang.org/x/oauth2"
)

// OpenBrowser opens a URL in the user's browser: the first command of
// $BROWSER that starts (a colon-separated list, "%s" standing for the URL,
// else the URL is the last argument), else xdg-open (open on macOS,
// rundll32 on Windows). It does not wait for the browser. Tests replace it.
var OpenBrowser = openBrowser

func openBrowser(u string) error {
	var cmds [][]string
	if b := os.Getenv("BROWSER"); b != "" {
		for _, c := range strings.Split(b, ":") {
			f := strings.Fields(c)
			if len(f) == 0 {
				continue
			}
			subst := false
			for i := range f {
				if strings.Contains(f[i], "%s") {
					f[i], subst = strings.ReplaceAll(f[i], "%s", u), true
				}
			}
			if !subst {
				f = append(f, u)
			}
			cmds = append(cmds, f)
		}
	}
	switch runtime.GOOS {
	case "darwin":
		cmds = append(cmds, []string{"open", u})
	case "windows":
		cmds = append(cmds, []string{"rundll32", "url.dll,FileProtocolHandler", u})
	default:
		cmds = append(cmds, []string{"xdg-open", u})
	}
	var errs []error
	for _, c := range cmds {
		cmd := exec.Command(c[0], c[1:]...)
		if err := cmd.Start(); err != nil {
			errs = append(errs, err)
			continue
		}
		go cmd.Wait() // reap it whenever it ends
		return nil
	}
	return fmt.Errorf("signin: open a browser: %w", errors.Join(errs...))
}

// ProviderError is an error the provider sent back through the browser
// (RFC 6749 §4.1.2.1), e.g. access_denied when the user declined.
type ProviderError struct {
	Code, Description string
}

func (e *ProviderError) Error() string {
	if e.Description != "" {
		return "the provider refused the sign-in: " + e.Code + ": " + e.Description
	}
	return "the provider refused the sign-in: " + e.Code
}

// printable drops control characters from text that came in a URL: it is
// shown on a terminal.
func printable(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, s)
	if len(s) > max {
		s = s[:max]
	}
	return s
}

// Login signs in with the browser (RFC 8252 §7.3). It listens on 127.0.0.1
// with a port the system picks, gives open (nil: OpenBrowser) the provider's
// authorization URL, which carries a PKCE S256 challenge, a state and a
// nonce, and waits, until ctx ends, for the browser to come back with the
// code. An answer with another state (a page trying to slip its own code in)
// is refused and the login goes on waiting; the code is exchanged with the
// PKCE verifier and the ID token verified (signature, issuer, audience,
// expiry, nonce) before the session is stored.
func (s *Session) Login(ctx context.Context, open func(authURL string) error) (Status, error) {
	if open == nil {
		open = OpenBrowser
	}
	s.mu.Lock()
	p, err := s.provider(ctx)
	s.mu.Unlock()
	if err != nil {
		return Status{}, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Status{}, fmt.Errorf("signin: listen for the provider's redirect: %w", err)
	}
	redirect := fmt.Sprintf("http://127.0.0.1:%d/callback", ln.Addr().(*net.TCPAddr).Port)
	conf := s.oauth2Config(p, redirect)
	verifier, state, nonce := oauth2.GenerateVerifier(), randomString(24), randomString(24)
	authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", nonce))

	type answer struct {
		code string
		err  error
	}
	answers := make(chan answer, 1)
	var once gosync.Once
	mux := http.NewServeMux()
	mux.HandleFunc("/callback", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1 {
			http.Error(w, "Teleread: this answer does not belong to the sign-in in progress (wrong state); it was ignored.", http.StatusBadRequest)
			return
		}
		if iss := q.Get("iss"); iss != "" && iss != s.cfg.Issuer { // RFC 9207
			http.Error(w, "Teleread: this answer comes from another issuer; it was ignored.", http.StatusBadRequest)
			return
		}
		var a answer
		switch {
		case q.Get("error") != "":
			a.err = &ProviderError{Code: printable(q.Get("error"), 100), Description: printable(q.Get("error_description"), 300)}
		case q.Get("code") == "":
			http.Error(w, "Teleread: no code in the answer.", http.StatusBadRequest)
			return
		default:
			a.code = q.Get("code")
		}
		first := false
		once.Do(func() { first = true })
		if !first {
			http.Error(w, "Teleread: the sign-in was already answered.", http.StatusConflict)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		msg := "Signed in. You can close this window and return to Teleread."
		if a.err != nil {
			msg = "Sign-in failed: " + a.err.Error()
		}
		fmt.Fprintf(w, "<!DOCTYPE html><title>Teleread</title><p>%s</p>\n", html.EscapeString(msg))
		answers <- a
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx) // lets the browser's page finish
	}()

	if err := open(authURL); err != nil {
		return Status{}, err
	}
	var a answer
	select {
	case a = <-answers:
	case <-ctx.Done():
		return Status{}, fmt.Errorf("signin: waiting for the browser: %w", context.Cause(ctx))
	}
	if a.err != nil {
		return Status{}, fmt.Errorf("signin: %w", a.err)
	}
	tok, err := conf.Exchange(s.ctx(ctx), a.code, oauth2.VerifierOption(verifier))
	if err != nil {
		return Status{}, fmt.Errorf("signin: exchange the code at %s: %w", p.endpoint.TokenURL, err)
	}
	return s.start(ctx, p, tok, nonce)
}

// start stores a new session from a token answer.
func (s *Session) start(ctx context.Context, p *provider, tok *oauth2.Token, nonce string) (Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.newRecord(ctx, p, tok, nonce, nil)
	if err != nil {
		return Status{}, err
	}
	if err := s.save(r); err != nil {
		return Status{}, err
	}
	return r.status(), nil
}
