package cache

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// The key hierarchy. Each cache has a master key (32 random bytes) kept
// outside the cache's files: in the OS keyring, or wrapped by a key argon2id
// derives from a passphrase (keystore.go). The master key only wraps: every
// study has its own random data key, and the index has a random root key
// that its record key derives from, each stored wrapped (AES-256-GCM) in
// data_keys. So rotating the master key re-wraps a few hundred bytes per
// study and re-encrypts nothing, and shredding a study is deleting one row:
// without its wrapped key the study's files are noise, in every copy of the
// disk.

const keySize = 32

// Labels of the keys derived with HKDF-SHA256.
const (
	labelWrap    = "teleread data key wrap v1" // from the master key: wraps data keys
	labelCheck   = "teleread master check v1"  // from the master key: its check value
	labelRecord  = "teleread index v1"         // from the index root: RecordKey
	labelStudyID = "teleread study key id v1"  // from the index root: names study keys in data_keys
)

// indexRootID is data_keys.id of the index root (study ids are 32-byte HMACs).
var indexRootID = []byte("index")

var (
	// ErrStudyKey is returned when a study's data key is there but does not
	// unwrap (a damaged index).
	ErrStudyKey = errors.New("cache: study key does not unwrap")
	// ErrMasterRotated is returned when another process rotated the master
	// key under this one in a way it cannot follow (a new passphrase):
	// reopen the cache.
	ErrMasterRotated = errors.New("cache: master key was rotated by another process; reopen the cache")
	// ErrShredIncomplete is returned by ShredStudyKey when the key's row is
	// deleted but a reader of another process kept the write-ahead log from
	// being checkpointed, so its bytes are still in index.db-wal; they are
	// overwritten at the next checkpoint (ShredStudyKey again, or the next
	// Open).
	ErrShredIncomplete = errors.New("cache: study key deleted but still in the write-ahead log")
)

// keyState is an open cache's unwrapped keys.
type keyState struct {
	gen      int64
	keystore string
	cacheID  string
	master   []byte
	wrap     []byte // HKDF(master, labelWrap)
	// Passphrase keystore: the key the passphrase derived and what it was
	// derived with, kept to follow a rotation by another process.
	kek  []byte
	salt []byte
	kdf  kdfParams

	record  []byte // RecordKey
	studyID []byte
	studies map[string][]byte // unwrapped study keys by Study Instance UID
}

func derive(secret []byte, label string) []byte {
	k, err := hkdf.Key(sha256.New, secret, nil, label, keySize)
	if err != nil {
		panic("cache: hkdf: " + err.Error()) // only for lengths over 255*32
	}
	return k
}

func checkValue(master []byte) []byte {
	m := hmac.New(sha256.New, derive(master, labelCheck))
	return m.Sum(nil)
}

func randomKey() ([]byte, error) {
	k := make([]byte, keySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("cache: random key: %w", err)
	}
	return k, nil
}

// dataAAD binds a wrapped data key to its row.
func dataAAD(id []byte, gen int64) []byte {
	b := append([]byte("teleread data key v1\x00"), id...)
	return binary.BigEndian.AppendUint64(append(b, 0), uint64(gen))
}

// studyKeyID is data_keys.id of a study's key.
func (k *keyState) studyKeyID(studyUID string) []byte {
	m := hmac.New(sha256.New, k.studyID)
	m.Write([]byte(studyUID))
	return m.Sum(nil)
}

// setMaster installs a master key of generation gen.
func (k *keyState) setMaster(master []byte, gen int64) {
	k.master, k.gen, k.wrap = master, gen, derive(master, labelWrap)
}

// setIndexRoot derives the keys that come from the index root.
func (k *keyState) setIndexRoot(root []byte) {
	k.record, k.studyID = derive(root, labelRecord), derive(root, labelStudyID)
}

func (k *keyState) forget() {
	for _, b := range [][]byte{k.master, k.wrap, k.kek, k.record, k.studyID} {
		clear(b)
	}
	for uid, b := range k.studies {
		clear(b)
		delete(k.studies, uid)
	}
}

