package app

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// secretBox opens the secrets (archive passwords, tokens) an earlier version
// kept in the preferences, for their move to the keyring (migratePreferences);
// nothing is sealed with it any more. They were sealed with AES-256-GCM under a random key kept in its
// own file (mode 0600) in the cache directory. Someone who copies or reads the
// preferences alone learns nothing; someone with the user's whole account can
// still unseal them, as with any key kept on the same machine. The key file is
// separate so that backups or bug reports of the preferences carry no secret.
type secretBox struct {
	keyPath string
}

// sealedPrefix marks a sealed value in the preferences.
const sealedPrefix = "sealed1:"

// ErrSecret is returned when a sealed value cannot be opened (another machine's
// key, a damaged value).
var ErrSecret = errors.New("app: secret cannot be opened")

func newSecretBox(home string) *secretBox {
	return &secretBox{keyPath: filepath.Join(home, "secret.key")}
}

func (b *secretBox) key(create bool) ([]byte, error) {
	k, err := os.ReadFile(b.keyPath)
	if err == nil && len(k) == 32 {
		return k, nil
	}
	if !create {
		return nil, fmt.Errorf("app: secret key %s: %w", b.keyPath, ErrSecret)
	}
	k = make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("app: secret key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(b.keyPath), 0o700); err != nil {
		return nil, fmt.Errorf("app: secret key: %w", err)
	}
	tmp := b.keyPath + ".tmp"
	if err := os.WriteFile(tmp, k, 0o600); err != nil {
		return nil, fmt.Errorf("app: secret key: %w", err)
	}
	if err := os.Rename(tmp, b.keyPath); err != nil {
		return nil, fmt.Errorf("app: secret key: %w", err)
	}
	return k, nil
}

// open returns the secret of a sealed value.
func (b *secretBox) open(sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	if !strings.HasPrefix(sealed, sealedPrefix) {
		return "", ErrSecret
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sealed, sealedPrefix))
	if err != nil {
		return "", ErrSecret
	}
	k, err := b.key(false)
	if err != nil {
		return "", err
	}
	gcm, err := newGCM(k)
	if err != nil {
		return "", err
	}
	if len(raw) < gcm.NonceSize() {
		return "", ErrSecret
	}
	plain, err := gcm.Open(nil, raw[:gcm.NonceSize()], raw[gcm.NonceSize():], nil)
	if err != nil {
		return "", ErrSecret
	}
	return string(plain), nil
}

func newGCM(k []byte) (cipher.AEAD, error) {
	blk, err := aes.NewCipher(k)
	if err != nil {
		return nil, fmt.Errorf("app: secret: %w", err)
	}
	return cipher.NewGCM(blk)
}
