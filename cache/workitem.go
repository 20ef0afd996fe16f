package cache

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// UPS-RS workitem claims (PS3.18 §11, PS3.4 Annex CC). Claiming a workitem
// means changing it to IN PROGRESS with a Transaction UID that only its owner
// knows: the archive never gives it back (PS3.18 §11.5.3.3), and completing
// or canceling the workitem needs it. The Transaction UID is therefore written
// durably (synchronous=FULL) before the claim is sent, and kept until the
// workitem is completed or canceled, so a crash at any point can be resumed.

// Workitem claim states.
const (
	// ClaimPending: the Transaction UID is stored; the claim may or may not
	// have reached the archive.
	ClaimPending = "pending"
	// ClaimHeld: the archive holds the workitem IN PROGRESS with our
	// Transaction UID.
	ClaimHeld = "claimed"
	// ClaimCompleted and ClaimCanceled: the workitem reached that final state.
	ClaimCompleted = "completed"
	ClaimCanceled  = "canceled"
	// ClaimLost: the archive refused the Transaction UID (someone else owns
	// the workitem, or it was canceled by the archive).
	ClaimLost = "lost"
)

// WorkitemClaim is one claimed UPS-RS workitem.
type WorkitemClaim struct {
	WorkitemUID    string
	StudyUID       string
	TransactionUID string
	State          string
	ClaimedAt      string // when the claim was first stored (RFC 3339)
	UpdatedAt      string
	Reason         string // why the claim was lost, or the last completion error
}

// BeginWorkitemClaim stores txUID as the Transaction UID for claiming a
// workitem, with full durability, and returns the Transaction UID to use: the
// one stored earlier when the workitem already has an open claim (a restart
// reuses it), else txUID. A claim that was lost, completed or canceled is
// replaced by a new one.
func (c *Cache) BeginWorkitemClaim(workitemUID, studyUID, txUID string) (string, error) {
	ctx := context.Background()
	conn, err := c.db.Conn(ctx)
	if err != nil {
		return "", fmt.Errorf("cache: claim workitem %s: %w", workitemUID, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = FULL`); err != nil {
		return "", fmt.Errorf("cache: claim workitem %s: %w", workitemUID, err)
	}
	defer conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`)
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("cache: claim workitem %s: %w", workitemUID, err)
	}
	defer tx.Rollback()
	var have, state string
	err = tx.QueryRow(`SELECT transaction_uid, state FROM workitem_claims WHERE workitem_uid = ?`, workitemUID).Scan(&have, &state)
	switch {
	case err == nil && (state == ClaimPending || state == ClaimHeld):
		return have, nil
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return "", fmt.Errorf("cache: claim workitem %s: %w", workitemUID, err)
	}
	t := now()
	if _, err := tx.Exec(`INSERT INTO workitem_claims(workitem_uid, study_uid, transaction_uid, state, claimed_at, updated_at)
		VALUES (?,?,?,?,?,?) ON CONFLICT(workitem_uid) DO UPDATE SET study_uid = excluded.study_uid,
		transaction_uid = excluded.transaction_uid, state = excluded.state, claimed_at = excluded.claimed_at,
		updated_at = excluded.updated_at, reason = ''`,
		workitemUID, studyUID, txUID, ClaimPending, t, t); err != nil {
		return "", fmt.Errorf("cache: claim workitem %s: %w", workitemUID, err)
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("cache: claim workitem %s: %w", workitemUID, err)
	}
	return txUID, nil
}

// SetWorkitemClaimState records a claim's state (one of the Claim constants)
// and, for a lost claim or a failed completion, the reason.
func (c *Cache) SetWorkitemClaimState(workitemUID, state, reason string) error {
	res, err := c.db.Exec(`UPDATE workitem_claims SET state = ?, reason = ?, updated_at = ? WHERE workitem_uid = ?`,
		state, reason, now(), workitemUID)
	if err != nil {
		return fmt.Errorf("cache: workitem %s state: %w", workitemUID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("cache: workitem %s state: %w", workitemUID, ErrNotFound)
	}
	return nil
}

// WorkitemClaimByUID returns one claim, or an error wrapping ErrNotFound.
func (c *Cache) WorkitemClaimByUID(workitemUID string) (WorkitemClaim, error) {
	claims, err := c.queryClaims(`WHERE workitem_uid = ?`, workitemUID)
	if err != nil {
		return WorkitemClaim{}, err
	}
	if len(claims) == 0 {
		return WorkitemClaim{}, fmt.Errorf("cache: workitem %s: %w", workitemUID, ErrNotFound)
	}
	return claims[0], nil
}

// WorkitemClaims lists the claims in the given states (all when none is
// given), oldest first.
func (c *Cache) WorkitemClaims(states ...string) ([]WorkitemClaim, error) {
	if len(states) == 0 {
		return c.queryClaims(``)
	}
	where := `WHERE state IN (?`
	args := []any{states[0]}
	for _, s := range states[1:] {
		where += `,?`
		args = append(args, s)
	}
	return c.queryClaims(where+`)`, args...)
}

func (c *Cache) queryClaims(where string, args ...any) ([]WorkitemClaim, error) {
	rows, err := c.db.Query(`SELECT workitem_uid, study_uid, transaction_uid, state, claimed_at, updated_at, reason
		FROM workitem_claims `+where+` ORDER BY claimed_at, workitem_uid`, args...)
	if err != nil {
		return nil, fmt.Errorf("cache: workitem claims: %w", err)
	}
	defer rows.Close()
	var out []WorkitemClaim
	for rows.Next() {
		var w WorkitemClaim
		if err := rows.Scan(&w.WorkitemUID, &w.StudyUID, &w.TransactionUID, &w.State, &w.ClaimedAt, &w.UpdatedAt, &w.Reason); err != nil {
			return nil, fmt.Errorf("cache: workitem claims: %w", err)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// SetWorkitemUID records on a study's worklist row the UPS-RS workitem it
// came from. A study not on the worklist is an error wrapping ErrNotFound.
func (c *Cache) SetWorkitemUID(studyUID, workitemUID string) error {
	res, err := c.db.Exec(`UPDATE worklist SET workitem_uid = ? WHERE study_uid = ?`, workitemUID, studyUID)
	if err != nil {
		return fmt.Errorf("cache: worklist %s workitem: %w", studyUID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("cache: worklist %s workitem: %w", studyUID, ErrNotFound)
	}
	return nil
}

// WorkitemUID returns the UPS-RS workitem a study's worklist row came from,
// "" when none; a study not on the worklist is an error wrapping ErrNotFound.
func (c *Cache) WorkitemUID(studyUID string) (string, error) {
	var uid string
	err := c.db.QueryRow(`SELECT workitem_uid FROM worklist WHERE study_uid = ?`, studyUID).Scan(&uid)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("cache: worklist %s workitem: %w", studyUID, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("cache: worklist %s workitem: %w", studyUID, err)
	}
	return uid, nil
}
