// Package cache is the local study store that makes offline reading possible: DICOM
// files kept exactly as received, one file per SOP Instance, and a SQLite index of
// patients, studies, series and instances (plus worklist state, reports and the
// outbox, added by later migrations).
//
// Durability rule: a file is written to a temporary file, fsynced, renamed into
// place and its directory fsynced, and only then indexed. A crash at any moment
// therefore leaves no index row without its complete file; temporary files left by
// a crash are removed by the next Open (see owner.go for how they are told from
// the temporary files of another process writing into the same cache).
package cache

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	gosync "sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // the SQLite driver, pure Go
)

//go:embed migrations/*.sql
var migrations embed.FS

// Cache is an open study cache rooted at a home directory.
type Cache struct {
	home string
	db   *sql.DB
	own  *owner
	// commit serialises the look-up, rename and index steps of imports, so two
	// files with the same SOP Instance UID can never overwrite each other's stored
	// copy; the expensive copy and fsync happen outside it.
	commit gosync.Mutex

	stagedMu gosync.Mutex
	staged   map[string]struct{} // temporary files staged and not yet settled

	stmtMu gosync.Mutex
	stmts  map[string]*sql.Stmt // see stmt

	// sealedAll: every stored file is known to be sealed (see sealed.go).
	sealedAll atomic.Bool

	keysMu  gosync.Mutex
	keys    keyState     // see keys.go
	records recordCipher // seals identifying index values (recordseal.go)
	// freshIndex: this Open created the index, so no plain value was ever
	// written to it and sealIndex has nothing to scrub.
	freshIndex bool
}

// DefaultHome returns the per-user cache location: $TELEREAD_HOME, else the
// user's data directory (XDG_DATA_HOME or ~/.local/share on Linux) + teleread.
func DefaultHome() string {
	if h := os.Getenv("TELEREAD_HOME"); h != "" {
		return h
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "teleread")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "teleread")
	}
	return filepath.Join(os.TempDir(), "teleread")
}

// Open opens (creating if needed) the cache at home, applies pending migrations,
// removes temporary files left by an interrupted write and unlocks the key
// hierarchy with the default Options (TELEREAD_KEYSTORE, TELEREAD_PASSPHRASE).
func Open(home string) (*Cache, error) { return OpenWith(home, Options{}) }

// OpenWith is Open with the ways to reach the master key in o (see Options):
// a new cache gets a master key in the keyring or wrapped by a passphrase,
// an existing one is unlocked or Open fails (ErrWrongPassphrase,
// ErrPassphraseRequired, ErrMasterKeyMissing, ErrNoKeystore, ...).
func OpenWith(home string, o Options) (*Cache, error) {
	for _, d := range []string{home, filepath.Join(home, "files"), filepath.Join(home, "tmp"), filepath.Join(home, "owners")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("cache: open %s: %w", home, err)
		}
	}
	if err := restrictHome(home); err != nil {
		return nil, fmt.Errorf("cache: open %s: %w", home, err)
	}
	if err := makeFanOut(filepath.Join(home, "files")); err != nil {
		return nil, fmt.Errorf("cache: open %s: %w", home, err)
	}
	own, err := claimOwner(home)
	if err != nil {
		return nil, fmt.Errorf("cache: open %s: %w", home, err)
	}
	live, err := liveOwners(home, own.token)
	if err == nil {
		err = cleanTemp(filepath.Join(home, "tmp"), live)
	}
	if err != nil {
		own.release(home)
		return nil, fmt.Errorf("cache: open %s: %w", home, err)
	}
	// busy_timeout comes first: the pragmas run in order, and switching a
	// new database to WAL while another process opens it too needs the
	// lock that the busy handler waits for.
	dsn := "file:" + filepath.Join(home, "index.db") +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)" +
		// Deleted rows are overwritten, not only unlinked: a shredded
		// study key must not survive in a free page (see ShredStudyKey),
		// nor a purged study's values, nor what an update moved (purge.go).
		"&_pragma=secure_delete(1)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		own.release(home)
		return nil, fmt.Errorf("cache: open index: %w", err)
	}
	c := &Cache{home: home, db: db, own: own, staged: map[string]struct{}{}, stmts: map[string]*sql.Stmt{}}
	if err := c.migrateRetrying(context.Background(), dsn); err != nil {
		c.Close()
		return nil, err
	}
	// SQLite made -wal and -shm with the database's mode; an umask or an
	// older version may have left them wider.
	if err := restrictFiles(home); err != nil {
		c.Close()
		return nil, fmt.Errorf("cache: open %s: %w", home, err)
	}
	if err := c.unlockKeys(context.Background(), o); err != nil {
		c.Close()
		return nil, err
	}
	// Identifying index values are sealed under the record key, so only
	// now can rows an older version wrote in clear be sealed.
	if c.records, err = newGCMRecords(c.RecordKey()); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.sealIndex(context.Background()); err != nil && !errors.Is(err, ErrScrubBusy) {
		c.Close()
		return nil, err
	}
	// A purge a crash interrupted is finished now (its study is already out
	// of the index); one that cannot be finished yet is tried again at the
	// next open or purge run, and keeps nothing readable meanwhile.
	_, _ = c.ResumePurges()
	// A new cache is sealed from its first file; an older one's plain files
	// wait for SealFiles (which the commands run, with progress).
	if err := c.markSealedIfEmpty(); err != nil {
		c.Close()
		return nil, fmt.Errorf("cache: open %s: %w", home, err)
	}
	return c, nil
}

