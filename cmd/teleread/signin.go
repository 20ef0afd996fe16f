package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"teleread/cache"
	"teleread/sync/signin"
)

// signedInConfig is the configuration with the sign-in session of an
// OpenID Connect archive attached: kept in the keyring, else sealed in the
// cache's home under a key of the cache's key hierarchy.
func (g *globals) signedInConfig(c *cache.Cache) (config, error) {
	conf, err := loadConfig()
	if err != nil {
		return conf, err
	}
	return conf.WithSignIn(filepath.Join(g.home, "signin"), signin.SealKey(c.RecordKey()))
}

// session opens the cache and the configured archive's sign-in session; the
// caller closes the cache.
func (g *globals) session() (*signin.Session, *cache.Cache, error) {
	c, err := g.openCache()
	if err != nil {
		return nil, nil, err
	}
	conf, err := g.signedInConfig(c)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	if conf.SignIn() == nil {
		c.Close()
		return nil, nil, fmt.Errorf("the configured archive has no sign-in: put \"oauth2\": {\"issuer\": ..., \"client_id\": ...} in %s", configPath())
	}
	return conf.SignIn(), c, nil
}

func runLogin(g *globals, args []string) int {
	fs := flag.NewFlagSet("login", flag.ContinueOnError)
	device := fs.Bool("device", false, "sign in from another device's browser: print a verification URL and a code, wait for approval")
	noBrowser := fs.Bool("no-browser", false, "print the sign-in URL instead of opening the browser (open it on this machine)")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up waiting after this long")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	s, c, err := g.session()
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	var st signin.Status
	if *device {
		st, err = s.LoginDevice(ctx, func(dc signin.DeviceCode) {
			fmt.Fprintf(stdout, "To sign in, visit %s on any device and enter the code %s\n", dc.VerificationURI, dc.UserCode)
			if dc.VerificationURIComplete != "" {
				fmt.Fprintf(stdout, "(or visit %s)\n", dc.VerificationURIComplete)
			}
			fmt.Fprintf(stdout, "Waiting for approval (the code expires at %s)…\n", dc.Expiry.Local().Format("15:04"))
		})
	} else {
		st, err = s.Login(ctx, func(u string) error {
			if *noBrowser {
				fmt.Fprintf(stdout, "Open this URL in a browser on this machine to sign in:\n  %s\n", u)
				return nil
			}
			fmt.Fprintf(stdout, "Signing in with your browser. If it does not open, visit:\n  %s\n", u)
			if err := signin.OpenBrowser(u); err != nil {
				fmt.Fprintln(stderr, "teleread:", err)
			}
			return nil
		})
	}
	if err != nil {
		return fail(fmt.Errorf("login: %w", err))
	}
	fmt.Fprintf(stdout, "Signed in to %s as %s.\n", st.Issuer, st.Identity)
	return 0
}

func runLogout(g *globals, args []string) int {
	fs := flag.NewFlagSet("logout", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	s, c, err := g.session()
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	revoked, err := s.Logout(ctx)
	switch {
	case errors.Is(err, signin.ErrNotSignedIn):
		fmt.Fprintf(stdout, "Not signed in to %s.\n", s.Issuer())
		return 0
	case revoked:
		fmt.Fprintf(stdout, "Signed out of %s: the session was revoked there and deleted here.\n", s.Issuer())
	case err != nil:
		fmt.Fprintf(stdout, "Signed out here: the stored session was deleted.\n")
		return fail(fmt.Errorf("logout: the provider did not revoke the session: %w", err))
	default:
		fmt.Fprintf(stdout, "Signed out here: the stored session was deleted (%s offers no revocation).\n", s.Issuer())
	}
	return 0
}

func runWhoami(g *globals, args []string) int {
	fs := flag.NewFlagSet("whoami", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	s, c, err := g.session()
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	st, err := s.Status()
	if errors.Is(err, signin.ErrNotSignedIn) {
		fmt.Fprintf(stdout, "Not signed in to %s: run teleread login.\n", s.Issuer())
		return 1
	}
	if err != nil {
		return fail(err)
	}
	if *asJSON {
		out := struct {
			Issuer        string          `json:"issuer"`
			Identity      signin.Identity `json:"identity"`
			SignedInAt    time.Time       `json:"signed_in_at"`
			AccessExpiry  time.Time       `json:"access_token_expiry"`
			SessionExpiry *time.Time      `json:"session_expiry,omitempty"`
			Renewable     bool            `json:"renewable"`
		}{Issuer: st.Issuer, Identity: st.Identity, SignedInAt: st.SignedInAt, AccessExpiry: st.AccessExpiry, Renewable: st.Renewable}
		if !st.SessionExpiry.IsZero() {
			out.SessionExpiry = &st.SessionExpiry
		}
		b, _ := json.MarshalIndent(out, "", "  ")
		fmt.Fprintln(stdout, string(b))
		return 0
	}
	fmt.Fprintf(stdout, "Signed in to %s as %s (subject %s) since %s.\n", st.Issuer, st.Identity, st.Identity.Subject,
		st.SignedInAt.Local().Format("2006-01-02 15:04"))
	fmt.Fprintf(stdout, "Access token expires %s", st.AccessExpiry.Local().Format("2006-01-02 15:04:05"))
	switch {
	case !st.Renewable:
		fmt.Fprintln(stdout, "; it cannot be renewed: sign in again then.")
	case st.SessionExpiry.IsZero():
		fmt.Fprintln(stdout, "; it is renewed automatically while the session lasts.")
	default:
		fmt.Fprintf(stdout, "; it is renewed automatically until the session ends at %s.\n", st.SessionExpiry.Local().Format("2006-01-02 15:04"))
	}
	return 0
}
