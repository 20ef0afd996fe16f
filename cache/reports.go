package cache

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"teleread/cache/report"
)

// Outbox states.
const (
	OutboxPending   = "pending"   // signed, not yet confirmed by the archive
	OutboxSending   = "sending"   // a STOW-RS request is (or was, before a crash) under way
	OutboxDelivered = "delivered" // the archive's answer named this exact SOP Instance UID
	OutboxFailed    = "failed"    // refused for good (the reason says why); never retried by itself
	// OutboxLocal holds a consultation note on a study that did not come from
	// the archive (a CD, a zip, a shared link): there is no archive of its own
	// to deliver it to, so it is kept for export.
	OutboxLocal = "local"
)

// LoadReport returns the study's report of the given kind, or ErrNotFound.
func (c *Cache) LoadReport(studyUID string, kind report.Kind) (*report.Report, error) {
	var stored raw
	err := c.db.QueryRow(`SELECT body FROM reports WHERE study_uid = ? AND kind = ?`, studyUID, string(kind)).Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("cache: report %s: %w", studyUID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("cache: report %s: %w", studyUID, err)
	}
	r, err := c.openReport(studyUID, string(kind), stored.v)
	if err != nil {
		return nil, fmt.Errorf("cache: report %s: %w", studyUID, err)
	}
	return r, nil
}

// sealReport is what the reports table stores as r's body: the report model
// as JSON, sealed.
func (c *Cache) sealReport(r *report.Report) (any, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return c.records.seal("reports", "body", reportRow(r.StudyInstanceUID, string(r.Kind)), body), nil
}

