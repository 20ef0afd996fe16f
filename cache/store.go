package cache

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path"
	"path/filepath"
	"strings"

	"teleread/viewer/dataset"
)

// Outcome says what an import did.
type Outcome int

const (
	// Imported: the instance is new and now stored and indexed.
	Imported Outcome = iota
	// AlreadyPresent: the same SOP Instance with the same bytes was already stored.
	AlreadyPresent
)

// ErrConflict: an instance with the same SOP Instance UID but other bytes is
// already stored; the stored copy is left untouched.
var ErrConflict = errors.New("same SOP Instance UID already stored with different bytes")

// ConflictError reports an import of a SOP Instance that is already stored with
// other bytes. It matches ErrConflict with errors.Is.
type ConflictError struct {
	Name           string
	SOPInstanceUID string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("cache: import %s: %s", e.Name, e.Reason())
}

// Reason says what conflicted, without the file name.
func (e *ConflictError) Reason() string {
	return fmt.Sprintf("SOP Instance %s is already stored with different bytes; the stored copy is kept", e.SOPInstanceUID)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// ErrRejected marks input that is not an acceptable DICOM instance; the wrapped
// error says why.
var ErrRejected = errors.New("rejected")

// RejectError names the rejected input and the reason.
type RejectError struct {
	Name string
	Err  error
}

func (e *RejectError) Error() string { return fmt.Sprintf("%s: rejected: %v", e.Name, e.Err) }

// Unwrap lets errors.Is find both ErrRejected and the parser's sentinel.
func (e *RejectError) Unwrap() []error { return []error{ErrRejected, e.Err} }

// Result describes one stored instance.
type Result struct {
	Outcome           Outcome
	SOPInstanceUID    string
	SeriesInstanceUID string
	StudyInstanceUID  string
	Path              string // absolute path of the stored file
	Size              int64
	SHA256            string
}

// MaxInstanceSize bounds one stored instance (a long ultrasound cine can be a few
// GiB; anything beyond this is refused rather than filling the disk).
const MaxInstanceSize = 8 << 30

// ImportFile stores the file at path (see Import).
func (c *Cache) ImportFile(p string) (Result, error) {
	f, err := os.Open(p)
	if err != nil {
		return Result{}, fmt.Errorf("cache: import %s: %w", p, err)
	}
	defer f.Close()
	return c.Import(f, p)
}

// Import streams r into the cache: temporary file, fsync, metadata parse (never
// pixel data), rename into place, then the index row. name is used in errors.
func (c *Cache) Import(r io.Reader, name string) (Result, error) {
	tmp, err := os.CreateTemp(filepath.Join(c.home, "tmp"), "in-*.part")
	if err != nil {
		return Result{}, fmt.Errorf("cache: import %s: %w", name, err)
	}
	tmpName := tmp.Name()
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, MaxInstanceSize+1))
	if err != nil {
		return Result{}, fmt.Errorf("cache: import %s: write: %w", name, err)
	}
	if n > MaxInstanceSize {
		return Result{}, &RejectError{Name: name, Err: fmt.Errorf("larger than %d bytes", int64(MaxInstanceSize))}
	}
	if err := tmp.Sync(); err != nil {
		return Result{}, fmt.Errorf("cache: import %s: fsync: %w", name, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))

	df, err := dataset.Parse(tmp, n, name)
	if err != nil {
		return Result{}, &RejectError{Name: name, Err: err}
	}
	if err := df.Validate(); err != nil {
		return Result{}, &RejectError{Name: name, Err: err}
	}
	if df.String(dataset.SOPClassUID) == "1.2.840.10008.1.3.10" || df.Meta.String(dataset.MediaStorageSOPClassUID) == "1.2.840.10008.1.3.10" {
		return Result{}, &RejectError{Name: name, Err: ErrDirectory}
	}
	rec := recordOf(df, sum)
	res := Result{SOPInstanceUID: rec.sop, SeriesInstanceUID: rec.series, StudyInstanceUID: rec.study, Size: n, SHA256: sum}

	c.commit.Lock()
	defer c.commit.Unlock()
	var oldSum, oldPath string
	err = c.db.QueryRow(`SELECT sha256, path FROM instances WHERE sop_uid = ?`, rec.sop).Scan(&oldSum, &oldPath)
	switch {
	case err == nil && oldSum == sum:
		res.Outcome, res.Path = AlreadyPresent, c.FilePath(oldPath)
		return res, nil
	case err == nil:
		return res, &ConflictError{Name: name, SOPInstanceUID: rec.sop}
	case !errors.Is(err, sql.ErrNoRows):
		return res, fmt.Errorf("cache: import %s: lookup: %w", name, err)
	}

	rel := storagePath(rec.sop)
	dst := c.FilePath(rel)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return res, fmt.Errorf("cache: import %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return res, fmt.Errorf("cache: import %s: close: %w", name, err)
	}
	if err := os.Rename(tmpName, dst); err != nil {
		return res, fmt.Errorf("cache: import %s: rename: %w", name, err)
	}
	committed = true
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return res, fmt.Errorf("cache: import %s: fsync dir: %w", name, err)
	}
	rec.path, rec.size = rel, n
	if err := c.index(rec); err != nil {
		return res, fmt.Errorf("cache: import %s: index: %w", name, err)
	}
	res.Outcome, res.Path = Imported, dst
	return res, nil
}

