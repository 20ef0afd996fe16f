package cache

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"teleread/cache/cachetest"
)

// studyUIDs are the studies the key tests give keys to.
var studyUIDs = []string{"1.2.826.0.1.3680043.8.498.1", "1.2.826.0.1.3680043.8.498.2", "1.2.826.0.1.3680043.8.498.3"}

// studyKeys returns the data keys of uids, creating them.
func studyKeys(t *testing.T, c *Cache, uids []string) map[string][]byte {
	t.Helper()
	keys := map[string][]byte{}
	for _, uid := range uids {
		k, err := c.StudyKey(uid)
		if err != nil {
			t.Fatalf("StudyKey(%s): %v", uid, err)
		}
		if len(k) != keySize {
			t.Fatalf("StudyKey(%s) has %d bytes", uid, len(k))
		}
		keys[uid] = k
	}
	return keys
}

func sameKeys(t *testing.T, c *Cache, want map[string][]byte) {
	t.Helper()
	for uid, w := range want {
		k, err := c.StudyKey(uid)
		if err != nil {
			t.Fatalf("StudyKey(%s): %v", uid, err)
		}
		if !bytes.Equal(k, w) {
			t.Fatalf("StudyKey(%s) changed", uid)
		}
	}
}

func withPassphrase(t *testing.T, p string) {
	t.Helper()
	t.Setenv(EnvKeystore, KeystorePassphrase)
	t.Setenv(EnvPassphrase, p)
}

// TestKeysSurviveReopen: study keys and the record key are the same after the
// cache is closed and opened again (they are stored, not derived per open),
// and every study has its own.
func TestKeysSurviveReopen(t *testing.T) {
	home := t.TempDir()
	c, err := Open(home)
	if err != nil {
		t.Fatal(err)
	}
	keys := studyKeys(t, c, studyUIDs)
	if bytes.Equal(keys[studyUIDs[0]], keys[studyUIDs[1]]) {
		t.Fatal("two studies got the same key")
	}
	record := c.RecordKey()
	if len(record) != keySize || bytes.Equal(record, keys[studyUIDs[0]]) {
		t.Fatalf("record key %x", record)
	}
	c.Close()

	c, err = Open(home)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sameKeys(t, c, keys)
	if !bytes.Equal(c.RecordKey(), record) {
		t.Fatal("record key changed across reopen")
	}
	// Callers own what they get: changing it changes nothing stored.
	k, _ := c.StudyKey(studyUIDs[0])
	k[0] ^= 0xff
	sameKeys(t, c, keys)
}

// TestWrongPassphraseRefused: a wrong passphrase is ErrWrongPassphrase (from
// the environment at once; asked, after three tries), never a cache with
// garbage keys; the right one asked again opens it.
func TestWrongPassphraseRefused(t *testing.T) {
	home := t.TempDir()
	withPassphrase(t, "right horse battery staple")
	c, err := Open(home)
	if err != nil {
		t.Fatal(err)
	}
	keys := studyKeys(t, c, studyUIDs[:1])
	c.Close()

	t.Setenv(EnvPassphrase, "wrong horse battery staple")
	if _, err := Open(home); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("env wrong passphrase: %v, want ErrWrongPassphrase", err)
	}

	t.Setenv(EnvPassphrase, "")
	if _, err := Open(home); !errors.Is(err, ErrPassphraseRequired) || !strings.Contains(err.Error(), EnvPassphrase) {
		t.Fatalf("no passphrase: %v, want ErrPassphraseRequired naming %s", err, EnvPassphrase)
	}

	answers := []string{"wrong", "right horse battery staple"}
	var asked []PassphraseRequest
	ask := func(r PassphraseRequest) ([]byte, error) {
		asked = append(asked, r)
		a := answers[0]
		answers = answers[1:]
		return []byte(a), nil
	}
	c, err = OpenWith(home, Options{Passphrase: ask})
	if err != nil {
		t.Fatalf("right passphrase on the second try: %v", err)
	}
	sameKeys(t, c, keys)
	c.Close()
	if len(asked) != 2 || asked[0].Retry || !asked[1].Retry || asked[0].New || asked[0].Home != home {
		t.Fatalf("asked %+v", asked)
	}

	tries := 0
	_, err = OpenWith(home, Options{Passphrase: func(PassphraseRequest) ([]byte, error) { tries++; return []byte("nope"), nil }})
	if !errors.Is(err, ErrWrongPassphrase) || tries != 3 {
		t.Fatalf("three wrong answers: %v after %d tries", err, tries)
	}
}

