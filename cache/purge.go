package cache

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Purging is how patient data leaves the cache for good (retention, `teleread
// purge`). Unlike eviction, which only frees space, a purge destroys the
// study's data key first, so that its files are unreadable from any copy of
// the disk (a backup, an SSD's spare blocks) before they are even unlinked.
//
// A purge goes in four durable steps, each safe to interrupt:
//
//  1. One transaction records the purge in the purges table (the study and
//     its file paths) and takes the study out of the index (instances,
//     series, study, worklist row, and its patient when no other study has
//     them), after checking, in the same transaction, that no report work
//     would be lost. From its commit on nothing lists or opens the study.
//  2. ShredStudyKey deletes the wrapped data key durably.
//  3. The files are removed and their directories synced.
//  4. The purge is audited, then one transaction removes the remaining rows
//     (reports, outbox, workitem claims) and the purges row.
//
// A crash after step 1 leaves a purges row: the next Open (and the next
// purge run) finishes it from step 2; every step is idempotent. A crash
// before it leaves the study whole.

// ErrPurgeRefused is wrapped by the error of a purge that would lose report
// work (see PurgeRefusedError).
var ErrPurgeRefused = errors.New("purge refused")

// PurgeRefusedError says why a study cannot be purged. It names the study by
// its UID only, never the patient.
type PurgeRefusedError struct {
	Study  string
	Reason string
}

func (e *PurgeRefusedError) Error() string {
	return fmt.Sprintf("study %s: %s", e.Study, e.Reason)
}

func (e *PurgeRefusedError) Unwrap() error { return ErrPurgeRefused }

// Purged describes one purged study.
type Purged struct {
	StudyInstanceUID string `json:"StudyInstanceUID"`
	Files            int    `json:"Files"`
	Bytes            int64  `json:"Bytes"`
	Resumed          bool   `json:"Resumed,omitempty"` // finished after an interrupted purge
}

// rowQuerier is what the purge checks need of a *sql.DB or *sql.Tx.
type rowQuerier interface {
	QueryRow(query string, args ...any) *sql.Row
}

// purgeBlocker returns why studyUID must not be purged ("" when it may be):
// a draft, a signed report or addendum not confirmed by the archive, or a
// consultation note kept locally (never sent anywhere).
func purgeBlocker(q rowQuerier, studyUID string) (string, error) {
	var drafts int
	if err := q.QueryRow(`SELECT COUNT(*) FROM reports WHERE study_uid = ? AND state = 'draft'`, studyUID).Scan(&drafts); err != nil {
		return "", err
	}
	if drafts > 0 {
		return "has a report or consultation draft not yet signed", nil
	}
	var local, waiting int
	if err := q.QueryRow(`SELECT COALESCE(SUM(state = 'local'), 0), COALESCE(SUM(state NOT IN ('delivered', 'local')), 0)
		FROM outbox WHERE study_uid = ?`, studyUID).Scan(&local, &waiting); err != nil {
		return "", err
	}
	if waiting > 0 {
		return fmt.Sprintf("has %d signed report(s) not yet delivered to the archive (see `teleread outbox`)", waiting), nil
	}
	if local > 0 {
		return "has a consultation note that was never sent (kept locally; export it with `teleread report --export`)", nil
	}
	return "", nil
}

// PurgeCheck returns nil when studyUID can be purged, a *PurgeRefusedError
// saying why not, or an error wrapping ErrNotFound for a study not cached.
func (c *Cache) PurgeCheck(studyUID string) error {
	var n int
	if err := c.db.QueryRow(`SELECT COUNT(*) FROM studies WHERE study_uid = ?`, studyUID).Scan(&n); err != nil {
		return fmt.Errorf("cache: purge %s: %w", studyUID, err)
	}
	if n == 0 {
		return fmt.Errorf("cache: purge: study %s: %w", studyUID, ErrNotFound)
	}
	why, err := purgeBlocker(c.db, studyUID)
	if err != nil {
		return fmt.Errorf("cache: purge %s: %w", studyUID, err)
	}
	if why != "" {
		return &PurgeRefusedError{Study: studyUID, Reason: why}
	}
	return nil
}

