package signin

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/zalando/go-keyring"
)

// ErrNoRecord is returned by a Store that holds nothing under the name.
var ErrNoRecord = errors.New("no stored session")

// Store keeps sessions (refresh tokens among them) by name. Implementations
// never write them in clear.
type Store interface {
	Load(id string) ([]byte, error) // ErrNoRecord when absent
	Save(id string, b []byte) error
	Delete(id string) error // ErrNoRecord when absent
}

// KeyringService is the service name of the sessions in the OS keyring.
const KeyringService = "Teleread sign-in"

// KeyringStore keeps sessions in the OS keyring (the Secret Service over
// D-Bus on Linux, the Keychain on macOS, the Credential Manager on Windows).
type KeyringStore struct{}

// errNoSessionBus: on Linux the keyring is a D-Bus service of the desktop
// session. Without a session bus the D-Bus library would launch one
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

// Load reads the session id from the keyring.
func (KeyringStore) Load(id string) ([]byte, error) {
	if err := sessionBus(); err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	v, err := keyring.Get(KeyringService, id)
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, ErrNoRecord
	}
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	return []byte(v), nil
}

// Save writes the session id to the keyring.
func (KeyringStore) Save(id string, b []byte) error {
	if err := sessionBus(); err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	if err := keyring.Set(KeyringService, id, string(b)); err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	return nil
}

// Delete removes the session id from the keyring.
func (KeyringStore) Delete(id string) error {
	if err := sessionBus(); err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	err := keyring.Delete(KeyringService, id)
	if errors.Is(err, keyring.ErrNotFound) {
		return ErrNoRecord
	}
	if err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	return nil
}

// SealedFileStore keeps each session in a file of Dir sealed with
// AES-256-GCM under Key, the session's name as additional data (a file
// copied under another name does not open). For machines without a keyring.
type SealedFileStore struct {
	Dir string
	Key []byte // 32 bytes; see SealKey
}

// SealKey derives the sealed store's key from a key of the cache's key
// hierarchy (cache.RecordKey): one purpose, one key.
func SealKey(parent []byte) []byte {
	m := hmac.New(sha256.New, parent)
	m.Write([]byte("teleread sign-in session store v1"))
	return m.Sum(nil)
}

// sealMagic starts every sealed session file.
var sealMagic = []byte("TRSIGNIN1")

func (f SealedFileStore) path(id string) string {
	h := sha256.Sum256([]byte(id))
	return filepath.Join(f.Dir, hex.EncodeToString(h[:16])+".sealed")
}

func (f SealedFileStore) aead() (cipher.AEAD, error) {
	if len(f.Key) != 32 {
		return nil, errors.New("sealed session store: want a 32-byte key")
	}
	block, err := aes.NewCipher(f.Key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Load opens the sealed session id.
func (f SealedFileStore) Load(id string) ([]byte, error) {
	p := f.path(id)
	fh, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoRecord
	}
	if err != nil {
		return nil, fmt.Errorf("sealed session: %w", err)
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("sealed session %s: %w", p, err)
	}
	g, err := f.aead()
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(b, sealMagic) || len(b) < len(sealMagic)+g.NonceSize() {
		return nil, fmt.Errorf("sealed session %s: not a sealed session file", p)
	}
	b = b[len(sealMagic):]
	plain, err := g.Open(nil, b[:g.NonceSize()], b[g.NonceSize():], []byte(id))
	if err != nil {
		return nil, fmt.Errorf("sealed session %s: cannot be opened with this cache's key: %w", p, err)
	}
	return plain, nil
}

// Save seals b into the file of id, atomically, readable by the user alone.
func (f SealedFileStore) Save(id string, b []byte) error {
	g, err := f.aead()
	if err != nil {
		return err
	}
	nonce := make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return fmt.Errorf("sealed session: %w", err)
	}
	out := append(append(append([]byte{}, sealMagic...), nonce...), g.Seal(nil, nonce, b, []byte(id))...)
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return fmt.Errorf("sealed session: %w", err)
	}
	tmp, err := os.CreateTemp(f.Dir, ".session-*")
	if err != nil {
		return fmt.Errorf("sealed session: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		return fmt.Errorf("sealed session: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sealed session: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("sealed session: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.path(id)); err != nil {
		return fmt.Errorf("sealed session: %w", err)
	}
	return nil
}

// Delete removes the sealed session id.
func (f SealedFileStore) Delete(id string) error {
	err := os.Remove(f.path(id))
	if errors.Is(err, os.ErrNotExist) {
		return ErrNoRecord
	}
	if err != nil {
		return fmt.Errorf("sealed session: %w", err)
	}
	return nil
}

// FallbackStore uses the keyring where there is one and the sealed file
// otherwise: a session saved to the keyring removes any sealed copy, and one
// the keyring cannot take (no Secret Service, too big for it) goes to the
// file.
type FallbackStore struct {
	Keyring Store
	File    Store
}

// DefaultStore is the OS keyring, else sessions sealed in dir under sealKey.
func DefaultStore(dir string, sealKey []byte) Store {
	return FallbackStore{Keyring: KeyringStore{}, File: SealedFileStore{Dir: dir, Key: sealKey}}
}

// Load reads the keyring's copy, else the file's.
func (s FallbackStore) Load(id string) ([]byte, error) {
	b, err := s.Keyring.Load(id)
	if err == nil {
		return b, nil
	}
	fb, ferr := s.File.Load(id)
	if errors.Is(ferr, ErrNoRecord) && !errors.Is(err, ErrNoRecord) {
		// Neither holds it; the keyring's failure may say why (locked).
		return nil, errors.Join(ErrNoRecord, err)
	}
	return fb, ferr
}

// Save writes to the keyring, else to the file.
func (s FallbackStore) Save(id string, b []byte) error {
	kerr := s.Keyring.Save(id, b)
	if kerr == nil {
		if err := s.File.Delete(id); err != nil && !errors.Is(err, ErrNoRecord) {
			return err
		}
		return nil
	}
	if err := s.File.Save(id, b); err != nil {
		return errors.Join(kerr, err)
	}
	return nil
}

// Delete removes both copies. A keyring that cannot be asked (none on this
// machine) counts as holding none.
func (s FallbackStore) Delete(id string) error {
	kerr := s.Keyring.Delete(id)
	ferr := s.File.Delete(id)
	switch {
	case ferr != nil && !errors.Is(ferr, ErrNoRecord):
		return ferr // a sealed copy may remain
	case kerr == nil || ferr == nil:
		return nil
	}
	return ErrNoRecord
}
