package cache

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/zalando/go-keyring"
	"golang.org/x/crypto/argon2"
)

// Where a cache's master key is kept (see keys.go for what it protects).
const (
	// KeystoreKeyring: in the OS keyring (Secret Service over D-Bus on
	// Linux, the Keychain on macOS, the Credential Manager on Windows), under
	// service KeyringService and an account naming the cache and the key's
	// generation.
	KeystoreKeyring = "keyring"
	// KeystorePassphrase: in the index, wrapped (AES-256-GCM) by a key that
	// argon2id derives from a passphrase.
	KeystorePassphrase = "passphrase"
	// KeystoreAuto: a new cache's master key goes to the keyring when the
	// session has one, else it is wrapped by a passphrase.
	KeystoreAuto = "auto"
)

// Environment read by Open.
const (
	// EnvKeystore chooses where a new cache's master key is kept (keyring,
	// passphrase or auto, the default); for an existing cache it must agree
	// with where the key is (or be unset).
	EnvKeystore = "TELEREAD_KEYSTORE"
	// EnvPassphrase is the passphrase of a cache whose master key is wrapped
	// by one; when unset it is asked for (Options.Passphrase).
	EnvPassphrase = "TELEREAD_PASSPHRASE"
	// EnvTestKDF set to "fast" makes new passphrase-wrapped master keys with
	// cheap argon2id parameters (one pass over 8 MiB) so that test suites
	// opening hundreds of caches stay fast. Test seam only: a key made so is
	// as weak as those parameters for as long as it lives.
	EnvTestKDF = "TELEREAD_TEST_KDF"
)

// KeyringService is the service name of the master keys in the OS keyring.
const KeyringService = "teleread"

// keyringTimeout bounds one keyring call: a Secret Service may show an
// unlock prompt and wait for a person (or, started by D-Bus activation on a
// session without a display, wait for ever).
var keyringTimeout = 90 * time.Second

var (
	// ErrNoKeystore: a new cache needs a master key and there is neither an
	// OS keyring nor a passphrase to wrap it with. The cache is never made
	// unencrypted instead.
	ErrNoKeystore = errors.New("cache: no keyring and no passphrase for the master key")
	// ErrPassphraseRequired: the master key is wrapped by a passphrase and
	// none was given (TELEREAD_PASSPHRASE unset and nobody to ask).
	ErrPassphraseRequired = errors.New("cache: the cache is protected by a passphrase; set " + EnvPassphrase)
	// ErrWrongPassphrase: the passphrase does not unwrap the master key.
	ErrWrongPassphrase = errors.New("cache: wrong passphrase")
	// ErrKeyringUnavailable: the OS keyring could not be reached.
	ErrKeyringUnavailable = errors.New("cache: OS keyring unavailable")
	// ErrMasterKeyMissing: the keyring has no entry for the cache's master
	// key (deleted, or another user's or machine's keyring). Without it the
	// cached studies cannot be read.
	ErrMasterKeyMissing = errors.New("cache: master key not in the keyring")
	// ErrMasterKeyMismatch: the key found is not the cache's master key.
	ErrMasterKeyMismatch = errors.New("cache: master key does not match the cache")
	// ErrKeystoreMismatch: TELEREAD_KEYSTORE (or Options.Keystore) names
	// another keystore than the one the cache's master key is in.
	ErrKeystoreMismatch = errors.New("cache: master key is in another keystore")
)

// PassphraseRequest says what a PassphraseFunc is asked for.
type PassphraseRequest struct {
	Home string
	// New: the passphrase will wrap a new master key (ask twice).
	New bool
	// Retry: the previous answer was wrong.
	Retry bool
}

// PassphraseFunc asks a person for a passphrase (a terminal prompt, a
// dialog). An error ends the attempt to open the cache. The returned slice
// is cleared once the key is derived.
type PassphraseFunc func(PassphraseRequest) ([]byte, error)

// Options are how Open reaches the master key. The zero value reads
// TELEREAD_KEYSTORE and TELEREAD_PASSPHRASE and asks nobody.
type Options struct {
	// Keystore is KeystoreKeyring, KeystorePassphrase or KeystoreAuto; ""
	// is $TELEREAD_KEYSTORE, else auto.
	Keystore string
	// Passphrase is asked when a passphrase is needed and
	// TELEREAD_PASSPHRASE is unset; nil: Open fails with
	// ErrPassphraseRequired (or ErrNoKeystore for a new cache).
	Passphrase PassphraseFunc
}

// keystoreChoice returns the keystore asked for and whether it was asked
// explicitly (not auto).
func (o Options) keystoreChoice() (string, bool, error) {
	k := o.Keystore
	if k == "" {
		k = os.Getenv(EnvKeystore)
	}
	switch k {
	case "", KeystoreAuto:
		return KeystoreAuto, false, nil
	case KeystoreKeyring, KeystorePassphrase:
		return k, true, nil
	}
	return "", false, fmt.Errorf("cache: keystore %q: want %s, %s or %s", k, KeystoreKeyring, KeystorePassphrase, KeystoreAuto)
}

// canAskPassphrase reports whether a passphrase can be had without asking
// the keyring.
func (o Options) canAskPassphrase() bool {
	return os.Getenv(EnvPassphrase) != "" || o.Passphrase != nil
}

// passphrase returns the passphrase from the environment, else asks.
func (o Options) passphrase(req PassphraseRequest) ([]byte, error) {
	if p := os.Getenv(EnvPassphrase); p != "" {
		if req.Retry {
			return nil, ErrWrongPassphrase
		}
		return []byte(p), nil
	}
	if o.Passphrase == nil {
		return nil, ErrPassphraseRequired
	}
	p, err := o.Passphrase(req)
	if err != nil {
		return nil, err
	}
	if len(p) == 0 {
		return nil, fmt.Errorf("cache: empty passphrase: %w", ErrPassphraseRequired)
	}
	return p, nil
}

