package signin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/oauth2"
)

// maxMargin is how long before its expiry an access token is renewed at
// most; shorter-lived tokens are renewed when a fifth of their life is left.
const maxMargin = time.Minute

// AccessToken returns an access token for the archive, renewing it with the
// refresh token when it expires soon (or the archive refused it). When the
// provider refuses the refresh token the stored session is deleted and the
// error is a *SessionEndedError (wrapping ErrSignInRequired); without a
// session it is ErrNotSignedIn. Failures to reach the provider are returned
// as they are: the session may still be good.
func (s *Session) AccessToken(ctx context.Context) (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.load()
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	margin := min(maxMargin, r.Expiry.Sub(r.Issued)/5)
	if !s.stale && r.AccessToken != "" && (r.Expiry.IsZero() || now.Add(margin).Before(r.Expiry)) {
		return &oauth2.Token{AccessToken: r.AccessToken, TokenType: r.TokenType, Expiry: r.Expiry}, nil
	}
	if r.RefreshToken == "" {
		s.forget()
		return nil, &SessionEndedError{Issuer: s.cfg.Issuer, Err: errors.New("the access token expired and the provider gave no refresh token (ask for the offline_access scope)")}
	}
	p, err := s.provider(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := s.oauth2Config(p, "").TokenSource(s.ctx(ctx), &oauth2.Token{RefreshToken: r.RefreshToken}).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 &&
			re.Response.StatusCode != http.StatusTooManyRequests {
			// invalid_grant and its kin: the session is over. Forgetting
			// it means the next request says so at once instead of
			// asking the provider again.
			s.forget()
			return nil, &SessionEndedError{Issuer: s.cfg.Issuer, Err: fmt.Errorf("%s", refusal(re))}
		}
		return nil, fmt.Errorf("signin: renew the access token at %s: %w", p.endpoint.TokenURL, err)
	}
	nr, err := s.newRecord(ctx, p, tok, "", r)
	if err != nil {
		return nil, err
	}
	if err := s.save(nr); err != nil {
		return nil, err
	}
	return &oauth2.Token{AccessToken: nr.AccessToken, TokenType: nr.TokenType, Expiry: nr.Expiry}, nil
}

// refusal is the provider's error code and description, without the rest of
// its answer.
func refusal(re *oauth2.RetrieveError) string {
	if re.ErrorCode == "" {
		return re.Response.Status
	}
	if re.ErrorDescription != "" {
		return re.ErrorCode + ": " + printable(re.ErrorDescription, 300)
	}
	return re.ErrorCode
}

// Invalidate makes the next AccessToken renew the token: the archive refused it.
func (s *Session) Invalidate() {
	s.mu.Lock()
	s.stale = true
	s.mu.Unlock()
}