// ErrDirectory marks a DICOMDIR handed to Import: it is an index of files, not an
// instance (ImportPaths follows its references instead).
var ErrDirectory = errors.New("a DICOMDIR media directory, not an image")

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// storagePath is where an instance lives under files/: a two-level fan-out by a
// hash of the UID keeps directories small; the file name is the UID itself when it
// is a valid UID (digits and dots), else its hash.
func storagePath(sop string) string {
	sum := sha256.Sum256([]byte(sop))
	h := hex.EncodeToString(sum[:])
	name := sop
	if !validUID(sop) {
		name = h
	}
	return path.Join(h[:2], name+".dcm")
}

func validUID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && r != '.' {
			return false
		}
	}
	return true
}

// derivedUID makes a stable UID (PS3.5 B.2, 2.25 root) for files that lack one,
// from their content, so re-importing the same bytes finds the same instance.
func derivedUID(kind, sum string) string {
	b, _ := hex.DecodeString(sum)
	h := sha256.Sum256(append([]byte(kind+":"), b...))
	n := new(big.Int).SetBytes(h[:16])
	return "2.25." + n.String()
}

// record is one instance's index attributes.
type record struct {
	sop, series, study                       string
	patientID, patientName, birthDate, sex   string
	studyDate, studyTime, accession, studyID string
	studyDesc, referring, age                string
	modality, seriesDesc, bodyPart, sopClass string
	seriesNumber, instanceNumber, rows, cols sql.NullInt64
	frames                                   int
	ts, path, sha                            string
	size                                     int64
}

func nullInt(d *dataset.DataSet, t dataset.Tag) sql.NullInt64 {
	if v, ok := d.Int(t); ok {
		return sql.NullInt64{Int64: int64(v), Valid: true}
	}
	return sql.NullInt64{}
}

