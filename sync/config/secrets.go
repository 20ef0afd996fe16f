package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/zalando/go-keyring"
)

// Secrets keep what signs the reader in to the archive (password, bearer
// token, OAuth2 client secret) out of the configuration file: Save puts them
// here and Load takes them back. Keys name the secret's kind, the archive's
// origin and the user, so a secret goes back only to the archive it was
// given for.
type Secrets interface {
	// Get returns the secret, or an error wrapping ErrNoSecret.
	Get(key string) (string, error)
	Set(key, secret string) error
	// Delete removes the secret; an absent one is not an error.
	Delete(key string) error
}

// ErrNoSecret is returned by Secrets.Get for a secret never stored.
var ErrNoSecret = errors.New("no such secret")

// ErrNoKeyring is returned by Save when a secret is to be kept and the
// system keyring cannot keep it.
var ErrNoKeyring = errors.New("the system keyring is not available: put the token in a file readable only by you (chmod 600) and name it in token_file")

// Keyring is where Load and Save keep secrets: the system keyring (Secret
// Service over D-Bus on Linux, the Keychain on macOS, the Credential Manager
// on Windows). Tests replace it.
var Keyring Secrets = systemKeyring{}

// keyringService names Teleread's entries in the system keyring.
const keyringService = "teleread"

type systemKeyring struct{}

// errNoSessionBus: on Linux the keyring is a D-Bus service of the desktop
// session. Without a session bus the D-Bus library would try to launch one
// (dbus-launch), leaving a daemon behind a headless command.
var errNoSessionBus = errors.New("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS unset)")

func sessionBus() error {
	if runtime.GOOS != "linux" || os.Getenv("DBUS_SESSION_BUS_ADDRESS") != "" {
		return nil
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "bus")); err == nil {
			return nil
		}
	}
	return errNoSessionBus
}

func (systemKeyring) Get(key string) (string, error) {
	if err := sessionBus(); err != nil {
		return "", fmt.Errorf("keyring: %w", err)
	}
	s, err := keyring.Get(keyringService, key)
	if errors.Is(err, keyring.ErrNotFound) {
		return "", fmt.Errorf("keyring %s: %w", key, ErrNoSecret)
	}
	if err != nil {
		return "", fmt.Errorf("keyring: %w", err)
	}
	return s, nil
}

func (systemKeyring) Set(key, secret string) error {
	if err := sessionBus(); err != nil {
		return fmt.Errorf("keyring: %v: %w", err, ErrNoKeyring)
	}
	if err := keyring.Set(keyringService, key, secret); err != nil {
		return fmt.Errorf("keyring: %v: %w", err, ErrNoKeyring)
	}
	return nil
}

func (systemKeyring) Delete(key string) error {
	if err := sessionBus(); err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	err := keyring.Delete(keyringService, key)
	if err == nil || errors.Is(err, keyring.ErrNotFound) {
		return nil
	}
	return fmt.Errorf("keyring: %w", err)
}

// Secret kinds, the first part of a key.
const (
	SecretPassword     = "password"
	SecretToken        = "token"
	SecretClientSecret = "oauth2-client-secret"
)

// SecretKey is the key of a secret of kind for this configuration's archive
// and user.
func (c Config) SecretKey(kind string) string {
	o, ok := origin(c.Archive)
	if !ok {
		o = c.Archive
	}
	id := c.User
	if kind == SecretClientSecret && c.OAuth2 != nil {
		id = c.OAuth2.ClientID
	}
	return kind + " " + o + " " + id
}

// AuthKind is Auth, or what the fields set imply when it is empty.
func (c Config) AuthKind() string {
	if c.Auth != "" {
		return c.Auth
	}
	switch {
	case c.OAuth2 != nil:
		return "oauth2"
	case c.Token != "" || c.TokenFile != "":
		return "bearer"
	case c.User != "":
		return "basic"
	}
	return "none"
}

// secretKind is the kind of secret the auth needs, "" for none.
func (c Config) secretKind() string {
	switch c.AuthKind() {
	case "basic":
		return SecretPassword
	case "bearer":
		if c.TokenFile != "" {
			return ""
		}
		return SecretToken
	case "oauth2":
		return SecretClientSecret
	}
	return ""
}

// secret returns the secret the auth needs as the configuration holds it.
func (c *Config) secret() *string {
	switch c.secretKind() {
	case SecretPassword:
		return &c.Password
	case SecretToken:
		return &c.Token
	case SecretClientSecret:
		if c.OAuth2 != nil {
			return &c.OAuth2.ClientSecret
		}
	}
	return nil
}

// fillSecret takes the secret the auth needs from the keyring when neither
// the file nor the environment gave it. A keyring that cannot be read is
// remembered and named when the archive then refuses the reader.
func (c *Config) fillSecret() {
	p := c.secret()
	if p == nil || *p != "" || c.Archive == "" {
		return
	}
	s, err := Keyring.Get(c.SecretKey(c.secretKind()))
	if err != nil {
		if !errors.Is(err, ErrNoSecret) {
			c.secretErr = err
		}
		return
	}
	*p = s
}

// SecretError is why the secret the configuration needs could not be read
// from the keyring; nil when it was read or was not needed.
func (c Config) SecretError() error { return c.secretErr }