// masterRow is a row of key_master.
type masterRow struct {
	gen      int64
	state    string
	keystore string
	cacheID  string
	kdf      kdfParams
	salt     []byte
	wrapped  []byte
	check    []byte
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func readMaster(ctx context.Context, q querier, where string, args ...any) (masterRow, error) {
	var r masterRow
	var t, m, p sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT generation, state, keystore, cache_id, kdf_time, kdf_memory, kdf_threads, salt, wrapped, check_value
		FROM key_master WHERE `+where, args...).Scan(&r.gen, &r.state, &r.keystore, &r.cacheID, &t, &m, &p, &r.salt, &r.wrapped, &r.check)
	if err != nil {
		return r, err
	}
	if t.Valid {
		if t.Int64 < 0 || t.Int64 > 1<<32-1 || m.Int64 < 0 || m.Int64 > 1<<32-1 || p.Int64 < 0 || p.Int64 > 255 {
			return r, fmt.Errorf("cache: master key: argon2id parameters out of range")
		}
		r.kdf = kdfParams{Time: uint32(t.Int64), MemoryKiB: uint32(m.Int64), Threads: uint8(p.Int64)}
	}
	return r, nil
}

// unlockKeys reads (or, for a new cache, makes) the master key and the index
// root. Called by Open after the migrations.
func (c *Cache) unlockKeys(ctx context.Context, o Options) error {
	store, explicit, err := o.keystoreChoice()
	if err != nil {
		return err
	}
	c.keys.studies = map[string][]byte{}
	row, err := readMaster(ctx, c.db, `state = 'current'`)
	made := false
	if errors.Is(err, sql.ErrNoRows) {
		if made, err = c.createMaster(ctx, o, store); err != nil {
			return err
		}
		if !made { // another process made it first
			row, err = readMaster(ctx, c.db, `state = 'current'`)
		}
	}
	if err != nil {
		return fmt.Errorf("cache: master key: %w", err)
	}
	if !made {
		if explicit && row.keystore != store {
			return fmt.Errorf("%w: the master key of %s is in the %s keystore, %s asks for %s (move it with `teleread keys rotate --keystore %s`)",
				ErrKeystoreMismatch, c.home, row.keystore, EnvKeystore, store, store)
		}
		if err := c.unlockMaster(row, o); err != nil {
			return err
		}
	}
	if err := c.loadIndexRoot(ctx); err != nil {
		return err
	}
	c.dropRetired(ctx)
	return nil
}

// unlockMaster gets the master key of row from its keystore.
func (c *Cache) unlockMaster(row masterRow, o Options) error {
	k := &c.keys
	k.keystore, k.cacheID = row.keystore, row.cacheID
	var master []byte
	switch row.keystore {
	case KeystoreKeyring:
		if !sessionHasKeyring() {
			return fmt.Errorf("%w: the master key of %s is in the OS keyring and this session has no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset): open it from the desktop session",
				ErrKeyringUnavailable, c.home)
		}
		m, err := keyringGet(keyringAccount(row.cacheID, row.gen))
		if err != nil {
			return fmt.Errorf("%w (cache %s)", err, c.home)
		}
		master = m
	case KeystorePassphrase:
		if err := row.kdf.check(); err != nil {
			return err
		}
		for attempt := 0; ; attempt++ {
			pass, err := o.passphrase(PassphraseRequest{Home: c.home, Retry: attempt > 0})
			if err != nil {
				return fmt.Errorf("%w (cache %s)", err, c.home)
			}
			kek := deriveKEK(pass, row.salt, row.kdf)
			clear(pass)
			m, err := open(kek, row.wrapped, masterAAD(row.cacheID, row.gen))
			if err == nil {
				master, k.kek, k.salt, k.kdf = m, kek, row.salt, row.kdf
				break
			}
			if attempt == 2 {
				return fmt.Errorf("%w for the cache %s", ErrWrongPassphrase, c.home)
			}
		}
	default:
		return fmt.Errorf("cache: open %s: unknown keystore %q", c.home, row.keystore)
	}
	if !hmac.Equal(checkValue(master), row.check) {
		return fmt.Errorf("%w %s (keystore %s, generation %d)", ErrMasterKeyMismatch, c.home, row.keystore, row.gen)
	}
	k.setMaster(master, row.gen)
	return nil
}

// createMaster makes the master key and the index root of a new cache,
// commits them durably and installs the master key (made reports that; false
// when another process made the cache's key first, which is then to be
// unlocked). The keyring entry is written before the row that names it, so
// a crash in between leaves an unused entry, never a row whose key is
// nowhere.
func (c *Cache) createMaster(ctx context.Context, o Options, store string) (made bool, err error) {
	master, err := randomKey()
	if err != nil {
		return false, err
	}
	idb := make([]byte, 16)
	if _, err := rand.Read(idb); err != nil {
		return false, fmt.Errorf("cache: cache id: %w", err)
	}
	row := masterRow{gen: 1, state: "current", cacheID: hex.EncodeToString(idb), check: checkValue(master)}
	var keyringErr error
	var kek []byte
	if store == KeystoreKeyring || (store == KeystoreAuto && sessionHasKeyring()) {
		keyringErr = keyringSet(keyringAccount(row.cacheID, 1), master)
		if keyringErr == nil {
			row.keystore = KeystoreKeyring
		} else if store == KeystoreKeyring {
			return false, fmt.Errorf("cache: new master key for %s: %w", c.home, keyringErr)
		}
	} else if store == KeystoreAuto {
		keyringErr = errors.New("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset)")
	}
	if row.keystore == "" {
		if store == KeystoreAuto && !o.canAskPassphrase() {
			return false, fmt.Errorf("%w for the new cache %s: the OS keyring is not available (%v); set %s (and %s=%s to say so), or run in a desktop session with a Secret Service",
				ErrNoKeystore, c.home, keyringErr, EnvPassphrase, EnvKeystore, KeystorePassphrase)
		}
		pass, err := o.passphrase(PassphraseRequest{Home: c.home, New: true})
		if err != nil {
			return false, fmt.Errorf("cache: new master key for %s: %w", c.home, err)
		}
		row.keystore, row.kdf, row.salt = KeystorePassphrase, kdfForNew(), make([]byte, 16)
		if _, err := rand.Read(row.salt); err != nil {
			return false, fmt.Errorf("cache: salt: %w", err)
		}
		kek = deriveKEK(pass, row.salt, row.kdf)
		clear(pass)
		if row.wrapped, err = seal(kek, master, masterAAD(row.cacheID, 1)); err != nil {
			return false, fmt.Errorf("cache: wrap master key: %w", err)
		}
	}
	root, err := randomKey()
	if err != nil {
		return false, err
	}
	wrappedRoot, err := seal(derive(master, labelWrap), root, dataAAD(indexRootID, 1))
	if err != nil {
		return false, fmt.Errorf("cache: wrap index root: %w", err)
	}
	raced := false
	err = c.durableTx(ctx, func(tx *sql.Conn) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM key_master WHERE state = 'current'`).Scan(&n); err != nil {
			return err
		}
		if n > 0 { // another process made it first
			raced = true
			return nil
		}
		if err := insertMaster(ctx, tx, row); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO data_keys(id, generation, wrapped, created) VALUES (?, 1, ?, ?)`, indexRootID, wrappedRoot, now())
		return err
	})
	if err != nil {
		return false, fmt.Errorf("cache: new master key for %s: %w", c.home, err)
	}
	if raced {
		if row.keystore == KeystoreKeyring {
			keyringDelete(keyringAccount(row.cacheID, 1))
		}
		return false, nil
	}
	k := &c.keys
	k.keystore, k.cacheID = row.keystore, row.cacheID
	k.kek, k.salt, k.kdf = kek, row.salt, row.kdf
	k.setMaster(master, 1)
	return true, nil
}

func insertMaster(ctx context.Context, tx *sql.Conn, r masterRow) error {
	var t, m, p any
	if r.keystore == KeystorePassphrase {
		t, m, p = int64(r.kdf.Time), int64(r.kdf.MemoryKiB), int64(r.kdf.Threads)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO key_master(generation, state, keystore, cache_id, kdf_time, kdf_memory, kdf_threads, salt, wrapped, check_value, created)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.gen, r.state, r.keystore, r.cacheID, t, m, p, r.salt, r.wrapped, r.check, now())
	return err
}

func (c *Cache) loadIndexRoot(ctx context.Context) error {
	var wrapped []byte
	err := c.db.QueryRowContext(ctx, `SELECT wrapped FROM data_keys WHERE id = ? AND generation = ?`, indexRootID, c.keys.gen).Scan(&wrapped)
	if err != nil {
		return fmt.Errorf("cache: open %s: index key: %w", c.home, err)
	}
	root, err := open(c.keys.wrap, wrapped, dataAAD(indexRootID, c.keys.gen))
	if err != nil {
		return fmt.Errorf("cache: open %s: index key: %w", c.home, err)
	}
	c.keys.setIndexRoot(root)
	clear(root)
	return nil
}

// dropRetired deletes the keyring entries of master keys a rotation retired
// (the rotation does it right after its commit; this finishes one that was
// killed in between) and then their rows. Best effort: an entry that cannot
// be deleted now is tried again at the next Open.
func (c *Cache) dropRetired(ctx context.Context) {
	rows, err := c.db.QueryContext(ctx, `SELECT generation, keystore, cache_id FROM key_master WHERE state = 'retired'`)
	if err != nil {
		return
	}
	type retired struct {
		gen      int64
		keystore string
		id       string
	}
	var rs []retired
	for rows.Next() {
		var r retired
		if rows.Scan(&r.gen, &r.keystore, &r.id) == nil {
			rs = append(rs, r)
		}
	}
	rows.Close()
	for _, r := range rs {
		if r.keystore == KeystoreKeyring && keyringDelete(keyringAccount(r.id, r.gen)) != nil {
			continue
		}
		c.durableTx(ctx, func(tx *sql.Conn) error {
			if _, err := tx.ExecContext(ctx, `DELETE FROM data_keys WHERE generation = ?`, r.gen); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `DELETE FROM key_master WHERE generation = ? AND state = 'retired'`, r.gen)
			return err
		})
	}
}

// durableTx runs fn in a write transaction (BEGIN IMMEDIATE) on one
// connection with synchronous=FULL, so that its commit is on disk when
// durableTx returns: the index otherwise runs with synchronous=NORMAL, where
// a power cut may take back the last commits, and a study key taken back
// after its files were written would make them unreadable.
func (c *Cache) durableTx(ctx context.Context, fn func(tx *sql.Conn) error) (err error) {
	conn, err := c.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous=FULL`); err != nil {
		return err
	}
	defer func() {
		if _, rerr := conn.ExecContext(context.Background(), `PRAGMA synchronous=NORMAL`); rerr != nil {
			// Keep a connection in an unknown state out of the pool.
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		return err
	}
	if err := fn(conn); err != nil {
		conn.ExecContext(context.Background(), `ROLLBACK`)
		return err
	}
	if _, err := conn.ExecContext(ctx, `COMMIT`); err != nil {
		conn.ExecContext(context.Background(), `ROLLBACK`)
		return err
	}
	return nil
}