// StudiesDelivered lists the cached studies with at least one report
// delivered to the archive, in study UID order (what `purge --delivered`
// considers; PurgeCheck still decides).
func (c *Cache) StudiesDelivered() ([]string, error) {
	return c.studyUIDs(`SELECT s.study_uid FROM studies s
		WHERE EXISTS (SELECT 1 FROM outbox o WHERE o.study_uid = s.study_uid AND o.state = 'delivered')
		ORDER BY s.study_uid`)
}

// StudyUIDs lists every cached study's UID, in order.
func (c *Cache) StudyUIDs() ([]string, error) {
	return c.studyUIDs(`SELECT study_uid FROM studies ORDER BY study_uid`)
}

// Expired lists the studies retention purges at now: not accessed (see
// Audit) for longer than age, not on the worklist (assigned, downloading,
// ready or a prior of such), with no draft and every signed report and
// consultation note delivered.
func (c *Cache) Expired(age time.Duration, now time.Time) ([]string, error) {
	cutoff := now.Add(-age).UTC().Format(time.RFC3339Nano)
	return c.studyUIDs(`SELECT s.study_uid FROM studies s
		WHERE COALESCE(s.last_access_at, s.last_read_at, s.created_at) < ?
		  AND NOT EXISTS (SELECT 1 FROM worklist w WHERE w.study_uid = s.study_uid AND w.state != 'unassigned')
		  AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.study_uid = s.study_uid AND r.state = 'draft')
		  AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.study_uid = s.study_uid AND o.state != 'delivered')
		ORDER BY COALESCE(s.last_access_at, s.last_read_at, s.created_at), s.study_uid`, cutoff)
}

func (c *Cache) studyUIDs(q string, args ...any) ([]string, error) {
	rows, err := c.db.Query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("cache: purge: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var uid string
		if err := rows.Scan(&uid); err != nil {
			return nil, fmt.Errorf("cache: purge: %w", err)
		}
		out = append(out, uid)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cache: purge: %w", err)
	}
	return out, nil
}

