package cache

import (
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// StoreInstance imports one instance retrieved from the archive (see Import;
// its study is recorded as SourceArchive) and returns its SOP Instance UID: the
// shape the archive puller stores through. An instance already present with
// the same bytes is not an error.
func (c *Cache) StoreInstance(r io.Reader, name string) (string, error) {
	st, err := c.stage(r, name, true)
	if err != nil {
		return "", err
	}
	st.source = SourceArchive
	res := c.commitStaged([]*staged{st}, syncDirs)
	if res[0].Err != nil {
		return "", res[0].Err
	}
	return res[0].SOPInstanceUID, nil
}

// PutWorkItem adds a study to the worklist or refreshes its display fields,
// keeping the state and the state time of a study already there. role is
// "assigned" or "prior"; priority 0 STAT, 1 HIGH, 2 ROUTINE, 3 LOW. A
// fields["AssignedAt"] (RFC 3339) is when the archive assigned the study: the
// turnaround starts there rather than at this first sight of it.
func (c *Cache) PutWorkItem(studyUID, reader, role, priorOf string, priority int, fields map[string]string) error {
	t := now()
	archiveAssigned := ""
	if v := fields["AssignedAt"]; v != "" {
		at, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return fmt.Errorf("cache: worklist put %s: assigned at %q: %w", studyUID, v, err)
		}
		archiveAssigned = at.UTC().Format(time.RFC3339Nano)
	}
	_, err := c.db.Exec(`INSERT INTO worklist(study_uid, reader, priority, role, prior_of, state, state_since, assigned_at,
		archive_assigned_at, patient_id, patient_name, study_date, modalities, description, accession)
		VALUES (?,?,?,?,?,'assigned',?,?,?,?,?,?,?,?,?)
		ON CONFLICT(study_uid) DO UPDATE SET reader = excluded.reader, priority = excluded.priority,
		  role = CASE WHEN worklist.role = 'assigned' AND excluded.role = 'prior' THEN worklist.role ELSE excluded.role END,
		  prior_of = excluded.prior_of,
		  state = CASE WHEN worklist.state = 'unassigned' THEN 'assigned' ELSE worklist.state END,
		  archive_assigned_at = CASE WHEN excluded.role = 'prior' THEN worklist.archive_assigned_at ELSE excluded.archive_assigned_at END,
		  patient_id = excluded.patient_id, patient_name = excluded.patient_name, study_date = excluded.study_date,
		  modalities = excluded.modalities, description = excluded.description, accession = excluded.accession`,
		studyUID, reader, priority, role, priorOf, t, t, archiveAssigned,
		c.sealText("worklist", "patient_id", studyUID, fields["PatientID"]),
		c.sealText("worklist", "patient_name", studyUID, fields["PatientName"]),
		fields["StudyDate"], fields["ModalitiesInStudy"],
		c.sealText("worklist", "description", studyUID, fields["StudyDescription"]),
		c.sealText("worklist", "accession", studyUID, fields["AccessionNumber"]))
	if err != nil {
		return fmt.Errorf("cache: worklist put %s: %w", studyUID, err)
	}
	return nil
}

// SetStudyState records a study's download state; the state time changes only
// when the state does (turnaround time is measured from these).
func (c *Cache) SetStudyState(studyUID, state string, done, total int, reason string) error {
	_, err := c.db.Exec(`UPDATE worklist SET
		state_since = CASE WHEN state != ? THEN ? ELSE state_since END,
		state = ?, done = ?, total = ?, reason = ? WHERE study_uid = ?`,
		state, now(), state, done, total, reason, studyUID)
	if err != nil {
		return fmt.Errorf("cache: worklist state %s: %w", studyUID, err)
	}
	return nil
}

// UnassignOthers marks "unassigned" every study assigned to reader that is not in
// keep. Their files stay readable until evicted.
func (c *Cache) UnassignOthers(reader string, keep []string) error {
	args := []any{now(), reader}
	q := `UPDATE worklist SET state = 'unassigned', state_since = ? WHERE reader = ? AND role = 'assigned' AND state != 'unassigned'`
	if len(keep) > 0 {
		q += ` AND study_uid NOT IN (?` + strings.Repeat(",?", len(keep)-1) + `)`
		for _, k := range keep {
			args = append(args, k)
		}
	}
	// Priors of studies no longer assigned go with them.
	if _, err := c.db.Exec(q, args...); err != nil {
		return fmt.Errorf("cache: worklist unassign: %w", err)
	}
	if _, err := c.db.Exec(`UPDATE worklist SET state = 'unassigned', state_since = ? WHERE role = 'prior' AND state != 'unassigned'
		AND prior_of IN (SELECT study_uid FROM worklist WHERE role = 'assigned' AND state = 'unassigned')`, now()); err != nil {
		return fmt.Errorf("cache: worklist unassign: %w", err)
	}
	return nil
}

// WorkItem is one worklist row as the app shows it.
type WorkItem struct {
	StudyInstanceUID string
	Reader           string
	Priority         int // 0 STAT, 1 HIGH, 2 ROUTINE, 3 LOW
	Role             string
	PriorOf          string
	State            string
	StateSince       string
	// AssignedAt (RFC 3339) is when the turnaround started: the archive's
	// assignment time where it gave one, else when this cache first saw the
	// study; AssignedBy says which ("archive" or "cache").
	AssignedAt  string
	AssignedBy  string
	Done, Total int
	Reason      string
	PatientID   string
	PatientName string
	StudyDate   string
	Modalities  string
	Description string
	Accession   string
	Priors      int // priors of this study in the worklist
}