// StudyKey returns the 32-byte data key of a study, creating it on first
// use. A new key is committed durably (the write-ahead log synced) before
// StudyKey returns, so before any file of the study can be written with it.
// The returned slice is the caller's.
func (c *Cache) StudyKey(studyUID string) ([]byte, error) {
	if studyUID == "" || len(studyUID) > 64 {
		return nil, fmt.Errorf("cache: study key: bad Study Instance UID %q", studyUID)
	}
	c.keysMu.Lock()
	defer c.keysMu.Unlock()
	if k, ok := c.keys.studies[studyUID]; ok {
		return append([]byte(nil), k...), nil
	}
	ctx := context.Background()
	k, err := c.studyKeyLocked(ctx, studyUID)
	if errors.Is(err, errGenerationMoved) {
		// Another process rotated the master key since this one was
		// opened: follow it once.
		if err = c.followRotation(ctx); err == nil {
			k, err = c.studyKeyLocked(ctx, studyUID)
		}
	}
	if err != nil {
		return nil, err
	}
	c.keys.studies[studyUID] = k
	return append([]byte(nil), k...), nil
}

var errGenerationMoved = errors.New("cache: master key generation moved")

// studyKeyLocked reads the study's wrapped key, or makes and commits one.
func (c *Cache) studyKeyLocked(ctx context.Context, studyUID string) ([]byte, error) {
	k := &c.keys
	id := k.studyKeyID(studyUID)
	var wrapped []byte
	err := c.db.QueryRowContext(ctx, `SELECT wrapped FROM data_keys WHERE id = ? AND generation = ?`, id, k.gen).Scan(&wrapped)
	if errors.Is(err, sql.ErrNoRows) {
		fresh, ferr := randomKey()
		if ferr != nil {
			return nil, ferr
		}
		sealed, ferr := seal(k.wrap, fresh, dataAAD(id, k.gen))
		if ferr != nil {
			return nil, fmt.Errorf("cache: study key: %w", ferr)
		}
		err = c.durableTx(ctx, func(tx *sql.Conn) error {
			var gen int64
			if err := tx.QueryRowContext(ctx, `SELECT generation FROM key_master WHERE state = 'current'`).Scan(&gen); err != nil {
				return err
			}
			if gen != k.gen {
				return errGenerationMoved
			}
			// Another process may have made it since the look-up: keep theirs.
			if _, err := tx.ExecContext(ctx, `INSERT INTO data_keys(id, generation, wrapped, created) VALUES (?, ?, ?, ?)
				ON CONFLICT (id, generation) DO NOTHING`, id, k.gen, sealed, now()); err != nil {
				return err
			}
			return tx.QueryRowContext(ctx, `SELECT wrapped FROM data_keys WHERE id = ? AND generation = ?`, id, k.gen).Scan(&wrapped)
		})
		clear(fresh)
	}
	if errors.Is(err, errGenerationMoved) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("cache: study key: %w", err)
	}
	key, err := open(k.wrap, wrapped, dataAAD(id, k.gen))
	if err != nil {
		return nil, fmt.Errorf("%w (generation %d)", ErrStudyKey, k.gen)
	}
	return key, nil
}

