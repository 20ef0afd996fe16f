package app

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
)

// seal writes a secret the way an earlier version kept it in the preferences;
// only the move-to-the-keyring tests need to make such values now.
func (b *secretBox) seal(plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	k, err := b.key(true)
	if err != nil {
		return "", err
	}
	gcm, err := newGCM(k)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("app: seal: %w", err)
	}
	out := gcm.Seal(nonce, nonce, []byte(plain), nil)
	return sealedPrefix + base64.StdEncoding.EncodeToString(out), nil
}
