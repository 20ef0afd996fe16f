package signin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Logout ends the session: the refresh token is revoked at the provider when
// its discovery document names a revocation endpoint (RFC 7009), and the
// stored session is deleted in any case. revoked reports whether the
// provider confirmed; err says why it did not (the local copy is gone all
// the same). Without a session Logout returns ErrNotSignedIn.
func (s *Session) Logout(ctx context.Context) (revoked bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.load()
	if err != nil {
		if errors.Is(err, ErrNotSignedIn) {
			return false, err
		}
		// A damaged stored session is deleted all the same.
		return false, errors.Join(err, s.forget())
	}
	token, hint := r.RefreshToken, "refresh_token"
	if token == "" {
		token, hint = r.AccessToken, "access_token"
	}
	var rerr error
	p, perr := s.provider(ctx)
	switch {
	case perr != nil:
		rerr = perr
	case p.revocation == "":
		rerr = nil
	default:
		rerr = s.revoke(ctx, p.revocation, token, hint)
		revoked = rerr == nil
	}
	if err := s.forget(); err != nil {
		return revoked, errors.Join(err, rerr)
	}
	return revoked, rerr
}

// revoke posts the token to the revocation endpoint, authenticating the
// client the way the token endpoint is told to.
func (s *Session) revoke(ctx context.Context, endpoint, token, hint string) error {
	form := url.Values{"token": {token}, "token_type_hint": {hint}}
	if s.cfg.ClientSecret == "" {
		form.Set("client_id", s.cfg.ClientID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("signin: revoke: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if s.cfg.ClientSecret != "" {
		req.SetBasicAuth(url.QueryEscape(s.cfg.ClientID), url.QueryEscape(s.cfg.ClientSecret))
	}
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL's query (none here) and the token (in the body, never quoted)
		}
		return fmt.Errorf("signin: revoke at %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("signin: revoke at %s: %s: %s", endpoint, resp.Status, printable(string(b), 300))
	}
	return nil
}