// TestNoKeystoreFails: with no keyring (no session bus) and no passphrase, a
// new cache is refused with an error that says what to set, and nothing is
// made that a later open would take for a key.
func TestNoKeystoreFails(t *testing.T) {
	home := t.TempDir()
	t.Setenv(EnvKeystore, "")
	t.Setenv(EnvPassphrase, "")
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", "")
	_, err := Open(home)
	if !errors.Is(err, ErrNoKeystore) {
		t.Fatalf("Open: %v, want ErrNoKeystore", err)
	}
	for _, want := range []string{EnvPassphrase, "keyring"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	info, err := ReadKeyInfo(home)
	if err != nil || info.Keystore != "" {
		t.Fatalf("after the refusal: %+v %v, want no master key", info, err)
	}
	// With a passphrase the same home opens, in the passphrase keystore.
	t.Setenv(EnvPassphrase, "now there is one")
	c, err := Open(home)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if info, _ := c.KeyInfo(); info.Keystore != KeystorePassphrase {
		t.Fatalf("keystore %q", info.Keystore)
	}
}

// TestKeystoreMismatch: asking for the keyring on a passphrase cache is a
// clear error, not a second master key.
func TestKeystoreMismatch(t *testing.T) {
	home := t.TempDir()
	c, err := Open(home)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	_, err = OpenWith(home, Options{Keystore: KeystoreKeyring})
	if !errors.Is(err, ErrKeystoreMismatch) || !strings.Contains(err.Error(), "keys rotate --keystore keyring") {
		t.Fatalf("Open: %v, want ErrKeystoreMismatch with the way out", err)
	}
	if _, err := OpenWith(home, Options{Keystore: "vault"}); err == nil || !strings.Contains(err.Error(), "vault") {
		t.Fatalf("unknown keystore: %v", err)
	}
}

// TestTwoCachesTwoKeys: two caches have two master keys, so the same study in
// both has two data keys and a copy of one cache's index does not open with
// the other's key.
func TestTwoCachesTwoKeys(t *testing.T) {
	a, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ka, kb := studyKeys(t, a, studyUIDs[:1]), studyKeys(t, b, studyUIDs[:1])
	if bytes.Equal(ka[studyUIDs[0]], kb[studyUIDs[0]]) {
		t.Fatal("same study key in two caches")
	}
	if bytes.Equal(a.keys.master, b.keys.master) || bytes.Equal(a.RecordKey(), b.RecordKey()) {
		t.Fatal("same master or record key in two caches")
	}
	ia, _ := a.KeyInfo()
	ib, _ := b.KeyInfo()
	if ia.CacheID == "" || ia.CacheID == ib.CacheID {
		t.Fatalf("cache ids %q %q", ia.CacheID, ib.CacheID)
	}
}

// wrappedStudyKey returns the stored (wrapped) key of a study.
func wrappedStudyKey(t *testing.T, c *Cache, uid string) []byte {
	t.Helper()
	var w []byte
	if err := c.db.QueryRow(`SELECT wrapped FROM data_keys WHERE id = ? AND generation = ?`, c.keys.studyKeyID(uid), c.keys.gen).Scan(&w); err != nil {
		t.Fatalf("wrapped key of %s: %v", uid, err)
	}
	return w
}

// homeHolds reports which of the index's files hold b.
func homeHolds(t *testing.T, home string, b []byte) []string {
	t.Helper()
	var in []string
	for _, name := range []string{"index.db", "index.db-wal", "index.db-shm"} {
		data, err := os.ReadFile(filepath.Join(home, name))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(data, b) {
			in = append(in, name)
		}
	}
	return in
}

// TestShredStudyKey: after ShredStudyKey the study's wrapped key is in none
// of the index's files (not in a free page, not in the write-ahead log),
// while another study's still is (so the search would find it); the study
// key is gone from memory too, and asking again makes a new one.
func TestShredStudyKey(t *testing.T) {
	home := t.TempDir()
	c, err := Open(home)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	keys := studyKeys(t, c, studyUIDs)
	gone, kept := wrappedStudyKey(t, c, studyUIDs[1]), wrappedStudyKey(t, c, studyUIDs[2])
	// Some of it checkpointed into index.db, some still in the log: both
	// places must be cleaned.
	if _, err := c.db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StudyKey("1.2.826.0.1.3680043.8.498.4"); err != nil {
		t.Fatal(err)
	}
	if len(homeHolds(t, home, gone)) == 0 {
		t.Fatal("the wrapped key is not in the index files before the shred: the search finds nothing")
	}

	if err := c.ShredStudyKey(studyUIDs[1]); err != nil {
		t.Fatal(err)
	}
	if in := homeHolds(t, home, gone); len(in) > 0 {
		t.Fatalf("shredded study key still in %v", in)
	}
	if in := homeHolds(t, home, kept); len(in) == 0 {
		t.Fatal("another study's key is gone too")
	}
	if _, ok := c.keys.studies[studyUIDs[1]]; ok {
		t.Fatal("shredded key still in memory")
	}
	if err := c.ShredStudyKey("1.2.3.never.seen"); err != nil {
		t.Fatalf("shred of a study without a key: %v", err)
	}
	k, err := c.StudyKey(studyUIDs[1])
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(k, keys[studyUIDs[1]]) {
		t.Fatal("the shredded key came back")
	}
	sameKeys(t, c, map[string][]byte{studyUIDs[0]: keys[studyUIDs[0]], studyUIDs[2]: keys[studyUIDs[2]]})
}

// TestStudyKeyOnceAcrossHandles: two handles on one cache (the app and an
// import, say) asking for a new study's key at once get the same key.
func TestStudyKeyOnceAcrossHandles(t *testing.T) {
	home := t.TempDir()
	a, err := Open(home)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(home)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for i := range 5 {
		uid := "1.2.826.0.1.3680043.8.498.100." + string(rune('1'+i))
		var wg gosync.WaitGroup
		got := make([][]byte, 4)
		for j := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				h := a
				if j%2 == 1 {
					h = b
				}
				k, err := h.StudyKey(uid)
				if err != nil {
					t.Error(err)
				}
				got[j] = k
			}()
		}
		wg.Wait()
		for j := range got {
			if !bytes.Equal(got[j], got[0]) {
				t.Fatalf("%s: handles got different keys", uid)
			}
		}
	}
}

