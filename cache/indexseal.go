package cache

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// sealedColumns lists, per table, the identifying columns sealed in place by
// sealIndex and the expression of the row key their values are bound to.
// patients and outbox have their own steps (sealPatients, sealOutbox).
var sealedColumns = []struct {
	table, rowKey string
	columns       []string
}{
	{"studies", "study_uid", []string{"accession", "study_id", "description", "referring", "patient_age"}},
	{"series", "series_uid", []string{"description"}},
	{"worklist", "study_uid", []string{"patient_id", "patient_name", "description", "accession"}},
	{"reports", "study_uid || char(0) || kind", []string{"body"}},
}

// patientColumns are the sealed columns of patients, bound to the row's
// identity.
var patientColumns = []string{"patient_id", "name", "issuer", "birth_date", "sex"}

// reportRow is the row key of a report's body.
func reportRow(studyUID, kind string) string { return studyUID + "\x00" + kind }

// identityRow is the row key of a patient's values: its identity hash.
func identityRow(identity []byte) string { return hex.EncodeToString(identity) }

// sealBatch is how many rows one transaction of sealIndex seals: a kill loses
// at most one batch of work, and each commit stays short.
const sealBatch = 256

// sealIndex seals every identifying value still stored in clear (a cache
// written before migration 0009, or a row some older code wrote since), one
// batch per transaction so that a restart resumes where a kill stopped. After
// the first complete pass over a cache that held plain values, the database is
// vacuumed with secure_delete on and the WAL truncated, so that the plain
// values survive neither in free pages nor in old WAL frames.
func (c *Cache) sealIndex(ctx context.Context) error {
	conn, err := c.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("cache: seal index: %w", err)
	}
	defer conn.Close()
	// Pages rewritten by sealing must not keep the plain cell they replaced
	// in their free space (it would reach the WAL). Every connection of the
	// cache has it on (Open's DSN); this one must whatever that says.
	if _, err := conn.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
		return fmt.Errorf("cache: seal index: %w", err)
	}
	for {
		n, err := c.sealStep(ctx, conn)
		if err != nil {
			return fmt.Errorf("cache: seal index: %w", err)
		}
		if n == 0 {
			break
		}
		Stall(StepSealBatch)
	}
	var scrubbed int
	if err := conn.QueryRowContext(ctx, `SELECT scrubbed FROM index_seal WHERE id = 1`).Scan(&scrubbed); err != nil {
		return fmt.Errorf("cache: seal index: %w", err)
	}
	if scrubbed != 0 {
		return nil
	}
	if !c.freshIndex {
		if err := scrub(ctx, conn); err != nil {
			return fmt.Errorf("cache: seal index: %w", err)
		}
	}
	if _, err := conn.ExecContext(ctx, `UPDATE index_seal SET scrubbed = 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("cache: seal index: %w", err)
	}
	return nil
}

// ErrScrubBusy: the index could not be vacuumed or its WAL truncated because
// another process has it open; the next Open tries again.
var ErrScrubBusy = errors.New("another process holds the index open; its free pages are scrubbed at the next open")

// scrub rewrites the database without free pages (VACUUM, with secure_delete
// on the connection) and truncates the WAL, so that a value sealed in place
// leaves no plain copy in the files.
func scrub(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, `VACUUM`); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	Stall(StepSealVacuumed)
	var busy, logFrames, done int
	if err := conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if busy != 0 {
		return ErrScrubBusy
	}
	return nil
}

// sealStep seals up to sealBatch rows of each table in one transaction and
// says how many rows it sealed (0: none was left in clear).
func (c *Cache) sealStep(ctx context.Context, conn *sql.Conn) (int, error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	total := 0
	for _, t := range sealedColumns {
		n, err := c.sealTable(ctx, tx, t.table, t.rowKey, t.columns)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", t.table, err)
		}
		total += n
	}
	n, err := c.sealPatients(ctx, tx)
	if err != nil {
		return 0, fmt.Errorf("patients: %w", err)
	}
	total += n
	if n, err = c.sealOutbox(ctx, tx); err != nil {
		return 0, fmt.Errorf("outbox: %w", err)
	}
	total += n
	if total == 0 {
		return 0, nil
	}
	return total, tx.Commit()
}

// anyPlain is the SQL condition "one of columns holds text".
func anyPlain(columns []string) string {
	var conds []string
	for _, col := range columns {
		conds = append(conds, `typeof(`+col+`) = 'text'`)
	}
	return strings.Join(conds, ` OR `)
}

// sealTable seals the plain values of columns in up to sealBatch rows of table.
func (c *Cache) sealTable(ctx context.Context, tx *sql.Tx, table, rowKey string, columns []string) (int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT rowid, `+rowKey+`, `+strings.Join(columns, ", ")+` FROM `+table+
		` WHERE `+anyPlain(columns)+` LIMIT ?`, sealBatch)
	if err != nil {
		return 0, err
	}
	type plainRow struct {
		rowid int64
		key   string
		vals  []raw
	}
	var todo []plainRow
	for rows.Next() {
		r := plainRow{vals: make([]raw, len(columns))}
		dst := []any{&r.rowid, &r.key}
		for i := range r.vals {
			dst = append(dst, &r.vals[i])
		}
		if err := rows.Scan(dst...); err != nil {
			rows.Close()
			return 0, err
		}
		todo = append(todo, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, r := range todo {
		var sets []string
		var args []any
		for i, col := range columns {
			s, ok := r.vals[i].v.(string)
			if !ok {
				continue // sealed already
			}
			sets = append(sets, col+` = ?`)
			args = append(args, c.sealText(table, col, r.key, s))
		}
		args = append(args, r.rowid)
		if _, err := tx.ExecContext(ctx, `UPDATE `+table+` SET `+strings.Join(sets, ", ")+` WHERE rowid = ?`, args...); err != nil {
			return 0, err
		}
	}
	return len(todo), nil
}

// sealPatients gives up to sealBatch patient rows that have plain values (or
// no identity yet) their identity and look-up key and seals their values. A
// row whose identity another row has already is the same patient: its studies
// move there and the row goes.
func (c *Cache) sealPatients(ctx context.Context, tx *sql.Tx) (int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, identity, `+strings.Join(patientColumns, ", ")+` FROM patients
		WHERE identity IS NULL OR `+anyPlain(patientColumns)+` LIMIT ?`, sealBatch)
	if err != nil {
		return 0, err
	}
	type plainRow struct {
		id       int64
		identity []byte
		vals     [5]raw
	}
	var todo []plainRow
	for rows.Next() {
		var r plainRow
		if err := rows.Scan(&r.id, &r.identity, &r.vals[0], &r.vals[1], &r.vals[2], &r.vals[3], &r.vals[4]); err != nil {
			rows.Close()
			return 0, err
		}
		todo = append(todo, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, r := range todo {
		// Values sealed already open under the row's old identity.
		o := c.opener("patients", identityRow(r.identity), fmt.Sprintf("id %d", r.id))
		var plain [5]string
		for i, col := range patientColumns {
			if s, ok := r.vals[i].v.(string); ok {
				plain[i] = s
			} else {
				o.text(col, r.vals[i].v, &plain[i])
			}
		}
		if o.err != nil {
			return 0, o.err
		}
		pid, name, issuer := plain[0], plain[1], plain[2]
		identity := c.patientIdentity(issuer, pid, name)
		var other int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM patients WHERE identity = ? AND id != ?`, identity, r.id).Scan(&other)
		switch {
		case err == nil:
			if _, err := tx.ExecContext(ctx, `UPDATE studies SET patient_pk = ? WHERE patient_pk = ?`, other, r.id); err != nil {
				return 0, err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM patients WHERE id = ?`, r.id); err != nil {
				return 0, err
			}
			continue
		case !errors.Is(err, sql.ErrNoRows):
			return 0, err
		}
		row := identityRow(identity)
		args := []any{identity, c.patientKey(pid)}
		for i, col := range patientColumns {
			args = append(args, c.sealText("patients", col, row, plain[i]))
		}
		args = append(args, r.id)
		if _, err := tx.ExecContext(ctx, `UPDATE patients SET identity = ?, patient_key = ?, patient_id = ?, name = ?, issuer = ?,
			birth_date = ?, sex = ? WHERE id = ?`, args...); err != nil {
			return 0, err
		}
	}
	return len(todo), nil
}

// sealOutbox seals the SR bytes of up to sealBatch outbox rows written before
// migration 0009 (sr_format 0).
func (c *Cache) sealOutbox(ctx context.Context, tx *sql.Tx) (int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT sop_uid, sr FROM outbox WHERE sr_format = 0 LIMIT ?`, sealBatch)
	if err != nil {
		return 0, err
	}
	type plainRow struct {
		sop string
		sr  []byte
	}
	var todo []plainRow
	for rows.Next() {
		var r plainRow
		if err := rows.Scan(&r.sop, &r.sr); err != nil {
			rows.Close()
			return 0, err
		}
		todo = append(todo, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, r := range todo {
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET sr = ?, sr_format = 1 WHERE sop_uid = ?`,
			c.records.seal("outbox", "sr", r.sop, r.sr), r.sop); err != nil {
			return 0, err
		}
	}
	return len(todo), nil
}
