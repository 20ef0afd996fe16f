package cache

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
)

// ErrCacheInUse is returned by RotateMasterKey while another process has the
// cache open: it holds the old master key and could wrap a new study key
// with it.
var ErrCacheInUse = errors.New("cache: the cache is open in another process (close the app and other commands first)")

// RotateOptions say where the new master key goes.
type RotateOptions struct {
	// Keystore is where the new master key is kept: "" keeps the current
	// keystore, KeystoreKeyring or KeystorePassphrase moves it there.
	Keystore string
	// NewPassphrase, for the passphrase keystore, wraps the new master key
	// with a new passphrase (and new salt and current argon2id parameters)
	// instead of the one the cache was opened with.
	NewPassphrase bool
	// Passphrase asks for the new passphrase (when moving to the passphrase
	// keystore, when TELEREAD_PASSPHRASE is unset; with NewPassphrase,
	// always: TELEREAD_PASSPHRASE then holds the old one).
	Passphrase PassphraseFunc
}

// RotateResult says what RotateMasterKey did.
type RotateResult struct {
	Generation int64  // the new master key's generation
	Keystore   string // where it is kept
	Rewrapped  int    // study keys re-wrapped (the index root too, not counted)
}

// RotateMasterKey replaces the master key with a new random one and re-wraps
// every data key under it; the data keys themselves, and so every sealed
// file and index value, stay as they are.
//
// It is crash-safe at every step, and a killed rotation is finished (or
// undone) by running it again:
//  1. The new key is stored where it will be kept: a keyring entry of its
//     own (the account names the generation) or, for a passphrase, only in
//     memory until step 2. A crash leaves an unused keyring entry.
//  2. One durable transaction writes the new master row, every data key
//     re-wrapped under the new generation, retires the old master row and
//     deletes the old wrapped keys. A crash before the commit leaves the old
//     generation whole; after it, the new one.
//  3. The old keyring entry is deleted, then its retired row. A crash in
//     between leaves the entry, which the next Open (or rotation) deletes.
func (c *Cache) RotateMasterKey(ctx context.Context, o RotateOptions) (RotateResult, error) {
	live, err := liveOwners(c.home, c.own.token)
	if err != nil {
		return RotateResult{}, fmt.Errorf("cache: rotate master key: %w", err)
	}
	for tok := range live {
		if tok != c.own.token {
			return RotateResult{}, fmt.Errorf("cache: rotate master key: %w", ErrCacheInUse)
		}
	}
	c.keysMu.Lock()
	defer c.keysMu.Unlock()
	k := &c.keys
	store := o.Keystore
	if store == "" {
		store = k.keystore
	}
	if store != KeystoreKeyring && store != KeystorePassphrase {
		return RotateResult{}, fmt.Errorf("cache: rotate master key: keystore %q: want %s or %s", store, KeystoreKeyring, KeystorePassphrase)
	}
	// A leftover of an earlier rotation killed after its commit goes first.
	c.dropRetired(ctx)

	var newGen int64
	if err := c.db.QueryRowContext(ctx, `SELECT coalesce(max(generation), 0) + 1 FROM key_master`).Scan(&newGen); err != nil {
		return RotateResult{}, fmt.Errorf("cache: rotate master key: %w", err)
	}
	master, err := randomKey()
	if err != nil {
		return RotateResult{}, err
	}
	row := masterRow{gen: newGen, state: "current", keystore: store, cacheID: k.cacheID, check: checkValue(master)}
	kek, salt, kdf := k.kek, k.salt, k.kdf
	switch store {
	case KeystoreKeyring:
		if err := keyringSet(keyringAccount(k.cacheID, newGen), master); err != nil {
			return RotateResult{}, fmt.Errorf("cache: rotate master key: %w", err)
		}
	case KeystorePassphrase:
		if k.keystore != KeystorePassphrase || o.NewPassphrase {
			// Moving from the keyring, TELEREAD_PASSPHRASE may give the
			// passphrase; a new passphrase is never the one in it (that is
			// the one being replaced).
			src := Options{Passphrase: o.Passphrase}
			var pass []byte
			var err error
			if o.NewPassphrase {
				if o.Passphrase == nil {
					return RotateResult{}, fmt.Errorf("cache: rotate master key: nobody to ask the new passphrase: %w", ErrPassphraseRequired)
				}
				pass, err = o.Passphrase(PassphraseRequest{Home: c.home, New: true})
				if err == nil && len(pass) == 0 {
					err = fmt.Errorf("empty passphrase: %w", ErrPassphraseRequired)
				}
			} else {
				pass, err = src.passphrase(PassphraseRequest{Home: c.home, New: true})
			}
			if err != nil {
				return RotateResult{}, fmt.Errorf("cache: rotate master key: %w", err)
			}
			kdf, salt = kdfForNew(), make([]byte, 16)
			if _, err := rand.Read(salt); err != nil {
				return RotateResult{}, fmt.Errorf("cache: salt: %w", err)
			}
			kek = deriveKEK(pass, salt, kdf)
			clear(pass)
		}
		row.kdf, row.salt = kdf, salt
		if row.wrapped, err = seal(kek, master, masterAAD(k.cacheID, newGen)); err != nil {
			return RotateResult{}, fmt.Errorf("cache: rotate master key: %w", err)
		}
	}
	Stall(StepKeysRotateStored)

	newWrap := derive(master, labelWrap)
	oldGen, oldStore := k.gen, k.keystore
	n := 0
	err = c.durableTx(ctx, func(tx *sql.Conn) error {
		var gen int64
		if err := tx.QueryRowContext(ctx, `SELECT generation FROM key_master WHERE state = 'current'`).Scan(&gen); err != nil {
			return err
		}
		if gen != oldGen {
			return ErrMasterRotated
		}
		type wrappedKey struct{ id, wrapped []byte }
		var ws []wrappedKey
		rows, err := tx.QueryContext(ctx, `SELECT id, wrapped FROM data_keys WHERE generation = ?`, oldGen)
		if err != nil {
			return err
		}
		for rows.Next() {
			var w wrappedKey
			if err := rows.Scan(&w.id, &w.wrapped); err != nil {
				rows.Close()
				return err
			}
			ws = append(ws, w)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE key_master SET state = 'retired' WHERE generation = ?`, oldGen); err != nil {
			return err
		}
		if err := insertMaster(ctx, tx, row); err != nil {
			return err
		}
		for _, w := range ws {
			key, err := open(k.wrap, w.wrapped, dataAAD(w.id, oldGen))
			if err != nil {
				return fmt.Errorf("%w (generation %d)", ErrStudyKey, oldGen)
			}
			sealed, err := seal(newWrap, key, dataAAD(w.id, newGen))
			clear(key)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO data_keys(id, generation, wrapped, created) VALUES (?, ?, ?, ?)`, w.id, newGen, sealed, now()); err != nil {
				return err
			}
			if !bytes.Equal(w.id, indexRootID) {
				n++
			}
		}
		Stall(StepKeysRotateRewrapped)
		if _, err := tx.ExecContext(ctx, `DELETE FROM data_keys WHERE generation = ?`, oldGen); err != nil {
			return err
		}
		if oldStore == KeystorePassphrase {
			// Nothing outside the index to clean up.
			_, err := tx.ExecContext(ctx, `DELETE FROM key_master WHERE generation = ?`, oldGen)
			return err
		}
		return nil
	})
	if err != nil {
		if store == KeystoreKeyring {
			keyringDelete(keyringAccount(k.cacheID, newGen))
		}
		return RotateResult{}, fmt.Errorf("cache: rotate master key: %w", err)
	}
	Stall(StepKeysRotateCommitted)
	clear(k.master)
	clear(k.wrap)
	k.keystore = store
	k.setMaster(master, newGen)
	if store == KeystorePassphrase {
		k.kek, k.salt, k.kdf = kek, salt, kdf
	} else {
		k.kek, k.salt, k.kdf = nil, nil, kdfParams{}
	}
	c.dropRetired(ctx)
	// The old wrapped keys leave the write-ahead log too.
	c.checkpointTruncate(ctx)
	return RotateResult{Generation: newGen, Keystore: store, Rewrapped: n}, nil
}

