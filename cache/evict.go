package cache

import (
	"fmt"
	"os"
)

// Evicted describes one study removed by Evict.
type Evicted struct {
	StudyInstanceUID string
	Bytes            int64
}

// Evict removes whole studies, least recently read first (never-read ones by
// age), until the stored files total at most limit bytes. It never removes a
// study that is on the worklist (assigned, downloading, ready), has a report
// draft, or has a signed report not yet delivered. Index rows go first, in one
// transaction per study, then the files: a crash in between leaves only orphan
// files, never a row without its file.
func (c *Cache) Evict(limit int64) ([]Evicted, error) {
	var total int64
	if err := c.db.QueryRow(`SELECT COALESCE(SUM(size), 0) FROM instances`).Scan(&total); err != nil {
		return nil, fmt.Errorf("cache: evict: %w", err)
	}
	if total <= limit {
		return nil, nil
	}
	rows, err := c.db.Query(`SELECT s.study_uid,
		(SELECT COALESCE(SUM(i.size), 0) FROM instances i JOIN series se ON se.series_uid = i.series_uid WHERE se.study_uid = s.study_uid)
		FROM studies s
		WHERE NOT EXISTS (SELECT 1 FROM worklist w WHERE w.study_uid = s.study_uid AND w.state != 'unassigned')
		  AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.study_uid = s.study_uid AND r.state = 'draft')
		  AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.study_uid = s.study_uid AND o.state NOT IN ('delivered', 'local'))
		ORDER BY COALESCE(s.last_read_at, s.created_at), s.created_at`)
	if err != nil {
		return nil, fmt.Errorf("cache: evict: %w", err)
	}
	type cand struct {
		uid  string
		size int64
	}
	var cands []cand
	for rows.Next() {
		var cd cand
		if err := rows.Scan(&cd.uid, &cd.size); err != nil {
			rows.Close()
			return nil, fmt.Errorf("cache: evict: %w", err)
		}
		cands = append(cands, cd)
	}
	rows.Close()
	var out []Evicted
	for _, cd := range cands {
		if total <= limit {
			break
		}
		if err := c.removeStudy(cd.uid); err != nil {
			return out, err
		}
		total -= cd.size
		out = append(out, Evicted{StudyInstanceUID: cd.uid, Bytes: cd.size})
		if err := c.Audit(AuditEvict, cd.uid, fmt.Sprintf("%d bytes removed for the cache limit", cd.size)); err != nil {
			return out, err
		}
	}
	return out, nil
}

// removeStudy deletes a study's rows, then its files.
func (c *Cache) removeStudy(uid string) error {
	insts, err := c.StudyInstances(uid)
	if err != nil {
		return err
	}
	tx, err := c.db.Begin()
	if err != nil {
		return fmt.Errorf("cache: evict %s: %w", uid, err)
	}
	defer tx.Rollback()
	for _, q := range []string{
		`DELETE FROM instances WHERE series_uid IN (SELECT series_uid FROM series WHERE study_uid = ?)`,
		`DELETE FROM series WHERE study_uid = ?`,
		`DELETE FROM worklist WHERE study_uid = ?`,
		`DELETE FROM studies WHERE study_uid = ?`,
	} {
		if _, err := tx.Exec(q, uid); err != nil {
			return fmt.Errorf("cache: evict %s: %w", uid, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("cache: evict %s: %w", uid, err)
	}
	for _, in := range insts {
		os.Remove(in.Path)
	}
	return nil
}
