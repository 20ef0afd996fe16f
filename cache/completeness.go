package cache

import (
	"database/sql"
	"errors"
	"fmt"
)

// Completeness is how much of a study the cache holds against what the archive
// counts. A study is ready only when every instance the archive counts (QIDO-RS
// NumberOfStudyRelatedInstances, checked by the puller against the archive's
// own lists) is durable here; the puller records that count as the worklist
// row's total and the row's state turns "ready" when the last one is durable.
// A study that is not on the worklist (imported by hand, opened from a CD, a
// zip or a link) has no archive count: it is complete as imported.
type Completeness struct {
	// Have is the number of the study's instances durable in the cache.
	Have int
	// Expected is the number the archive counts; 0 when not known yet (the
	// study is assigned but its instances were not listed yet).
	Expected int
	// Tracked says the study is on the worklist: sync fetches it and knows
	// its count.
	Tracked bool
	// Ready says every instance the archive counts is durable.
	Ready bool
	// State is the worklist state ("assigned", "downloading", "ready",
	// "failed", "unassigned"); "" when not tracked.
	State string
	// Reason is why a download failed or stopped, "" when none.
	Reason string
}

// Complete reports whether the study may be read and signed as whole: ready,
// or not fetched from an archive at all.
func (c Completeness) Complete() bool { return !c.Tracked || c.Ready }

// Missing is the number of instances the archive counts that the cache lacks;
// -1 when the archive's count is not known yet.
func (c Completeness) Missing() int {
	if c.Expected == 0 {
		return -1
	}
	return max(c.Expected-c.Have, 0)
}

// Fraction is "39/150": the instances in the cache over the archive's count
// ("39/?" while the count is not known).
func (c Completeness) Fraction() string {
	if c.Expected == 0 {
		return fmt.Sprintf("%d/?", c.Have)
	}
	return fmt.Sprintf("%d/%d", c.Have, c.Expected)
}

// Describe says in a sentence what is missing, for a reader deciding whether
// to sign: "111 of 150 instances are not in the cache (still downloading)".
// It is "" for a complete study.
func (c Completeness) Describe() string {
	if c.Complete() {
		return ""
	}
	var s string
	switch m := c.Missing(); {
	case m < 0:
		s = fmt.Sprintf("%d instances are in the cache; the archive's count is not known yet", c.Have)
	case m == 0:
		// Every counted instance is here, but the puller has not confirmed the
		// study (it failed a check, or it is being checked again).
		s = fmt.Sprintf("all %d instances are in the cache but the study is not confirmed complete", c.Expected)
	case m == 1:
		s = fmt.Sprintf("1 of %d instances is not in the cache", c.Expected)
	default:
		s = fmt.Sprintf("%d of %d instances are not in the cache", m, c.Expected)
	}
	switch c.State {
	case "downloading":
		s += " (still downloading)"
	case "failed":
		s += " (the download failed"
		if c.Reason != "" {
			s += ": " + c.Reason
		}
		s += ")"
	case "assigned":
		s += " (waiting to download)"
	case "unassigned":
		s += " (no longer assigned: not downloading)"
	}
	return s
}

// IncompleteError says that an operation that needs the whole study (signing
// a report) met a study that is not ready. Callers that let the reader go on
// anyway test for it with errors.As.
type IncompleteError struct {
	StudyInstanceUID string
	Completeness     Completeness
}

func (e *IncompleteError) Error() string {
	return fmt.Sprintf("study %s is incomplete: %s", e.StudyInstanceUID, e.Completeness.Describe())
}

// StudyCompleteness says how much of a study is durable in the cache against
// what the archive counts (see Completeness). A study neither cached nor on the
// worklist is an error wrapping ErrNotFound.
func (c *Cache) StudyCompleteness(studyUID string) (Completeness, error) {
	var out Completeness
	if err := c.db.QueryRow(`SELECT COUNT(*) FROM instances i JOIN series se ON se.series_uid = i.series_uid WHERE se.study_uid = ?`,
		studyUID).Scan(&out.Have); err != nil {
		return out, fmt.Errorf("cache: completeness of %s: %w", studyUID, err)
	}
	err := c.db.QueryRow(`SELECT state, total, reason FROM worklist WHERE study_uid = ?`, studyUID).Scan(&out.State, &out.Expected, &out.Reason)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if out.Have == 0 {
			return out, fmt.Errorf("cache: completeness of %s: %w", studyUID, ErrNotFound)
		}
		return out, nil
	case err != nil:
		return out, fmt.Errorf("cache: completeness of %s: %w", studyUID, err)
	}
	out.Tracked = true
	out.Ready = readyState(out.State, out.Have, out.Expected)
	return out, nil
}

// readyState decides readiness from a worklist row. "ready" is the puller's
// word that every counted instance is durable. While it downloads, or after it
// failed, the study is not ready whatever the counts say (a count check may be
// what failed). A study no longer assigned, or assigned again and not visited
// by the puller yet, keeps the state of its files: ready when the count the
// puller last recorded is all here.
func readyState(state string, have, expected int) bool {
	switch state {
	case "ready":
		return true
	case "downloading", "failed":
		return false
	}
	return expected > 0 && have >= expected
}