// TestStudyKeyBadUID: an empty or oversized UID is refused, not keyed.
func TestStudyKeyBadUID(t *testing.T) {
	c, err := OpenTemp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, uid := range []string{"", strings.Repeat("1", 65)} {
		if _, err := c.StudyKey(uid); err == nil {
			t.Errorf("StudyKey(%q): no error", uid)
		}
	}
}

// TestRotateMasterKey: rotation makes a new generation under which every
// study key and the record key are what they were, before and after a
// reopen; the old generation's wrapped keys are gone from the index files.
// With a new passphrase the old one no longer opens the cache.
func TestRotateMasterKey(t *testing.T) {
	home := t.TempDir()
	c, err := Open(home)
	if err != nil {
		t.Fatal(err)
	}
	keys := studyKeys(t, c, studyUIDs)
	record := c.RecordKey()
	oldWrapped := wrappedStudyKey(t, c, studyUIDs[0])
	oldMaster := append([]byte(nil), c.keys.master...)
	res, err := c.RotateMasterKey(context.Background(), RotateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Generation != 2 || res.Keystore != KeystorePassphrase || res.Rewrapped != len(studyUIDs) {
		t.Fatalf("rotate: %+v", res)
	}
	if bytes.Equal(c.keys.master, oldMaster) {
		t.Fatal("master key unchanged")
	}
	sameKeys(t, c, keys)
	if in := homeHolds(t, home, oldWrapped); len(in) > 0 {
		t.Fatalf("the old generation's wrapped key is still in %v", in)
	}
	c.Close()

	c, err = Open(home)
	if err != nil {
		t.Fatal(err)
	}
	sameKeys(t, c, keys)
	if !bytes.Equal(c.RecordKey(), record) {
		t.Fatal("record key changed by rotation")
	}
	info, _ := c.KeyInfo()
	if info.Generation != 2 || info.StudyKeys != len(studyUIDs) || info.Retired != 0 {
		t.Fatalf("key info %+v", info)
	}

	// A new passphrase: the old one stops working.
	res, err = c.RotateMasterKey(context.Background(), RotateOptions{NewPassphrase: true,
		Passphrase: func(r PassphraseRequest) ([]byte, error) {
			if !r.New {
				t.Error("new passphrase not asked as new")
			}
			return []byte("a new passphrase"), nil
		}})
	if err != nil || res.Generation != 3 {
		t.Fatalf("rotate to a new passphrase: %+v %v", res, err)
	}
	c.Close()
	if _, err := Open(home); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("old passphrase after the change: %v", err)
	}
	t.Setenv(EnvPassphrase, "a new passphrase")
	c, err = Open(home)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sameKeys(t, c, keys)
}

