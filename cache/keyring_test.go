package cache

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"

	"teleread/cache/cachetest"
)

// TestKeyringKeystore: with a real Secret Service, a new cache's master key
// goes to the keyring (explicitly and in auto mode), under its own account
// per cache; the cache reopens with it; rotation writes the new generation's
// entry and deletes the old one; moving between keystores works both ways;
// and a deleted entry is ErrMasterKeyMissing, not a new key.
func TestKeyringKeystore(t *testing.T) {
	if !cachetest.InSecretService(t) {
		return
	}
	ctx := context.Background()
	home := t.TempDir()
	c, err := OpenWith(home, Options{Keystore: KeystoreKeyring})
	if err != nil {
		t.Fatal(err)
	}
	info, _ := c.KeyInfo()
	if info.Keystore != KeystoreKeyring || info.KeyringService != KeyringService || info.KeyringAccount != keyringAccount(info.CacheID, 1) {
		t.Fatalf("key info %+v", info)
	}
	stored, err := keyring.Get(KeyringService, info.KeyringAccount)
	if err != nil {
		t.Fatalf("the keyring has no entry %s: %v", info.KeyringAccount, err)
	}
	if raw, _ := base64.StdEncoding.DecodeString(stored); !bytes.Equal(raw, c.keys.master) {
		t.Fatal("the keyring entry is not the master key")
	}
	keys := studyKeys(t, c, studyUIDs)
	record := c.RecordKey()
	c.Close()

	// Reopen from the keyring; no passphrase involved.
	t.Setenv(EnvPassphrase, "")
	c, err = OpenWith(home, Options{Keystore: KeystoreKeyring})
	if err != nil {
		t.Fatal(err)
	}
	sameKeys(t, c, keys)

	// Rotation: a new entry, the old one deleted, same data keys.
	res, err := c.RotateMasterKey(ctx, RotateOptions{})
	if err != nil || res.Generation != 2 || res.Keystore != KeystoreKeyring {
		t.Fatalf("rotate: %+v %v", res, err)
	}
	if _, err := keyring.Get(KeyringService, keyringAccount(info.CacheID, 1)); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("old generation's entry after rotation: %v", err)
	}
	if _, err := keyring.Get(KeyringService, keyringAccount(info.CacheID, 2)); err != nil {
		t.Fatalf("new generation's entry: %v", err)
	}
	c.Close()

	// Killed after the commit: the old entry stays until the next open.
	rotateKilled(t, home, StepKeysRotateCommitted, "TELEREAD_TEST_ROTATE_FROM="+KeystoreKeyring)
	if _, err := keyring.Get(KeyringService, keyringAccount(info.CacheID, 2)); err != nil {
		t.Fatalf("entry of generation 2 before the reopen: %v", err)
	}
	c, err = OpenWith(home, Options{Keystore: KeystoreKeyring})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keyring.Get(KeyringService, keyringAccount(info.CacheID, 2)); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("retired entry after the reopen: %v", err)
	}
	sameKeys(t, c, keys)
	if !bytes.Equal(c.RecordKey(), record) {
		t.Fatal("record key changed")
	}
	c.Close()

	// Auto mode with a session bus picks the keyring; two caches, two
	// entries, two keys.
	other := t.TempDir()
	o, err := OpenWith(other, Options{Keystore: KeystoreAuto})
	if err != nil {
		t.Fatal(err)
	}
	oi, _ := o.KeyInfo()
	if oi.Keystore != KeystoreKeyring || oi.CacheID == info.CacheID {
		t.Fatalf("auto: %+v", oi)
	}
	if bytes.Equal(studyKeys(t, o, studyUIDs[:1])[studyUIDs[0]], keys[studyUIDs[0]]) {
		t.Fatal("two caches, one study key")
	}

	// To the passphrase keystore and back.
	t.Setenv(EnvPassphrase, "moved out of the keyring")
	res, err = o.RotateMasterKey(ctx, RotateOptions{Keystore: KeystorePassphrase})
	if err != nil || res.Keystore != KeystorePassphrase {
		t.Fatalf("to passphrase: %+v %v", res, err)
	}
	if _, err := keyring.Get(KeyringService, oi.KeyringAccount); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("keyring entry after moving to a passphrase: %v", err)
	}
	o.Close()
	o, err = OpenWith(other, Options{Keystore: KeystorePassphrase})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.RotateMasterKey(ctx, RotateOptions{Keystore: KeystoreKeyring}); err != nil {
		t.Fatalf("back to the keyring: %v", err)
	}
	o.Close()
	t.Setenv(EnvPassphrase, "")
	o, err = OpenWith(other, Options{Keystore: KeystoreKeyring})
	if err != nil {
		t.Fatal(err)
	}
	o.Close()

	// Without a session bus (an ssh login) the keyring is not tried.
	bus := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	if _, err := OpenWith(home, Options{Keystore: KeystoreAuto}); !errors.Is(err, ErrKeyringUnavailable) || !strings.Contains(err.Error(), "DBUS_SESSION_BUS_ADDRESS") {
		t.Fatalf("open without a session bus: %v", err)
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", bus)

	// The entry deleted (another machine, a wiped keyring): a clear error
	// naming the entry, never a fresh key over the old data.
	if err := keyring.Delete(KeyringService, keyringAccount(info.CacheID, 3)); err != nil {
		t.Fatal(err)
	}
	_, err = OpenWith(home, Options{Keystore: KeystoreKeyring})
	if !errors.Is(err, ErrMasterKeyMissing) || !strings.Contains(err.Error(), keyringAccount(info.CacheID, 3)) {
		t.Fatalf("open without the keyring entry: %v", err)
	}
	// A different key under the account is told from the right one.
	if err := keyring.Set(KeyringService, keyringAccount(info.CacheID, 3), base64.StdEncoding.EncodeToString(make([]byte, 32))); err != nil {
		t.Fatal(err)
	}
	if _, err = OpenWith(home, Options{Keystore: KeystoreKeyring}); !errors.Is(err, ErrMasterKeyMismatch) {
		t.Fatalf("open with a wrong key in the keyring: %v", err)
	}
}