// followRotation installs the current master key after another process
// rotated it: from the keyring, or unwrapped with the passphrase's key when
// the passphrase and its parameters stayed the same.
func (c *Cache) followRotation(ctx context.Context) error {
	row, err := readMaster(ctx, c.db, `state = 'current'`)
	if err != nil {
		return fmt.Errorf("cache: master key: %w", err)
	}
	var master []byte
	switch {
	case row.keystore == KeystoreKeyring:
		if master, err = keyringGet(keyringAccount(row.cacheID, row.gen)); err != nil {
			return fmt.Errorf("%w: %v", ErrMasterRotated, err)
		}
	case row.keystore == KeystorePassphrase && c.keys.kek != nil && hmac.Equal(row.salt, c.keys.salt) && row.kdf == c.keys.kdf:
		if master, err = open(c.keys.kek, row.wrapped, masterAAD(row.cacheID, row.gen)); err != nil {
			return ErrMasterRotated
		}
	default:
		return ErrMasterRotated
	}
	if !hmac.Equal(checkValue(master), row.check) {
		return ErrMasterRotated
	}
	c.keys.keystore = row.keystore
	c.keys.setMaster(master, row.gen)
	return nil
}

// RecordKey returns the 32-byte key for identifying values in the index:
// HKDF-SHA256 of the index root (a random key wrapped by the master key, so
// that rotating the master key leaves it, and every value sealed with it,
// as it was), label "teleread index v1". The returned slice is the caller's.
func (c *Cache) RecordKey() []byte {
	c.keysMu.Lock()
	defer c.keysMu.Unlock()
	return append([]byte(nil), c.keys.record...)
}