func recordOf(f *dataset.File, sum string) record {
	r := record{
		sop:         f.String(dataset.SOPInstanceUID),
		series:      f.String(dataset.SeriesInstanceUID),
		study:       f.String(dataset.StudyInstanceUID),
		patientID:   f.String(dataset.PatientID),
		patientName: strings.TrimSpace(f.String(dataset.PatientName)),
		birthDate:   f.String(dataset.PatientBirthDate),
		sex:         f.String(dataset.PatientSex),
		studyDate:   f.String(dataset.StudyDate),
		studyTime:   f.String(dataset.StudyTime),
		accession:   f.String(dataset.AccessionNumber),
		studyID:     f.String(dataset.StudyID),
		studyDesc:   f.String(dataset.StudyDescription),
		referring:   f.String(dataset.ReferringPhysicianName),
		age:         f.String(dataset.PatientAge),
		modality:    f.String(dataset.Modality),
		seriesDesc:  f.String(dataset.SeriesDescription),
		bodyPart:    f.String(dataset.BodyPartExamined),
		sopClass:    f.String(dataset.SOPClassUID),
		ts:          f.TransferSyntax,
		sha:         sum,

		seriesNumber:   nullInt(f.DataSet, dataset.SeriesNumber),
		instanceNumber: nullInt(f.DataSet, dataset.InstanceNumber),
		rows:           nullInt(f.DataSet, dataset.Rows),
		cols:           nullInt(f.DataSet, dataset.Columns),
	}
	if r.sop == "" {
		r.sop = f.Meta.String(dataset.MediaStorageSOPInstanceUID)
	}
	if r.sop == "" {
		r.sop = derivedUID("sop", sum)
	}
	// Files without study or series UIDs (bare test images) each become their
	// own study, keyed from the content so that a re-import finds them again.
	if r.study == "" {
		r.study = derivedUID("study", sum)
	}
	if r.series == "" {
		r.series = derivedUID("series", sum)
	}
	if r.sopClass == "" {
		r.sopClass = f.Meta.String(dataset.MediaStorageSOPClassUID)
	}
	r.frames, _ = f.NumberOfFrames()
	return r
}

// index writes one instance's rows (patient, study, series, instance) in one
// transaction.
func (c *Cache) index(r record) error {
	tx, err := c.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := indexTx(tx, r, "import"); err != nil {
		return err
	}
	return tx.Commit()
}

func indexTx(tx *sql.Tx, r record, source string) error {
	t := now()
	if _, err := tx.Exec(`INSERT INTO patients(patient_id, name, birth_date, sex) VALUES (?,?,?,?)
		ON CONFLICT(patient_id, name) DO UPDATE SET
		  birth_date = CASE WHEN excluded.birth_date != '' THEN excluded.birth_date ELSE birth_date END,
		  sex = CASE WHEN excluded.sex != '' THEN excluded.sex ELSE sex END`,
		r.patientID, r.patientName, r.birthDate, r.sex); err != nil {
		return err
	}
	var pk int64
	if err := tx.QueryRow(`SELECT id FROM patients WHERE patient_id = ? AND name = ?`, r.patientID, r.patientName).Scan(&pk); err != nil {
		return err
	}
	if _, err := tx.Exec(`INSERT INTO studies(study_uid, patient_pk, study_date, study_time, accession, study_id, description, referring, patient_age, source, created_at)
		VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(study_uid) DO NOTHING`,
		r.study, pk, r.studyDate, r.studyTime, r.accession, r.studyID, r.studyDesc, r.referring, r.age, source, t); err != nil {
		return err
	}
	if _, err := tx.Exec(`INSERT INTO series(series_uid, study_uid, modality, series_number, description, body_part)
		VALUES (?,?,?,?,?,?) ON CONFLICT(series_uid) DO NOTHING`,
		r.series, r.study, r.modality, r.seriesNumber, r.seriesDesc, r.bodyPart); err != nil {
		return err
	}
	_, err := tx.Exec(`INSERT INTO instances(sop_uid, series_uid, sop_class, instance_number, rows, columns, frames, transfer_syntax, path, size, sha256, imported_at)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
		r.sop, r.series, r.sopClass, r.instanceNumber, r.rows, r.cols, r.frames, r.ts, r.path, r.size, r.sha, t)
	return err
}

// HasInstance reports whether the SOP Instance is stored.
func (c *Cache) HasInstance(sop string) (bool, error) {
	var one int
	err := c.db.QueryRow(`SELECT 1 FROM instances WHERE sop_uid = ?`, sop).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cache: has instance: %w", err)
	}
	return true, nil
}
