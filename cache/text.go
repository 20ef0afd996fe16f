package cache

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"teleread/viewer/dataset"
)

// The index holds text as UTF-8 only: names, IDs and descriptions are
// decoded from the files' Specific Character Set by the one decoder in
// viewer/dataset. Caches written before held the stored bytes instead;
// migration 0005 re-decodes those rows from the stored files.

// indexText fills the record's text attributes from ds.
func indexText(r *record, ds *dataset.DataSet) {
	r.patientID = ds.Text(dataset.PatientID)
	r.issuer = ds.Text(dataset.IssuerOfPatientID)
	r.patientName = strings.TrimSpace(ds.Text(dataset.PatientName))
	r.accession = ds.Text(dataset.AccessionNumber)
	r.studyID = ds.Text(dataset.StudyID)
	r.studyDesc = ds.Text(dataset.StudyDescription)
	r.referring = ds.Text(dataset.ReferringPhysicianName)
	r.seriesDesc = ds.Text(dataset.SeriesDescription)
}

// codeMigrations are the steps of numbered migrations that SQL cannot do,
// run in the migration's transaction right after its SQL.
var codeMigrations = map[int]func(ctx context.Context, c *Cache, tx *sql.Tx) error{
	5: redecodeText,
}

// needsDecoding reports whether s, as an older version stored it, may read
// differently once decoded: bytes above 0x7F or ISO 2022 escapes. Plain
// ASCII reads the same in every character set.
func needsDecoding(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 || s[i] == 0x1b {
			return true
		}
	}
	return false
}

// redecodeText is migration 0005: the text of every study and series row
// that is not plain ASCII is read again, decoded, from one of its stored
// files. A row whose files cannot be read keeps its text, made valid UTF-8
// (bytes that are not are read as Latin-1), so the index holds UTF-8 only.
func redecodeText(ctx context.Context, c *Cache, tx *sql.Tx) error {
	type studyRow struct {
		uid, patientID, name, desc, referring, accession, studyID string
		pk                                                        int64
	}
	var studies []studyRow
	rows, err := tx.QueryContext(ctx, `SELECT s.study_uid, s.patient_pk, p.patient_id, p.name, s.description, s.referring, s.accession, s.study_id
		FROM studies s JOIN patients p ON p.id = s.patient_pk`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var s studyRow
		if err := rows.Scan(&s.uid, &s.pk, &s.patientID, &s.name, &s.desc, &s.referring, &s.accession, &s.studyID); err != nil {
			rows.Close()
			return err
		}
		if needsDecoding(s.patientID + s.name + s.desc + s.referring + s.accession + s.studyID) {
			studies = append(studies, s)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	for _, s := range studies {
		var r record
		if ds := c.readStoredHeader(ctx, tx, `SELECT i.path, i.sop_uid, se.study_uid FROM instances i JOIN series se ON se.series_uid = i.series_uid
			WHERE se.study_uid = ? ORDER BY i.imported_at, i.sop_uid`, s.uid); ds != nil {
			indexText(&r, ds.DataSet)
			ds.Close()
		} else {
			r.patientID, r.patientName, r.studyDesc = validUTF8(s.patientID), validUTF8(s.name), validUTF8(s.desc)
			r.referring, r.accession, r.studyID = validUTF8(s.referring), validUTF8(s.accession), validUTF8(s.studyID)
		}
		pk := s.pk
		if r.patientID != s.patientID || r.patientName != s.name {
			// The decoded patient may have a row already (another study of
			// the same patient decoded first); else it gets one. The old
			// row stays while other studies still point at it: the same
			// bytes may be a different name in another study's set.
			err := tx.QueryRowContext(ctx, `SELECT id FROM patients WHERE patient_id = ? AND name = ?`, r.patientID, r.patientName).Scan(&pk)
			if errors.Is(err, sql.ErrNoRows) {
				res, ierr := tx.ExecContext(ctx, `INSERT INTO patients(patient_id, name, birth_date, sex)
					SELECT ?, ?, birth_date, sex FROM patients WHERE id = ?`, r.patientID, r.patientName, s.pk)
				if ierr == nil {
					pk, ierr = res.LastInsertId()
				}
				err = ierr
			}
			if err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE studies SET patient_pk = ?, description = ?, referring = ?, accession = ?, study_id = ?
			WHERE study_uid = ?`, pk, r.studyDesc, r.referring, r.accession, r.studyID, s.uid); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM patients WHERE id NOT IN (SELECT patient_pk FROM studies)`); err != nil {
		return err
	}

	type seriesRow struct{ uid, desc string }
	var series []seriesRow
	rows, err = tx.QueryContext(ctx, `SELECT series_uid, description FROM series`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var s seriesRow
		if err := rows.Scan(&s.uid, &s.desc); err != nil {
			rows.Close()
			return err
		}
		if needsDecoding(s.desc) {
			series = append(series, s)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, s := range series {
		desc := validUTF8(s.desc)
		if ds := c.readStoredHeader(ctx, tx, `SELECT i.path, i.sop_uid, se.study_uid FROM instances i JOIN series se ON se.series_uid = i.series_uid
			WHERE i.series_uid = ? ORDER BY i.imported_at, i.sop_uid`, s.uid); ds != nil {
			desc = ds.Text(dataset.SeriesDescription)
			ds.Close()
		}
		if _, err := tx.ExecContext(ctx, `UPDATE series SET description = ? WHERE series_uid = ?`, desc, s.uid); err != nil {
			return err
		}
	}
	return nil
}

// readStoredHeader opens the first stored file that query (given arg;
// listing path, SOP Instance UID and study) lists and that parses; nil when
// none does.
func (c *Cache) readStoredHeader(ctx context.Context, tx *sql.Tx, query, arg string) *dataset.File {
	rows, err := tx.QueryContext(ctx, query+` LIMIT 4`, arg)
	if err != nil {
		return nil
	}
	var found [][3]string
	for rows.Next() {
		var p, sop, study string
		if rows.Scan(&p, &sop, &study) == nil {
			found = append(found, [3]string{p, sop, study})
		}
	}
	rows.Close()
	for _, p := range found {
		s, err := c.openStoredAt(c.FilePath(p[0]), p[2], p[1])
		if err != nil {
			continue
		}
		if f, err := dataset.OpenReaderAt(s, s.Size(), s.Name(), s); err == nil {
			return f
		}
	}
	return nil
}

// validUTF8 returns s with the bytes that are not UTF-8 read as Latin-1.
func validUTF8(s string) string {
	return dataset.ParseCharacterSet("ISO_IR 192").Decode("LO", []byte(s))
}
