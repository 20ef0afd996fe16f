package signin

import (
	"context"
	"fmt"
	"time"
)

// DeviceCode is what the user needs to approve a device sign-in on another
// machine's browser.
type DeviceCode struct {
	VerificationURI string
	// VerificationURIComplete carries the user code (for a QR code or a
	// link); "" when the provider sends none.
	VerificationURIComplete string
	UserCode                string
	Expiry                  time.Time
}

// LoginDevice signs in with the device authorization grant (RFC 8628), for a
// machine without a browser: show is given the verification URI and the user
// code, and the provider is polled (at the interval it asks for, slower when
// it says slow_down) until the user approves or declines on another device,
// the code expires, or ctx ends.
func (s *Session) LoginDevice(ctx context.Context, show func(DeviceCode)) (Status, error) {
	s.mu.Lock()
	p, err := s.provider(ctx)
	s.mu.Unlock()
	if err != nil {
		return Status{}, err
	}
	if p.endpoint.DeviceAuthURL == "" {
		return Status{}, fmt.Errorf("signin: %s: %w", s.cfg.Issuer, ErrNoDeviceFlow)
	}
	conf := s.oauth2Config(p, "")
	da, err := conf.DeviceAuth(s.ctx(ctx))
	if err != nil {
		return Status{}, fmt.Errorf("signin: device authorization at %s: %w", p.endpoint.DeviceAuthURL, err)
	}
	if !secureOrLoopback(da.VerificationURI) {
		return Status{}, fmt.Errorf("signin: verification URI %s: %w", da.VerificationURI, ErrInsecureEndpoint)
	}
	show(DeviceCode{VerificationURI: da.VerificationURI, VerificationURIComplete: da.VerificationURIComplete,
		UserCode: da.UserCode, Expiry: da.Expiry})
	tok, err := conf.DeviceAccessToken(s.ctx(ctx), da)
	if err != nil {
		return Status{}, fmt.Errorf("signin: device sign-in at %s: %w", p.endpoint.TokenURL, err)
	}
	return s.start(ctx, p, tok, "")
}
