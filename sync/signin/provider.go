package signin

import (
	"context"
	"fmt"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// provider is what the discovery document says of the issuer.
type provider struct {
	p          *oidc.Provider
	endpoint   oauth2.Endpoint
	revocation string // RFC 7009 revocation endpoint; "" when none
	verifier   *oidc.IDTokenVerifier
}

// provider discovers the issuer's endpoints once per session (s.mu held).
// The document must name the configured issuer exactly (go-oidc checks), and
// every endpoint that receives a token must be https or on this machine.
func (s *Session) provider(ctx context.Context) (*provider, error) {
	if s.prov != nil {
		return s.prov, nil
	}
	p, err := oidc.NewProvider(s.ctx(ctx), s.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("signin: discovery of %s: %w", s.cfg.Issuer, err)
	}
	var extra struct {
		Revocation string `json:"revocation_endpoint"`
	}
	if err := p.Claims(&extra); err != nil {
		return nil, fmt.Errorf("signin: discovery of %s: %w", s.cfg.Issuer, err)
	}
	ep := p.Endpoint()
	for _, u := range []string{ep.AuthURL, ep.TokenURL, ep.DeviceAuthURL, extra.Revocation, p.UserInfoEndpoint()} {
		if u != "" && !secureOrLoopback(u) {
			return nil, fmt.Errorf("signin: discovery of %s: endpoint %s: %w", s.cfg.Issuer, u, ErrInsecureEndpoint)
		}
	}
	if s.cfg.ClientSecret == "" {
		// A public client authenticates with its client_id in the form;
		// auto-detection would first send an empty Basic password.
		ep.AuthStyle = oauth2.AuthStyleInParams
	}
	s.prov = &provider{p: p, endpoint: ep, revocation: extra.Revocation,
		verifier: p.Verifier(&oidc.Config{ClientID: s.cfg.ClientID, Now: s.cfg.Now})}
	return s.prov, nil
}

// oauth2Config is the client's OAuth2 configuration with p's endpoints.
func (s *Session) oauth2Config(p *provider, redirect string) *oauth2.Config {
	return &oauth2.Config{ClientID: s.cfg.ClientID, ClientSecret: s.cfg.ClientSecret, Endpoint: p.endpoint,
		RedirectURL: redirect, Scopes: s.cfg.Scopes}
}
