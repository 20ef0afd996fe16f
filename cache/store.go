package cache

import (
	"bytes"
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
	gosync "sync"

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
// Many instances at once are faster through a Batch.
func (c *Cache) Import(r io.Reader, name string) (Result, error) {
	st, err := c.stage(r, name, true)
	if err != nil {
		return Result{}, err
	}
	res := c.commitStaged([]*staged{st}, syncDirs)
	return res[0].Result, res[0].Err
}

// smallInstance is the size up to which an instance is read into memory whole.
const smallInstance = 16 << 20

var bufPool = gosync.Pool{New: func() any { return new(bytes.Buffer) }}

// staged is an instance written to a temporary file and parsed, not yet in place.
type staged struct {
	name string
	tmp  string
	rec  record
}

// stage copies r to a temporary file (fsynced when durable is set), hashes it
// and parses its metadata. A rejected input leaves nothing behind.
func (c *Cache) stage(r io.Reader, name string, durable bool) (*staged, error) {
	tmp, err := os.CreateTemp(filepath.Join(c.home, "tmp"), "in-*.part")
	if err != nil {
		return nil, fmt.Errorf("cache: import %s: %w", name, err)
	}
	keep := false
	defer func() {
		tmp.Close()
		if !keep {
			os.Remove(tmp.Name())
		}
	}()
	// Instances up to smallInstance bytes (almost all) are read whole first:
	// one write and one in-memory parse instead of thousands of small reads and
	// writes through a multipart part or a zip member.
	var src io.ReaderAt = tmp
	var n int64
	var sum string
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	m, err := buf.ReadFrom(io.LimitReader(r, smallInstance+1))
	if err != nil {
		return nil, fmt.Errorf("cache: import %s: read: %w", name, err)
	}
	if m <= smallInstance {
		n = m
		digest := sha256.Sum256(buf.Bytes())
		sum = hex.EncodeToString(digest[:])
		if _, err := tmp.Write(buf.Bytes()); err != nil {
			return nil, fmt.Errorf("cache: import %s: write: %w", name, err)
		}
		src = bytes.NewReader(buf.Bytes())
	} else {
		h := sha256.New()
		h.Write(buf.Bytes())
		if _, err := tmp.Write(buf.Bytes()); err != nil {
			return nil, fmt.Errorf("cache: import %s: write: %w", name, err)
		}
		rest, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, MaxInstanceSize+1-m))
		if err != nil {
			return nil, fmt.Errorf("cache: import %s: write: %w", name, err)
		}
		n = m + rest
		sum = hex.EncodeToString(h.Sum(nil))
	}
	if n > MaxInstanceSize {
		return nil, &RejectError{Name: name, Err: fmt.Errorf("larger than %d bytes", int64(MaxInstanceSize))}
	}
	if durable {
		if err := tmp.Sync(); err != nil {
			return nil, fmt.Errorf("cache: import %s: fsync: %w", name, err)
		}
	}
	df, err := dataset.Parse(src, n, name)
	if err != nil {
		return nil, &RejectError{Name: name, Err: err}
	}
	if err := df.Validate(); err != nil {
		return nil, &RejectError{Name: name, Err: err}
	}
	if df.String(dataset.SOPClassUID) == "1.2.840.10008.1.3.10" || df.Meta.String(dataset.MediaStorageSOPClassUID) == "1.2.840.10008.1.3.10" {
		return nil, &RejectError{Name: name, Err: ErrDirectory}
	}
	rec := recordOf(df, sum)
	rec.size = n
	keep = true
	return &staged{name: name, tmp: tmp.Name(), rec: rec}, nil
}

// outcome is what committing one staged instance gave.
type outcome struct {
	Result
	Err error
}

// How commitStaged makes renames durable.
const (
	syncDirs = iota // fsync each directory written into
	syncFS          // one filesystem sync for all (batches)
)

// commitStaged puts staged instances in place and indexes them: under the commit
// lock, each is looked up (same bytes: already present; other bytes: conflict),
// renamed into place, the renames made durable, and the new rows written in one
// transaction. Temporary files of instances not put in place are removed.
func (c *Cache) commitStaged(list []*staged, how int) []outcome {
	out := make([]outcome, len(list))
	c.commit.Lock()
	defer c.commit.Unlock()
	var placed []int
	dirs := map[string]bool{}
	seen := map[string]string{} // SOP UID -> SHA-256 within this commit
	for i, st := range list {
		rec := st.rec
		o := &out[i]
		o.Result = Result{SOPInstanceUID: rec.sop, SeriesInstanceUID: rec.series, StudyInstanceUID: rec.study, Size: rec.size, SHA256: rec.sha}
		oldSum, oldPath, err := c.lookup(rec.sop)
		if sum, dup := seen[rec.sop]; dup && err == nil && oldSum == "" {
			oldSum, oldPath = sum, storagePath(rec.sop)
		}
		switch {
		case err != nil:
			o.Err = fmt.Errorf("cache: import %s: lookup: %w", st.name, err)
		case oldSum == rec.sha:
			o.Outcome, o.Path = AlreadyPresent, c.FilePath(oldPath)
		case oldSum != "":
			o.Err = &ConflictError{Name: st.name, SOPInstanceUID: rec.sop}
		}
		if o.Err != nil || o.Outcome == AlreadyPresent {
			os.Remove(st.tmp)
			continue
		}
		rel := storagePath(rec.sop)
		dst := c.FilePath(rel)
		err = os.MkdirAll(filepath.Dir(dst), 0o700)
		if err == nil {
			err = os.Rename(st.tmp, dst)
		}
		if err != nil {
			os.Remove(st.tmp)
			o.Err = fmt.Errorf("cache: import %s: %w", st.name, err)
			continue
		}
		list[i].rec.path = rel
		o.Path = dst
		seen[rec.sop] = rec.sha
		dirs[filepath.Dir(dst)] = true
		placed = append(placed, i)
	}
	if len(placed) == 0 {
		return out
	}
	var err error
	if how == syncFS {
		err = syncFilesystem(c.FilePath(""))
	} else {
		for d := range dirs {
			if err = syncDir(d); err != nil {
				break
			}
		}
	}
	if err == nil {
		err = c.indexAll(list, placed)
	}
	for _, i := range placed {
		if err != nil {
			out[i].Err = fmt.Errorf("cache: import %s: %w", list[i].name, err)
		} else {
			out[i].Outcome = Imported
		}
	}
	return out
}

// lookup returns the stored SHA-256 and path of a SOP Instance ("" when absent).
func (c *Cache) lookup(sop string) (sum, rel string, err error) {
	err = c.db.QueryRow(`SELECT sha256, path FROM instances WHERE sop_uid = ?`, sop).Scan(&sum, &rel)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	return sum, rel, err
}

// indexAll writes the rows of the placed instances in one transaction.
func (c *Cache) indexAll(list []*staged, placed []int) error {
	tx, err := c.db.Begin()
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	defer tx.Rollback()
	for _, i := range placed {
		if err := indexTx(tx, list[i].rec, "import"); err != nil {
			return fmt.Errorf("index: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	return nil
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