// Retain purges the studies Expired returns for retention days (0 or less:
// retention is off) and returns what it purged. It first finishes purges a
// crash interrupted. A study that gained report work since it was listed is
// left alone.
func (c *Cache) Retain(days int, now time.Time) ([]Purged, error) {
	out, err := c.ResumePurges()
	if err != nil || days <= 0 {
		return out, err
	}
	uids, err := c.Expired(time.Duration(days)*24*time.Hour, now)
	if err != nil {
		return out, err
	}
	for _, uid := range uids {
		p, err := c.Purge(uid, fmt.Sprintf("retention: not accessed for %d days", days))
		if errors.Is(err, ErrPurgeRefused) || errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return out, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Purge removes a study for good: its data key, its files and its rows (see
// the steps above). reason goes to the audit trail (no patient data). It
// returns a *PurgeRefusedError, changing nothing, when the study has a draft
// or a report or consultation note not delivered, and an error wrapping
// ErrNotFound when it is not cached.
func (c *Cache) Purge(studyUID, reason string) (Purged, error) {
	// No import of this process can index the study again while its key and
	// files go (see commit).
	c.commit.Lock()
	defer c.commit.Unlock()
	return c.purgeLocked(studyUID, reason)
}

func (c *Cache) purgeLocked(studyUID, reason string) (Purged, error) {
	files, bytes, err := c.markPurge(studyUID, reason)
	if err != nil {
		return Purged{}, err
	}
	Stall(StepPurgeMarked)
	if err := c.finishPurge(studyUID, files, bytes, reason); err != nil {
		return Purged{}, err
	}
	return Purged{StudyInstanceUID: studyUID, Files: len(files), Bytes: bytes}, nil
}

// purgeConn returns a connection whose commits are synced (synchronous=FULL:
// a purge never comes undone by a power cut) and on which SQLite overwrites
// what it deletes (secure_delete, which Open sets on every connection: a
// purged patient's name does not linger in the free space of a page of
// index.db); release restores the connection's settings.
func (c *Cache) purgeConn(ctx context.Context) (*sql.Conn, func(), error) {
	conn, err := c.db.Conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = FULL`); err != nil {
		conn.Close()
		return nil, nil, err
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
		conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`)
		conn.Close()
		return nil, nil, err
	}
	return conn, func() {
		conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`)
		conn.Close()
	}, nil
}

// markPurge is step 1: in one transaction, record the purge and take the
// study out of the index, or refuse.
func (c *Cache) markPurge(studyUID, reason string) ([]string, int64, error) {
	ctx := context.Background()
	conn, release, err := c.purgeConn(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("cache: purge %s: %w", studyUID, err)
	}
	defer release()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("cache: purge %s: %w", studyUID, err)
	}
	defer tx.Rollback()
	// A write first, so that this transaction holds the write lock before
	// it checks: a draft saved by another process cannot slip in between
	// the check and the removal.
	res, err := tx.Exec(`INSERT INTO purges(study_uid, files, reason, started_at)
		SELECT study_uid, '[]', ?, ? FROM studies WHERE study_uid = ?
		ON CONFLICT(study_uid) DO NOTHING`, reason, now(), studyUID)
	if err != nil {
		return nil, 0, fmt.Errorf("cache: purge %s: %w", studyUID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, 0, fmt.Errorf("cache: purge: study %s: %w", studyUID, ErrNotFound)
	}
	why, err := purgeBlocker(tx, studyUID)
	if err != nil {
		return nil, 0, fmt.Errorf("cache: purge %s: %w", studyUID, err)
	}
	if why != "" {
		return nil, 0, &PurgeRefusedError{Study: studyUID, Reason: why}
	}
	rows, err := tx.Query(`SELECT i.path, i.size FROM instances i JOIN series se ON se.series_uid = i.series_uid
		WHERE se.study_uid = ? ORDER BY i.path`, studyUID)
	if err != nil {
		return nil, 0, fmt.Errorf("cache: purge %s: %w", studyUID, err)
	}
	files := []string{}
	var bytes int64
	for rows.Next() {
		var p string
		var n int64
		if err := rows.Scan(&p, &n); err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("cache: purge %s: %w", studyUID, err)
		}
		files = append(files, p)
		bytes += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("cache: purge %s: %w", studyUID, err)
	}
	list, err := json.Marshal(files)
	if err != nil {
		return nil, 0, fmt.Errorf("cache: purge %s: %w", studyUID, err)
	}
	var patient int64
	if err := tx.QueryRow(`SELECT patient_pk FROM studies WHERE study_uid = ?`, studyUID).Scan(&patient); err != nil {
		return nil, 0, fmt.Errorf("cache: purge %s: %w", studyUID, err)
	}
	for _, st := range []struct {
		q    string
		args []any
	}{
		{`UPDATE purges SET files = ?, bytes = ? WHERE study_uid = ?`, []any{string(list), bytes, studyUID}},
		{`DELETE FROM instances WHERE series_uid IN (SELECT series_uid FROM series WHERE study_uid = ?)`, []any{studyUID}},
		{`DELETE FROM series WHERE study_uid = ?`, []any{studyUID}},
		{`DELETE FROM worklist WHERE study_uid = ?`, []any{studyUID}},
		{`DELETE FROM studies WHERE study_uid = ?`, []any{studyUID}},
		// The patient's name and identifiers go with their last study.
		{`DELETE FROM patients WHERE id = ? AND NOT EXISTS (SELECT 1 FROM studies WHERE patient_pk = ?)`, []any{patient, patient}},
	} {
		if _, err := tx.Exec(st.q, st.args...); err != nil {
			return nil, 0, fmt.Errorf("cache: purge %s: %w", studyUID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, 0, fmt.Errorf("cache: purge %s: %w", studyUID, err)
	}
	return files, bytes, nil
}

// finishPurge is steps 2 to 4; each is idempotent, so a purge interrupted
// anywhere is finished by running it again.
func (c *Cache) finishPurge(studyUID string, files []string, bytes int64, reason string) error {
	if err := c.ShredStudyKey(studyUID); err != nil {
		return fmt.Errorf("cache: purge %s: shred key: %w", studyUID, err)
	}
	Stall(StepPurgeShredded)
	dirs := map[string]bool{}
	for _, rel := range files {
		if !filepath.IsLocal(filepath.FromSlash(rel)) {
			return fmt.Errorf("cache: purge %s: file %q is not inside the cache", studyUID, rel)
		}
		p := c.FilePath(rel)
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("cache: purge %s: %w", studyUID, err)
		}
		dirs[filepath.Dir(p)] = true
	}
	for _, d := range slices.Sorted(maps.Keys(dirs)) {
		if err := syncDir(d); err != nil {
			return fmt.Errorf("cache: purge %s: %w", studyUID, err)
		}
	}
	Stall(StepPurgeFilesRemoved)
	// Audited before the purges row goes: a crash in between audits the
	// purge twice when it is finished, never not at all.
	if err := c.Audit(AuditPurge, studyUID, fmt.Sprintf("%d files, %d bytes; %s", len(files), bytes, reason)); err != nil {
		return fmt.Errorf("cache: purge %s: %w", studyUID, err)
	}
	ctx := context.Background()
	conn, release, err := c.purgeConn(ctx)
	if err != nil {
		return fmt.Errorf("cache: purge %s: %w", studyUID, err)
	}
	defer release()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("cache: purge %s: %w", studyUID, err)
	}
	defer tx.Rollback()
	for _, q := range []string{
		`DELETE FROM reports WHERE study_uid = ?`,
		`DELETE FROM outbox WHERE study_uid = ?`,
		`DELETE FROM workitem_claims WHERE study_uid = ?`,
		`DELETE FROM purges WHERE study_uid = ?`,
	} {
		if _, err := tx.Exec(q, studyUID); err != nil {
			return fmt.Errorf("cache: purge %s: %w", studyUID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("cache: purge %s: %w", studyUID, err)
	}
	// The write-ahead log still holds pages written before the purge, with
	// the patient's values: copy it into the database (whose pages are now
	// the overwritten ones) and empty it. Readers in other processes can
	// hold it back; a later checkpoint empties it then.
	conn.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return nil
}

// ResumePurges finishes the purges a crash interrupted after their first
// step, and returns them.
func (c *Cache) ResumePurges() ([]Purged, error) {
	c.commit.Lock()
	defer c.commit.Unlock()
	type pending struct {
		uid, files, reason string
		bytes              int64
	}
	var list []pending
	rows, err := c.db.Query(`SELECT study_uid, files, bytes, reason FROM purges ORDER BY started_at, study_uid`)
	if err != nil {
		return nil, fmt.Errorf("cache: resume purges: %w", err)
	}
	for rows.Next() {
		var p pending
		if err := rows.Scan(&p.uid, &p.files, &p.bytes, &p.reason); err != nil {
			rows.Close()
			return nil, fmt.Errorf("cache: resume purges: %w", err)
		}
		list = append(list, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cache: resume purges: %w", err)
	}
	var out []Purged
	for _, p := range list {
		var back int
		if err := c.db.QueryRow(`SELECT COUNT(*) FROM studies WHERE study_uid = ?`, p.uid).Scan(&back); err != nil {
			return out, fmt.Errorf("cache: resume purge %s: %w", p.uid, err)
		}
		if back > 0 {
			// Another process imported the study again after the purge
			// began: what is in the index now is whole (a new key, files
			// written again). Purge it from the start, checks included.
			if _, err := c.db.Exec(`DELETE FROM purges WHERE study_uid = ?`, p.uid); err != nil {
				return out, fmt.Errorf("cache: resume purge %s: %w", p.uid, err)
			}
			r, err := c.purgeLocked(p.uid, p.reason+" (resumed)")
			if errors.Is(err, ErrPurgeRefused) {
				continue
			}
			if err != nil {
				return out, err
			}
			r.Resumed = true
			out = append(out, r)
			continue
		}
		var files []string
		if err := json.Unmarshal([]byte(p.files), &files); err != nil {
			return out, fmt.Errorf("cache: resume purge %s: file list: %w", p.uid, err)
		}
		if err := c.finishPurge(p.uid, files, p.bytes, p.reason+" (resumed)"); err != nil {
			return out, err
		}
		out = append(out, Purged{StudyInstanceUID: p.uid, Files: len(files), Bytes: p.bytes, Resumed: true})
	}
	return out, nil
}