// OpenTemp opens a cache in a new temporary directory, for tests.
func OpenTemp(dir string) (*Cache, error) { return Open(dir) }

// Close closes the index and gives up this Cache's claim on its temporary
// files.
func (c *Cache) Close() error {
	c.stagedMu.Lock()
	for p := range c.staged {
		os.Remove(p)
	}
	c.staged = map[string]struct{}{}
	c.stagedMu.Unlock()
	c.stmtMu.Lock()
	for _, st := range c.stmts {
		st.Close()
	}
	c.stmts = map[string]*sql.Stmt{}
	c.stmtMu.Unlock()
	c.keysMu.Lock()
	c.keys.forget()
	c.keysMu.Unlock()
	err := c.db.Close()
	c.own.release(c.home)
	return err
}

// Home returns the cache's root directory.
func (c *Cache) Home() string { return c.home }

// DB returns the index database, for the packages that keep their own tables in
// it (reports, outbox). They must use transactions for multi-row changes.
func (c *Cache) DB() *sql.DB { return c.db }

// FilePath returns the absolute path of a stored file from its index path.
func (c *Cache) FilePath(rel string) string {
	return filepath.Join(c.home, "files", filepath.FromSlash(rel))
}

// makeFanOut creates the 256 directories files are stored in (named by the
// first byte of a hash of the SOP Instance UID, see storagePath) once, so
// that imports never create directories.
func makeFanOut(files string) error {
	if _, err := os.Stat(filepath.Join(files, "ff")); err == nil {
		return nil
	}
	for i := range 256 {
		if err := os.Mkdir(filepath.Join(files, fmt.Sprintf("%02x", i)), 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	return nil
}

// cleanTemp removes what is in tmp/ except the files of live owners.
func cleanTemp(dir string, live map[string]bool) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if live[tempOwner(e.Name())] {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// migrateRetrying is migrate, tried again for up to 15 s while SQLite
// answers SQLITE_BUSY without having waited: several openers of a new cache
// at once (the app's first run and a command beside it) can meet that while
// the database is switched to WAL, where the busy handler is not called. The
// migrations are one transaction, so a try that failed changed nothing.
func (c *Cache) migrateRetrying(ctx context.Context, dsn string) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := c.migrate(ctx, dsn)
		var se interface{ Code() int }
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != 5 || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// migrate applies the numbered migrations not yet applied, all in one
// transaction, so that a failure leaves the schema as it was. A migration
// counts as applied when its own number is recorded, not when a higher one
// is: one merged after a later-numbered one still runs.
//
// The transaction is BEGIN IMMEDIATE (a handle of its own with _txlock), so it
// takes the write lock first, waiting out busy_timeout: a deferred one read
// the version table, and when another process opening the same cache wrote in
// between, its upgrade to a writer failed at once with SQLITE_BUSY.
func (c *Cache) migrate(ctx context.Context, dsn string) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("cache: migrate: %w", err)
	}
	sort.Strings(names)
	mdb, err := sql.Open("sqlite", dsn+"&_txlock=immediate")
	if err != nil {
		return fmt.Errorf("cache: migrate: %w", err)
	}
	defer mdb.Close()
	tx, err := mdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("cache: migrate: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("cache: migrate: %w", err)
	}
	applied := map[int]bool{}
	rows, err := tx.Query(`SELECT version FROM schema_version`)
	if err != nil {
		return fmt.Errorf("cache: migrate: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("cache: migrate: %w", err)
		}
		applied[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cache: migrate: %w", err)
	}
	c.freshIndex = len(applied) == 0
	for _, name := range names {
		base := filepath.Base(name)
		n, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("cache: migrate: bad migration name %s", base)
		}
		if applied[n] {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return fmt.Errorf("cache: migrate: %w", err)
		}
		if _, err := tx.Exec(string(body)); err != nil {
			return fmt.Errorf("cache: migrate %s: %w", base, err)
		}
		if code := codeMigrations[n]; code != nil {
			if err := code(ctx, c, tx); err != nil {
				return fmt.Errorf("cache: migrate %s: %w", base, err)
			}
		}
		if _, err := tx.Exec(`INSERT INTO schema_version(version) VALUES (?)`, n); err != nil {
			return fmt.Errorf("cache: migrate %s: %w", base, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("cache: migrate: %w", err)
	}
	return nil
}

func now() string { return time.Now().UTC().Format(time.RFC3339Nano) }

// ErrNotFound is returned when a study, series or instance is not in the cache.
var ErrNotFound = errors.New("cache: not found")