// openReport opens a stored report body.
func (c *Cache) openReport(studyUID, kind string, stored any) (*report.Report, error) {
	o := c.opener("reports", reportRow(studyUID, kind), studyUID+" "+kind)
	body := o.open("body", stored)
	if o.err != nil {
		return nil, o.err
	}
	var r report.Report
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// SaveDraft stores a draft as it is now. It refuses to overwrite a signed report
// (a signed report never changes; corrections are addenda).
func (c *Cache) SaveDraft(r *report.Report) error {
	if r.State != report.StateDraft {
		return fmt.Errorf("cache: save draft %s: %w", r.StudyInstanceUID, report.ErrSigned)
	}
	body, err := c.sealReport(r)
	if err != nil {
		return fmt.Errorf("cache: save draft %s: %w", r.StudyInstanceUID, err)
	}
	res, err := c.db.Exec(`INSERT INTO reports(study_uid, kind, state, body, updated_at) VALUES (?,?,?,?,?)
		ON CONFLICT(study_uid, kind) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at
		WHERE reports.state = 'draft'`,
		r.StudyInstanceUID, string(r.Kind), string(r.State), body, now())
	if err != nil {
		return fmt.Errorf("cache: save draft %s: %w", r.StudyInstanceUID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("cache: save draft %s: %w", r.StudyInstanceUID, report.ErrSigned)
	}
	return nil
}

// SaveSigned stores a report that was just signed (or addended) together with
// the new SR document's outbox row, in one transaction written with
// synchronous=FULL: once it returns, the signed report survives a power cut.
func (c *Cache) SaveSigned(r *report.Report, doc report.Document) error {
	state := OutboxPending
	if r.Kind == report.KindConsult {
		var source string
		c.db.QueryRow(`SELECT source FROM studies WHERE study_uid = ?`, r.StudyInstanceUID).Scan(&source)
		if source != SourceArchive {
			state = OutboxLocal
		}
	}
	body, err := c.sealReport(r)
	if err != nil {
		return fmt.Errorf("cache: save signed %s: %w", r.StudyInstanceUID, err)
	}
	ctx := context.Background()
	conn, err := c.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("cache: save signed %s: %w", r.StudyInstanceUID, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = FULL`); err != nil {
		return fmt.Errorf("cache: save signed %s: %w", r.StudyInstanceUID, err)
	}
	defer conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`)
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("cache: save signed %s: %w", r.StudyInstanceUID, err)
	}
	defer tx.Rollback()
	// The report stored now must be the one r was signed from: no document
	// yet (a draft, or nothing stored) for a signature, exactly one fewer for
	// an addendum. Two signs from the same draft (two windows, a double
	// click that got past the panel, the CLI beside the app) would otherwise
	// both queue an SR, and the archive would get two reports for one study.
	var stored raw
	had := 0
	switch err := tx.QueryRow(`SELECT body FROM reports WHERE study_uid = ? AND kind = ?`,
		r.StudyInstanceUID, string(r.Kind)).Scan(&stored); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return fmt.Errorf("cache: save signed %s: %w", r.StudyInstanceUID, err)
	default:
		prev, err := c.openReport(r.StudyInstanceUID, string(r.Kind), stored.v)
		if err != nil {
			return fmt.Errorf("cache: save signed %s: stored report: %w", r.StudyInstanceUID, err)
		}
		had = len(prev.Documents)
	}
	if had != len(r.Documents)-1 {
		return fmt.Errorf("cache: save signed %s: stored report has %d signed documents, this one %d: %w",
			r.StudyInstanceUID, had, len(r.Documents), report.ErrSigned)
	}
	t := now()
	if _, err := tx.Exec(`INSERT INTO reports(study_uid, kind, state, body, updated_at) VALUES (?,?,?,?,?)
		ON CONFLICT(study_uid, kind) DO UPDATE SET state = excluded.state, body = excluded.body, updated_at = excluded.updated_at`,
		r.StudyInstanceUID, string(r.Kind), string(r.State), body, t); err != nil {
		return fmt.Errorf("cache: save signed %s: %w", r.StudyInstanceUID, err)
	}
	Stall(StepSignReportWritten)
	if _, err := tx.Exec(`INSERT INTO outbox(sop_uid, study_uid, kind, sr, sr_format, state, created_at, updated_at, next_attempt_at)
		VALUES (?,?,?,?,1,?,?,?,?)`, doc.SOPInstanceUID, r.StudyInstanceUID, string(r.Kind),
		c.records.seal("outbox", "sr", doc.SOPInstanceUID, doc.SR), state, t, t, t); err != nil {
		return fmt.Errorf("cache: save signed %s: outbox: %w", r.StudyInstanceUID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("cache: save signed %s: %w", r.StudyInstanceUID, err)
	}
	Stall(StepSignCommitted)
	return nil
}

// OutboxItem is one signed SR waiting for, or done with, delivery.
type OutboxItem struct {
	SOPInstanceUID   string     `json:"SOPInstanceUID"`
	StudyInstanceUID string     `json:"StudyInstanceUID"`
	Kind             string     `json:"Kind"`
	State            string     `json:"State"`
	Attempts         int        `json:"Attempts"`
	LastError        string     `json:"LastError,omitempty"`
	CreatedAt        time.Time  `json:"CreatedAt"`
	UpdatedAt        time.Time  `json:"UpdatedAt"`
	NextAttemptAt    time.Time  `json:"NextAttemptAt"`
	DeliveredAt      *time.Time `json:"DeliveredAt,omitempty"`
}

// Outbox lists every outbox row, oldest first.
func (c *Cache) Outbox() ([]OutboxItem, error) {
	return c.queryOutbox(`ORDER BY created_at, sop_uid`)
}

// DueOutbox lists the rows to send now: pending ones whose next attempt is due,
// and ones left "sending" by a crash (their answer never arrived; the sender
// asks the archive before sending again).
func (c *Cache) DueOutbox(at time.Time) ([]OutboxItem, error) {
	return c.queryOutbox(`WHERE state IN ('pending', 'sending') AND next_attempt_at <= ? ORDER BY created_at, sop_uid`,
		at.UTC().Format(time.RFC3339Nano))
}

func (c *Cache) queryOutbox(where string, args ...any) ([]OutboxItem, error) {
	rows, err := c.db.Query(`SELECT sop_uid, study_uid, kind, state, attempts, last_error, created_at, updated_at, next_attempt_at,
		delivered_at FROM outbox `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("cache: outbox: %w", err)
	}
	defer rows.Close()
	out := []OutboxItem{}
	for rows.Next() {
		var it OutboxItem
		var created, updated, next string
		var delivered sql.NullString
		if err := rows.Scan(&it.SOPInstanceUID, &it.StudyInstanceUID, &it.Kind, &it.State, &it.Attempts, &it.LastError,
			&created, &updated, &next, &delivered); err != nil {
			return nil, fmt.Errorf("cache: outbox: %w", err)
		}
		it.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
		it.UpdatedAt, _ = time.Parse(time.RFC3339Nano, updated)
		it.NextAttemptAt, _ = time.Parse(time.RFC3339Nano, next)
		if delivered.Valid {
			d, _ := time.Parse(time.RFC3339Nano, delivered.String)
			it.DeliveredAt = &d
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// OutboxSR returns the SR bytes of an outbox row.
func (c *Cache) OutboxSR(sop string) ([]byte, error) {
	var stored raw
	var format int
	err := c.db.QueryRow(`SELECT sr, sr_format FROM outbox WHERE sop_uid = ?`, sop).Scan(&stored, &format)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("cache: outbox %s: %w", sop, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("cache: outbox %s: %w", sop, err)
	}
	if format != 1 {
		return nil, fmt.Errorf("cache: outbox %s: %w", sop, &SealError{Table: "outbox", Column: "sr", Row: sop, Err: ErrUnsealed})
	}
	o := c.opener("outbox", sop)
	b := o.open("sr", stored.v)
	if o.err != nil {
		return nil, fmt.Errorf("cache: outbox %s: %w", sop, o.err)
	}
	return b, nil
}

// MarkSending records that a send is starting (durably, before the request), so
// that after a crash the sender knows an answer may be missing.
func (c *Cache) MarkSending(sop string) error {
	_, err := c.db.Exec(`UPDATE outbox SET state = 'sending', attempts = attempts + 1, updated_at = ? WHERE sop_uid = ? AND state != 'delivered'`,
		now(), sop)
	if err != nil {
		return fmt.Errorf("cache: outbox %s: mark sending: %w", sop, err)
	}
	return nil
}

// MarkRetry puts a row back to pending with the error and the next attempt time.
func (c *Cache) MarkRetry(sop, reason string, next time.Time) error {
	_, err := c.db.Exec(`UPDATE outbox SET state = 'pending', last_error = ?, next_attempt_at = ?, updated_at = ? WHERE sop_uid = ? AND state != 'delivered'`,
		reason, next.UTC().Format(time.RFC3339Nano), now(), sop)
	if err != nil {
		return fmt.Errorf("cache: outbox %s: mark retry: %w", sop, err)
	}
	return nil
}

// MarkFailed records a permanent refusal; the row stays for the user to see.
func (c *Cache) MarkFailed(sop, reason string) error {
	_, err := c.db.Exec(`UPDATE outbox SET state = 'failed', last_error = ?, updated_at = ? WHERE sop_uid = ? AND state != 'delivered'`,
		reason, now(), sop)
	if err != nil {
		return fmt.Errorf("cache: outbox %s: mark failed: %w", sop, err)
	}
	return nil
}

// RetryFailed puts a failed row back in the queue (the user asked to resend).
func (c *Cache) RetryFailed(sop string) error {
	_, err := c.db.Exec(`UPDATE outbox SET state = 'pending', next_attempt_at = ?, updated_at = ? WHERE sop_uid = ? AND state = 'failed'`,
		now(), now(), sop)
	if err != nil {
		return fmt.Errorf("cache: outbox %s: retry: %w", sop, err)
	}
	return nil
}

// MarkDelivered records the archive's confirmation of this exact SOP Instance and
// the delivery event in the report, in one transaction.
func (c *Cache) MarkDelivered(sop string, at time.Time) error {
	tx, err := c.db.Begin()
	if err != nil {
		return fmt.Errorf("cache: outbox %s: mark delivered: %w", sop, err)
	}
	defer tx.Rollback()
	var study, kind string
	if err := tx.QueryRow(`SELECT study_uid, kind FROM outbox WHERE sop_uid = ?`, sop).Scan(&study, &kind); err != nil {
		return fmt.Errorf("cache: outbox %s: mark delivered: %w", sop, err)
	}
	ts := at.UTC().Format(time.RFC3339Nano)
	if _, err := tx.Exec(`UPDATE outbox SET state = 'delivered', delivered_at = ?, last_error = '', updated_at = ? WHERE sop_uid = ?`,
		ts, ts, sop); err != nil {
		return fmt.Errorf("cache: outbox %s: mark delivered: %w", sop, err)
	}
	var stored raw
	if err := tx.QueryRow(`SELECT body FROM reports WHERE study_uid = ? AND kind = ?`, study, kind).Scan(&stored); err == nil {
		// The delivery is recorded even when the report does not open (its
		// event is then missing; LoadReport says why).
		if r, err := c.openReport(study, kind, stored.v); err == nil && r.MarkDelivered(sop, at) == nil {
			if nb, err := c.sealReport(r); err == nil {
				if _, err := tx.Exec(`UPDATE reports SET body = ?, updated_at = ? WHERE study_uid = ? AND kind = ?`, nb, ts, study, kind); err != nil {
					return fmt.Errorf("cache: outbox %s: mark delivered: %w", sop, err)
				}
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("cache: outbox %s: mark delivered: %w", sop, err)
	}
	return nil
}

// OutboxCount returns how many SRs wait for delivery (failed ones included).
func (c *Cache) OutboxCount() (int, error) {
	var n int
	if err := c.db.QueryRow(`SELECT COUNT(*) FROM outbox WHERE state NOT IN ('delivered', 'local')`).Scan(&n); err != nil {
		return 0, fmt.Errorf("cache: outbox count: %w", err)
	}
	return n, nil
}

// SignReport signs r against the study's stored images (the Patient and Study
// modules are copied from them) and stores the signed report and its SR in the
// outbox in one durable transaction. r is changed only when all of it succeeded.
func (c *Cache) SignReport(r *report.Report, at time.Time) (report.Document, error) {
	ctx, err := c.studyContext(r.StudyInstanceUID)
	if err != nil {
		return report.Document{}, err
	}
	signed := *r
	doc, err := signed.Sign(ctx, at)
	if err != nil {
		return report.Document{}, fmt.Errorf("cache: sign %s: %w", r.StudyInstanceUID, err)
	}
	if err := c.SaveSigned(&signed, doc); err != nil {
		return report.Document{}, err
	}
	*r = signed
	action := AuditReportSign
	if r.Kind == report.KindConsult {
		action = AuditReportConsult
	}
	if err := c.Audit(action, r.StudyInstanceUID, "SR "+doc.SOPInstanceUID); err != nil {
		return doc, err
	}
	return doc, nil
}

// AddAddendum signs an addendum to a signed report and queues its SR.
func (c *Cache) AddAddendum(r *report.Report, text string, signer report.Observer, at time.Time) (report.Document, error) {
	ctx, err := c.studyContext(r.StudyInstanceUID)
	if err != nil {
		return report.Document{}, err
	}
	amended := *r
	amended.Documents = append([]report.Document(nil), r.Documents...)
	amended.Events = append([]report.Event(nil), r.Events...)
	doc, err := amended.AddAddendum(ctx, text, signer, at)
	if err != nil {
		return report.Document{}, fmt.Errorf("cache: addendum %s: %w", r.StudyInstanceUID, err)
	}
	if err := c.SaveSigned(&amended, doc); err != nil {
		return report.Document{}, err
	}
	*r = amended
	if err := c.Audit(AuditReportAddendum, r.StudyInstanceUID, "SR "+doc.SOPInstanceUID); err != nil {
		return doc, err
	}
	return doc, nil
}

// studyContext reads the Patient and Study attributes from the study's images,
// leaving out SR documents (ours or others') so that the evidence lists images.
func (c *Cache) studyContext(studyUID string) (report.StudyContext, error) {
	insts, err := c.StudyInstances(studyUID)
	if err != nil {
		return report.StudyContext{}, err
	}
	var paths []string
	for _, in := range insts {
		if in.SOPClassUID != report.BasicTextSRStorage {
			paths = append(paths, in.SOPInstanceUID)
		}
	}
	if len(paths) == 0 {
		return report.StudyContext{}, fmt.Errorf("cache: study %s has no images: %w", studyUID, ErrNotFound)
	}
	ctx, err := report.StudyContextFrom(paths, c.OpenInstance)
	if err != nil {
		return report.StudyContext{}, fmt.Errorf("cache: study %s: %w", studyUID, err)
	}
	return ctx, nil
}