// Worklist lists the worklist rows that are not unassigned: priority first, then
// oldest assignment.
func (c *Cache) Worklist() ([]WorkItem, error) {
	return c.queryWorklist(`WHERE w.state != 'unassigned'`)
}

// WorklistAll lists every worklist row, unassigned ones too, in the order of
// Worklist.
func (c *Cache) WorklistAll() ([]WorkItem, error) {
	return c.queryWorklist(``)
}

func (c *Cache) queryWorklist(where string) ([]WorkItem, error) {
	rows, err := c.db.Query(`SELECT w.study_uid, w.reader, w.priority, w.role, w.prior_of, w.state, w.state_since,
		` + assignedCols + `, w.done, w.total, w.reason, w.patient_id, w.patient_name, w.study_date, w.modalities, w.description, w.accession,
		(SELECT COUNT(*) FROM worklist p WHERE p.prior_of = w.study_uid AND p.role = 'prior')
		FROM worklist w ` + where + ` ORDER BY w.role, w.priority, 8, w.study_date`)
	if err != nil {
		return nil, fmt.Errorf("cache: worklist: %w", err)
	}
	defer rows.Close()
	var out []WorkItem
	for rows.Next() {
		var w WorkItem
		var pid, name, desc, acc raw
		if err := rows.Scan(&w.StudyInstanceUID, &w.Reader, &w.Priority, &w.Role, &w.PriorOf, &w.State, &w.StateSince, &w.AssignedAt,
			&w.AssignedBy, &w.Done, &w.Total, &w.Reason, &pid, &name, &w.StudyDate, &w.Modalities, &desc, &acc,
			&w.Priors); err != nil {
			return nil, fmt.Errorf("cache: worklist: %w", err)
		}
		o := c.opener("worklist", w.StudyInstanceUID)
		o.text("patient_id", pid.v, &w.PatientID)
		o.text("patient_name", name.v, &w.PatientName)
		o.text("description", desc.v, &w.Description)
		o.text("accession", acc.v, &w.Accession)
		if o.err != nil {
			return nil, fmt.Errorf("cache: worklist: %w", o.err)
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cache: worklist: %w", err)
	}
	return out, nil
}

// assignedCols select a worklist row w's turnaround start and its source.
const assignedCols = `CASE WHEN w.archive_assigned_at != '' THEN w.archive_assigned_at ELSE w.assigned_at END,
		CASE WHEN w.archive_assigned_at != '' THEN 'archive' ELSE 'cache' END`

// WorkItemByUID returns one worklist row, or ErrNotFound.
func (c *Cache) WorkItemByUID(uid string) (WorkItem, error) {
	var w WorkItem
	err := c.db.QueryRow(`SELECT w.study_uid, w.reader, w.priority, w.role, w.prior_of, w.state, w.state_since, `+assignedCols+`,
		w.done, w.total, w.reason FROM worklist w WHERE w.study_uid = ?`, uid).Scan(&w.StudyInstanceUID, &w.Reader, &w.Priority, &w.Role,
		&w.PriorOf, &w.State, &w.StateSince, &w.AssignedAt, &w.AssignedBy, &w.Done, &w.Total, &w.Reason)
	if errors.Is(err, sql.ErrNoRows) {
		return w, fmt.Errorf("cache: worklist %s: %w", uid, ErrNotFound)
	}
	if err != nil {
		return w, fmt.Errorf("cache: worklist %s: %w", uid, err)
	}
	return w, nil
}

// StudyInstanceCount returns how many instances of a study are stored.
func (c *Cache) StudyInstanceCount(studyUID string) (int, error) {
	var n int
	err := c.db.QueryRow(`SELECT COUNT(*) FROM instances i JOIN series se ON se.series_uid = i.series_uid WHERE se.study_uid = ?`, studyUID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("cache: study %s count: %w", studyUID, err)
	}
	return n, nil
}

// SetWorklistArchive records archive (an identity of the configured archive,
// e.g. its DICOMweb root) as the one the worklist comes from. When the rows
// came from another archive, or from one not recorded (a cache older than
// this record), they are dropped first: a study assigned on the old archive
// cannot be reported to the new one. The cached studies stay readable; only
// the worklist rows go. It returns the Study Instance UIDs of the rows dropped.
func (c *Cache) SetWorklistArchive(archive string) ([]string, error) {
	tx, err := c.db.Begin()
	if err != nil {
		return nil, fmt.Errorf("cache: worklist archive: %w", err)
	}
	defer tx.Rollback()
	var old string
	err = tx.QueryRow(`SELECT archive FROM worklist_archive WHERE id = 1`).Scan(&old)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("cache: worklist archive: %w", err)
	}
	if err == nil && old == archive {
		return nil, nil
	}
	rows, err := tx.Query(`SELECT study_uid FROM worklist`)
	if err != nil {
		return nil, fmt.Errorf("cache: worklist archive: %w", err)
	}
	var dropped []string
	for rows.Next() {
		var uid string
		if err := rows.Scan(&uid); err != nil {
			rows.Close()
			return nil, fmt.Errorf("cache: worklist archive: %w", err)
		}
		dropped = append(dropped, uid)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cache: worklist archive: %w", err)
	}
	if _, err := tx.Exec(`DELETE FROM worklist`); err != nil {
		return nil, fmt.Errorf("cache: worklist archive: %w", err)
	}
	if _, err := tx.Exec(`INSERT INTO worklist_archive(id, archive) VALUES (1, ?)
		ON CONFLICT(id) DO UPDATE SET archive = excluded.archive`, archive); err != nil {
		return nil, fmt.Errorf("cache: worklist archive: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("cache: worklist archive: %w", err)
	}
	return dropped, nil
}