// ShredStudyKey deletes a study's wrapped data key durably, so that its
// files are unreadable even from a copy of the disk: the row is deleted
// with secure_delete on (SQLite overwrites the freed bytes), the commit is
// synced, and the write-ahead log is checkpointed and truncated so that the
// old page with the key is overwritten in index.db and gone from
// index.db-wal. The key is forgotten from memory. A study without a key is
// not an error. When another process's reader keeps the log from being
// checkpointed, the row is deleted and ErrShredIncomplete says the bytes
// wait for the next checkpoint.
func (c *Cache) ShredStudyKey(studyUID string) error {
	c.keysMu.Lock()
	defer c.keysMu.Unlock()
	if k, ok := c.keys.studies[studyUID]; ok {
		clear(k)
		delete(c.keys.studies, studyUID)
	}
	ctx := context.Background()
	id := c.keys.studyKeyID(studyUID)
	err := c.durableTx(ctx, func(tx *sql.Conn) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM data_keys WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("cache: shred study key: %w", err)
	}
	if err := c.checkpointTruncate(ctx); err != nil {
		return fmt.Errorf("cache: shred study key: %w", err)
	}
	return nil
}

// checkpointTruncate copies the write-ahead log into index.db and truncates
// it, retrying for a while when readers hold it.
func (c *Cache) checkpointTruncate(ctx context.Context) error {
	deadline := time.Now().Add(3 * time.Second)
	for {
		var busy, logFrames, done int
		err := c.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done)
		if err != nil {
			return err
		}
		if busy == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return ErrShredIncomplete
		}
		time.Sleep(50 * time.Millisecond)
	}
}