// KeyInfo says where a cache's master key is, without any secret.
type KeyInfo struct {
	// Keystore is KeystoreKeyring or KeystorePassphrase; "" when the cache
	// has no master key yet.
	Keystore string `json:"keystore"`
	CacheID  string `json:"cache_id,omitempty"`
	// Generation counts the master keys the cache has had (1 until the
	// first rotation).
	Generation int64 `json:"generation,omitempty"`
	// KeyringService and KeyringAccount name the keyring entry.
	KeyringService string `json:"keyring_service,omitempty"`
	KeyringAccount string `json:"keyring_account,omitempty"`
	// KDF describes the passphrase's argon2id parameters.
	KDF string `json:"kdf,omitempty"`
	// StudyKeys counts the studies with a data key.
	StudyKeys int `json:"study_keys"`
	// Retired counts old master keys whose keyring entry is still to be
	// deleted (a rotation was interrupted after its commit).
	Retired int `json:"retired,omitempty"`
}

// ReadKeyInfo reads where the master key of the cache at home is kept,
// without unlocking it (so it also works when the keyring or the passphrase
// is missing). It does not create or migrate anything.
func ReadKeyInfo(home string) (KeyInfo, error) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(home, "index.db")+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return KeyInfo{}, fmt.Errorf("cache: key info: %w", err)
	}
	defer db.Close()
	return readKeyInfo(context.Background(), db)
}

// KeyInfo is ReadKeyInfo of an open cache.
func (c *Cache) KeyInfo() (KeyInfo, error) { return readKeyInfo(context.Background(), c.db) }

func readKeyInfo(ctx context.Context, db *sql.DB) (KeyInfo, error) {
	var info KeyInfo
	var has int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'key_master'`).Scan(&has); err != nil {
		return info, fmt.Errorf("cache: key info: %w", err)
	}
	if has == 0 {
		return info, nil
	}
	row, err := readMaster(ctx, db, `state = 'current'`)
	if errors.Is(err, sql.ErrNoRows) {
		return info, nil
	}
	if err != nil {
		return info, fmt.Errorf("cache: key info: %w", err)
	}
	info.Keystore, info.CacheID, info.Generation = row.keystore, row.cacheID, row.gen
	switch row.keystore {
	case KeystoreKeyring:
		info.KeyringService, info.KeyringAccount = KeyringService, keyringAccount(row.cacheID, row.gen)
	case KeystorePassphrase:
		info.KDF = row.kdf.String()
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM data_keys WHERE generation = ? AND id != ?`, row.gen, indexRootID).Scan(&info.StudyKeys); err != nil {
		return info, fmt.Errorf("cache: key info: %w", err)
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM key_master WHERE state = 'retired'`).Scan(&info.Retired); err != nil {
		return info, fmt.Errorf("cache: key info: %w", err)
	}
	return info, nil
}