// TestRotateRefusedWhileInUse: another open handle holds the old master key
// and could wrap a new study key with it, so rotation waits for it to close.
func TestRotateRefusedWhileInUse(t *testing.T) {
	home := t.TempDir()
	a, err := Open(home)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(home)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.RotateMasterKey(context.Background(), RotateOptions{}); !errors.Is(err, ErrCacheInUse) {
		t.Fatalf("rotate with another handle open: %v", err)
	}
	b.Close()
	if _, err := a.RotateMasterKey(context.Background(), RotateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestFollowRotation: a handle opened before another process rotated (it
// slipped in after the in-use check) still gets the right keys, old and new.
func TestFollowRotation(t *testing.T) {
	home := t.TempDir()
	a, err := Open(home)
	if err != nil {
		t.Fatal(err)
	}
	keys := studyKeys(t, a, studyUIDs[:1])
	b, err := Open(home)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.own.release(home) // act out b opening after a's in-use check
	if _, err := a.RotateMasterKey(context.Background(), RotateOptions{}); err != nil {
		t.Fatal(err)
	}
	nk, err := b.StudyKey(studyUIDs[1]) // made by b, under the new generation
	if err != nil {
		t.Fatal(err)
	}
	b2 := map[string][]byte{studyUIDs[1]: nk}
	sameKeys(t, a, b2)
	a.Close()
	c, err := Open(home)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sameKeys(t, c, keys)
	sameKeys(t, c, b2)
}

// TestKDFParamsBounded: parameters read from a damaged or hostile index are
// refused before argon2id allocates anything.
func TestKDFParamsBounded(t *testing.T) {
	tests := []struct {
		name    string
		p       kdfParams
		wantErr bool
	}{
		{"default", defaultKDF, false},
		{"test", testKDF, false},
		{"no passes", kdfParams{0, 64 << 10, 4}, true},
		{"tiny memory", kdfParams{3, 64, 4}, true},
		{"1 GiB", kdfParams{3, 1 << 20, 4}, false},
		{"2 GiB", kdfParams{3, 2 << 20, 4}, true},
		{"100 passes", kdfParams{100, 64 << 10, 4}, true},
		{"no lanes", kdfParams{3, 64 << 10, 0}, true},
	}
	for _, tt := range tests {
		if err := tt.p.check(); (err != nil) != tt.wantErr {
			t.Errorf("%s: check(%+v) = %v", tt.name, tt.p, err)
		}
	}
	home := t.TempDir()
	c, err := Open(home)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.db.Exec(`UPDATE key_master SET kdf_memory = ?`, int64(64<<20)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, err := Open(home); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Fatalf("Open with 64 GiB argon2id: %v", err)
	}
}

// TestArgon2idCost measures one unlock with the default parameters (the
// figure the README gives) and with the tests' parameters.
func TestArgon2idCost(t *testing.T) {
	salt := make([]byte, 16)
	for _, p := range []kdfParams{defaultKDF, testKDF} {
		start := time.Now()
		deriveKEK([]byte(cachetest.TestPassphrase), salt, p)
		t.Logf("%s: %v", p, time.Since(start).Round(time.Millisecond))
	}
}