// sessionHasKeyring reports whether a keyring can be expected without
// trying it. On Linux the Secret Service is reached over the session bus;
// with no session bus address godbus would try to autolaunch a bus (and D-Bus
// activation a keyring daemon that then waits on an invisible prompt), so a
// session without one counts as having no keyring.
func sessionHasKeyring() bool {
	switch runtime.GOOS {
	case "darwin", "windows":
		return true
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") != "" {
		return true
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "bus")); err == nil {
			return true
		}
	}
	return false
}

// keyringAccount names a master key generation of a cache in the keyring.
func keyringAccount(cacheID string, gen int64) string {
	return fmt.Sprintf("%s/%d", cacheID, gen)
}

// keyringCall runs one keyring operation with keyringTimeout.
func keyringCall[T any](op string, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-time.After(keyringTimeout):
		var zero T
		return zero, fmt.Errorf("%w: %s: no answer after %s", ErrKeyringUnavailable, op, keyringTimeout)
	}
}

func keyringSet(account string, key []byte) error {
	_, err := keyringCall("store", func() (struct{}, error) {
		return struct{}{}, keyring.Set(KeyringService, account, base64.StdEncoding.EncodeToString(key))
	})
	if err != nil && !errors.Is(err, ErrKeyringUnavailable) {
		err = fmt.Errorf("%w: %v", ErrKeyringUnavailable, err)
	}
	return err
}

func keyringGet(account string) ([]byte, error) {
	s, err := keyringCall("read", func() (string, error) { return keyring.Get(KeyringService, account) })
	switch {
	case errors.Is(err, keyring.ErrNotFound):
		return nil, fmt.Errorf("%w (service %q, account %q)", ErrMasterKeyMissing, KeyringService, account)
	case errors.Is(err, ErrKeyringUnavailable):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrKeyringUnavailable, err)
	}
	k, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(k) != keySize {
		return nil, fmt.Errorf("%w (service %q, account %q: not a key)", ErrMasterKeyMismatch, KeyringService, account)
	}
	return k, nil
}

// keyringDelete removes an entry; one that is not there counts as removed.
func keyringDelete(account string) error {
	_, err := keyringCall("delete", func() (struct{}, error) {
		return struct{}{}, keyring.Delete(KeyringService, account)
	})
	if errors.Is(err, keyring.ErrNotFound) {
		return nil
	}
	return err
}

// kdfParams are argon2id's cost parameters, stored with each wrapped key.
type kdfParams struct {
	Time      uint32 // passes
	MemoryKiB uint32
	Threads   uint8
}

// defaultKDF is RFC 9106's second recommended option (section 4): t=3,
// 64 MiB, 4 lanes, for machines where 2 GiB per unlock is too much (a
// laptop that also holds a night of CT). See the README for what an unlock
// costs.
var defaultKDF = kdfParams{Time: 3, MemoryKiB: 64 << 10, Threads: 4}

// testKDF is what EnvTestKDF=fast gives.
var testKDF = kdfParams{Time: 1, MemoryKiB: 8 << 10, Threads: 1}

// kdfForNew returns the parameters for a new passphrase-wrapped key.
func kdfForNew() kdfParams {
	if os.Getenv(EnvTestKDF) == "fast" {
		return testKDF
	}
	return defaultKDF
}

// check refuses parameters read from the index that would make an unlock
// allocate or run without bound (a damaged or hostile index): at most 16
// passes over 1 GiB with 16 lanes, 16 times the default's memory.
func (p kdfParams) check() error {
	if p.Time < 1 || p.Time > 16 || p.MemoryKiB < 8<<10 || p.MemoryKiB > 1<<20 || p.Threads < 1 || p.Threads > 16 {
		return fmt.Errorf("cache: master key: argon2id parameters t=%d m=%d KiB p=%d out of range", p.Time, p.MemoryKiB, p.Threads)
	}
	return nil
}

func (p kdfParams) String() string {
	return fmt.Sprintf("argon2id t=%d m=%d MiB p=%d", p.Time, p.MemoryKiB>>10, p.Threads)
}

// deriveKEK derives the key that wraps the master key from a passphrase.
func deriveKEK(pass, salt []byte, p kdfParams) []byte {
	return argon2.IDKey(pass, salt, p.Time, p.MemoryKiB, p.Threads, keySize)
}

// masterAAD binds a wrapped master key to its cache and generation, so that
// a row copied from another cache or generation does not open.
func masterAAD(cacheID string, gen int64) []byte {
	b := append([]byte("teleread master v1\x00"), cacheID...)
	return binary.BigEndian.AppendUint64(append(b, 0), uint64(gen))
}

// seal encrypts plain with AES-256-GCM under key: nonce || ciphertext.
func seal(key, plain, aad []byte) ([]byte, error) {
	g, err := gcm(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, g.NonceSize(), g.NonceSize()+len(plain)+g.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return g.Seal(nonce, nonce, plain, aad), nil
}

// errUnwrap is what open returns for a wrong key or damaged bytes.
var errUnwrap = errors.New("cache: key does not unwrap")

// open undoes seal.
func open(key, sealed, aad []byte) ([]byte, error) {
	g, err := gcm(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < g.NonceSize()+g.Overhead() {
		return nil, errUnwrap
	}
	plain, err := g.Open(nil, sealed[:g.NonceSize()], sealed[g.NonceSize():], aad)
	if err != nil {
		return nil, errUnwrap
	}
	return plain, nil
}

func gcm(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}
