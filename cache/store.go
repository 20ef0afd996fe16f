package cache

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/big"
	"os"
	"path"
	"path/filepath"
	gosync "sync"

	sealfile "teleread/cache/seal"
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
	return fmt.Sprintf("cache: import %q: %s", e.Name, e.Reason())
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

func (e *RejectError) Error() string { return fmt.Sprintf("%q: rejected: %v", e.Name, e.Err) }

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
	Checksum          string // see checksum.go
}

// MaxInstanceSize bounds one stored instance (a long ultrasound cine can be a few
// GiB; anything beyond this is refused rather than filling the disk).
const MaxInstanceSize = 8 << 30

// ImportFile stores the file at path (see Import).
func (c *Cache) ImportFile(p string) (Result, error) {
	f, err := os.Open(p)
	if err != nil {
		return Result{}, fmt.Errorf("cache: import %q: %w", p, err)
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

// smallInstance is the size up to which an instance is read into memory whole
// (a variable so that tests can send small files down the streaming path).
var smallInstance int64 = 16 << 20

var bufPool = gosync.Pool{New: func() any { return new(bytes.Buffer) }}

// staged is an instance written to a temporary file and parsed, not yet in place.
type staged struct {
	name   string
	tmp    string
	rec    record
	source string // where the instance came from; "" is SourceImport
}

// stage reads r and stages it: instances up to smallInstance bytes (almost
// all) are read whole and staged from memory; bigger ones stream through a
// temporary file in tmp/ while they are checksummed, then are parsed from it. A
// rejected input leaves nothing behind.
func (c *Cache) stage(r io.Reader, name string, durable bool) (*staged, error) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	m, err := buf.ReadFrom(io.LimitReader(r, smallInstance+1))
	if err != nil {
		return nil, fmt.Errorf("cache: import %q: read: %w", name, err)
	}
	if m <= smallInstance {
		return c.stageBytes(buf.Bytes(), name, durable)
	}
	// Bigger input is written to tmp/ before it is parsed: its first bytes
	// must show DICOM first, so that 2 GiB of zeros or an endless answer is
	// refused before anything reaches the disk.
	if err := dataset.Sniff(buf.Bytes()[:min(m, 1024)]); err != nil {
		return nil, &RejectError{Name: name, Err: err}
	}
	return c.stageStream(io.MultiReader(bytes.NewReader(buf.Bytes()), r), name, durable)
}

// stageBytes stages one instance held in memory: parsed first (so rejected
// input never touches the disk), then checksummed and written to a temporary file
// in the directory it will be stored in, so that putting it in place is a
// rename within one directory.
func (c *Cache) stageBytes(data []byte, name string, durable bool) (*staged, error) {
	df, err := dataset.ParseBytes(data, name)
	if err != nil {
		return nil, &RejectError{Name: name, Err: err}
	}
	if err := acceptable(df, name); err != nil {
		return nil, err
	}
	rec, err := recordOf(df, func() (string, error) {
		sum := sha256.Sum256(data)
		return hex.EncodeToString(sum[:]), nil
	})
	if err != nil {
		return nil, fmt.Errorf("cache: import %q: %w", name, err)
	}
	rec.sum = checksumOf(data)
	rec.size = int64(len(data))
	out, release, err := c.sealBytes(data, rec)
	if err != nil {
		return nil, fmt.Errorf("cache: import %q: %w", name, err)
	}
	defer release()
	dir := filepath.Dir(c.FilePath(storagePath(rec.sop)))
	tmp, err := os.CreateTemp(dir, "."+c.own.token+"-*.part")
	if err != nil {
		return nil, fmt.Errorf("cache: import %q: %w", name, err)
	}
	_, err = tmp.Write(out)
	if err == nil && durable {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("cache: import %q: write: %w", name, err)
	}
	return c.track(&staged{name: name, tmp: tmp.Name(), rec: rec}), nil
}

// stageStream copies a big instance to a temporary file in tmp/ while
// checksumming and sealing it, then parses its metadata from the file (never
// reading pixel data). Its study, and so its key, is known only then: the
// file is sealed with a key of its own, wrapped at first by a throwaway key
// for the parser's read back and then by the study's (see sealfile.Writer.Header);
// its plaintext never reaches the disk.
func (c *Cache) stageStream(r io.Reader, name string, durable bool) (*staged, error) {
	tmp, err := os.CreateTemp(filepath.Join(c.home, "tmp"), c.own.token+"-*.part")
	if err != nil {
		return nil, fmt.Errorf("cache: import %q: %w", name, err)
	}
	keep := false
	defer func() {
		tmp.Close()
		if !keep {
			os.Remove(tmp.Name())
		}
	}()
	h := crc32.New(castagnoli)
	var dst io.Writer = tmp
	var sw *sealfile.Writer
	if sealFiles {
		if sw, err = sealfile.NewDeferredWriter(tmp); err != nil {
			return nil, fmt.Errorf("cache: import %q: %w", name, err)
		}
		dst = sw
	}
	n, err := io.Copy(io.MultiWriter(dst, h), io.LimitReader(r, MaxInstanceSize+1))
	if err == nil && sw != nil {
		err = sw.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("cache: import %q: write: %w", name, err)
	}
	if n > MaxInstanceSize {
		return nil, &RejectError{Name: name, Err: fmt.Errorf("larger than %d bytes", int64(MaxInstanceSize))}
	}
	var src io.ReaderAt = tmp
	if sw != nil {
		sr, err := readBack(tmp, sw, n, name)
		if err != nil {
			return nil, fmt.Errorf("cache: import %q: %w", name, err)
		}
		defer sr.Close()
		src = sr
	}
	df, err := dataset.Parse(src, n, name)
	if err != nil {
		return nil, &RejectError{Name: name, Err: err}
	}
	if err := acceptable(df, name); err != nil {
		return nil, err
	}
	rec, err := recordOf(df, func() (string, error) {
		return contentSHA256(io.NewSectionReader(src, 0, n))
	})
	if err != nil {
		return nil, fmt.Errorf("cache: import %q: %w", name, err)
	}
	rec.sum = crcChecksum(h.Sum32())
	rec.size = n
	if sw != nil {
		key, err := c.StudyKey(rec.study)
		var head []byte
		if err == nil {
			head, err = sw.Header(key, instanceBinding(rec.study, rec.sop))
		}
		if err == nil {
			_, err = tmp.WriteAt(head, 0)
		}
		if err != nil {
			return nil, fmt.Errorf("cache: import %q: seal: %w", name, err)
		}
	}
	if durable {
		if err := tmp.Sync(); err != nil {
			return nil, fmt.Errorf("cache: import %q: fsync: %w", name, err)
		}
	}
	keep = true
	return c.track(&staged{name: name, tmp: tmp.Name(), rec: rec}), nil
}

// acceptable rejects what parses but must not be stored as an instance.
func acceptable(df *dataset.File, name string) error {
	if err := df.Validate(); err != nil {
		return &RejectError{Name: name, Err: err}
	}
	if df.String(dataset.SOPClassUID) == "1.2.840.10008.1.3.10" || df.Meta.String(dataset.MediaStorageSOPClassUID) == "1.2.840.10008.1.3.10" {
		return &RejectError{Name: name, Err: ErrDirectory}
	}
	return nil
}

// track records a staged file until it is put in place or dropped, so that
// Close can remove what a caller staged and never committed.
func (c *Cache) track(st *staged) *staged {
	c.stagedMu.Lock()
	c.staged[st.tmp] = struct{}{}
	c.stagedMu.Unlock()
	return st
}

func (c *Cache) untrack(st *staged) {
	c.stagedMu.Lock()
	delete(c.staged, st.tmp)
	c.stagedMu.Unlock()
}

// drop removes a staged file that will not be put in place.
func (c *Cache) drop(st *staged) {
	os.Remove(st.tmp)
	c.untrack(st)
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
	Stall(StepImportStaged)
	var placed []int
	dirs := map[string]bool{}
	seen := map[string][2]string{} // SOP UID -> index path and study, placed in this commit
	find, err := c.stmt(`SELECT i.path, s.study_uid FROM instances i JOIN series s ON s.series_uid = i.series_uid WHERE i.sop_uid = ?`)
	if err != nil {
		for i, st := range list {
			c.drop(st)
			out[i].Err = fmt.Errorf("cache: import %q: lookup: %w", st.name, err)
		}
		return out
	}
	for i, st := range list {
		rec := st.rec
		o := &out[i]
		o.Result = Result{SOPInstanceUID: rec.sop, SeriesInstanceUID: rec.series, StudyInstanceUID: rec.study, Size: rec.size, Checksum: rec.sum}
		oldPath, oldStudy, err := lookup(find, rec.sop)
		if placed, dup := seen[rec.sop]; dup && err == nil && oldPath == "" {
			oldPath, oldStudy = placed[0], placed[1]
		}
		same := false
		if err == nil && oldPath != "" {
			// Already stored: the bytes decide between a copy of the same
			// instance and a conflict.
			if same, err = c.sameStored(c.FilePath(oldPath), oldStudy, st.tmp, rec.study, rec.sop); err != nil {
				err = fmt.Errorf("stored copy: %w", err)
			}
		}
		switch {
		case err != nil:
			o.Err = fmt.Errorf("cache: import %q: lookup: %w", st.name, err)
		case same:
			o.Outcome, o.Path = AlreadyPresent, c.FilePath(oldPath)
		case oldPath != "":
			o.Err = &ConflictError{Name: st.name, SOPInstanceUID: rec.sop}
		}
		if o.Err != nil || o.Outcome == AlreadyPresent {
			c.drop(st)
			continue
		}
		rel := storagePath(rec.sop)
		dst := c.FilePath(rel)
		err = os.MkdirAll(filepath.Dir(dst), 0o700)
		if err == nil {
			err = os.Rename(st.tmp, dst)
		}
		if err != nil {
			c.drop(st)
			o.Err = fmt.Errorf("cache: import %q: %w", st.name, err)
			continue
		}
		c.untrack(st)
		list[i].rec.path = rel
		o.Path = dst
		seen[rec.sop] = [2]string{rel, rec.study}
		dirs[filepath.Dir(dst)] = true
		placed = append(placed, i)
	}
	if len(placed) == 0 {
		return out
	}
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
		Stall(StepImportPlaced)
		err = c.indexAll(list, placed)
	}
	for _, i := range placed {
		if err != nil {
			out[i].Err = fmt.Errorf("cache: import %q: %w", list[i].name, err)
		} else {
			out[i].Outcome = Imported
		}
	}
	return out
}

// lookup returns the index path and study of a stored SOP Instance (""
// when absent), with find prepared from the query in commitStaged.
func lookup(find *sql.Stmt, sop string) (rel, study string, err error) {
	err = find.QueryRow(sop).Scan(&rel, &study)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	return rel, study, err
}

// indexAll writes the rows of the placed instances in one transaction, with
// the statements prepared once and the patient, study and series rows written
// once per distinct value (a group is usually one series).
func (c *Cache) indexAll(list []*staged, placed []int) error {
	tx, err := c.db.Begin()
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	defer tx.Rollback()
	ix, err := c.newIndexer(tx)
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	defer ix.close()
	for _, i := range placed {
		if err := ix.add(list[i].rec, list[i].source); err != nil {
			return fmt.Errorf("index: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	Stall(StepImportIndexed)
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
	issuer                                   string
	studyDate, studyTime, accession, studyID string
	studyDesc, referring, age                string
	modality, seriesDesc, bodyPart, sopClass string
	seriesNumber, instanceNumber, rows, cols sql.NullInt64
	frames                                   int
	ts, path, sum                            string
	size                                     int64
}

func nullInt(d *dataset.DataSet, t dataset.Tag) sql.NullInt64 {
	if v, ok := d.Int(t); ok {
		return sql.NullInt64{Int64: int64(v), Valid: true}
	}
	return sql.NullInt64{}
}

// recordOf builds an instance's index record from its metadata; content
// returns the SHA-256 of the file, called only when UIDs must be derived.
func recordOf(f *dataset.File, content func() (string, error)) (record, error) {
	r := record{
		sop:       f.String(dataset.SOPInstanceUID),
		series:    f.String(dataset.SeriesInstanceUID),
		study:     f.String(dataset.StudyInstanceUID),
		birthDate: f.String(dataset.PatientBirthDate),
		sex:       f.String(dataset.PatientSex),
		studyDate: f.String(dataset.StudyDate),
		studyTime: f.String(dataset.StudyTime),
		age:       f.String(dataset.PatientAge),
		modality:  f.String(dataset.Modality),
		bodyPart:  f.String(dataset.BodyPartExamined),
		sopClass:  f.String(dataset.SOPClassUID),
		ts:        f.TransferSyntax,

		seriesNumber:   nullInt(f.DataSet, dataset.SeriesNumber),
		instanceNumber: nullInt(f.DataSet, dataset.InstanceNumber),
		rows:           nullInt(f.DataSet, dataset.Rows),
		cols:           nullInt(f.DataSet, dataset.Columns),
	}
	indexText(&r, f.DataSet)
	if r.sop == "" {
		r.sop = f.Meta.String(dataset.MediaStorageSOPInstanceUID)
	}
	var sum string
	if r.sop == "" || r.study == "" || r.series == "" {
		var err error
		if sum, err = content(); err != nil {
			return record{}, err
		}
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
	return r, nil
}

// stmt returns the statement for query, prepared once per Cache: preparing
// costs the pure-Go SQLite about as much as running a small insert, and an
// import runs the same few statements thousands of times.
func (c *Cache) stmt(query string) (*sql.Stmt, error) {
	c.stmtMu.Lock()
	defer c.stmtMu.Unlock()
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	st, err := c.db.Prepare(query)
	if err != nil {
		return nil, err
	}
	c.stmts[query] = st
	return st, nil
}

// indexer writes index rows inside one transaction.
type indexer struct {
	c                                *Cache
	patient, study, series, instance *sql.Stmt
	patients                         map[[5]string]int64 // rows written in this transaction
	studies, seriesSeen              map[string]bool
}

func (c *Cache) newIndexer(tx *sql.Tx) (*indexer, error) {
	ix := &indexer{c: c, patients: map[[5]string]int64{}, studies: map[string]bool{}, seriesSeen: map[string]bool{}}
	for _, p := range []struct {
		s   **sql.Stmt
		sql string
	}{
		// A patient row is found by its identity (a keyed hash: the values
		// are sealed); a later file that has the birth date or sex fills it in.
		{&ix.patient, `INSERT INTO patients(identity, patient_key, patient_id, name, issuer, birth_date, sex) VALUES (?1,?2,?3,?4,?5,?6,?7)
		ON CONFLICT(identity) DO UPDATE SET
		  birth_date = CASE WHEN ?8 THEN excluded.birth_date ELSE patients.birth_date END,
		  sex = CASE WHEN ?9 THEN excluded.sex ELSE patients.sex END
		RETURNING id`},
		{&ix.study, `INSERT INTO studies(study_uid, patient_pk, study_date, study_time, accession, study_id, description, referring, patient_age, source, created_at)
		VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(study_uid) DO UPDATE SET source = excluded.source
		WHERE studies.source = 'import' AND excluded.source = 'archive'`},
		{&ix.series, `INSERT INTO series(series_uid, study_uid, modality, series_number, description, body_part)
		VALUES (?,?,?,?,?,?) ON CONFLICT(series_uid) DO NOTHING`},
		{&ix.instance, `INSERT INTO instances(sop_uid, series_uid, sop_class, instance_number, rows, columns, frames, transfer_syntax, path, size, checksum, imported_at)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`},
	} {
		st, err := c.stmt(p.sql)
		if err != nil {
			ix.close()
			return nil, err
		}
		*p.s = tx.Stmt(st)
	}
	return ix, nil
}

func (ix *indexer) close() {
	for _, s := range []*sql.Stmt{ix.patient, ix.study, ix.series, ix.instance} {
		if s != nil {
			s.Close()
		}
	}
}

// add writes one instance's rows. The patient upsert is skipped when this
// transaction already wrote the very same values; studies and series are
// insert-if-absent, so once per UID is enough. A study is recorded with
// source ("" is SourceImport); one imported before that the archive now sends
// becomes SourceArchive (the archive holds it, so notes on it can go there),
// while a shared study stays shared.
func (ix *indexer) add(r record, source string) error {
	if source == "" {
		source = SourceImport
	}
	t := now()
	c := ix.c
	key := [5]string{r.issuer, r.patientID, r.patientName, r.birthDate, r.sex}
	pk, ok := ix.patients[key]
	if !ok {
		identity := c.patientIdentity(r.issuer, r.patientID, r.patientName)
		row := identityRow(identity)
		if err := ix.patient.QueryRow(identity, c.patientKey(r.patientID),
			c.sealText("patients", "patient_id", row, r.patientID), c.sealText("patients", "name", row, r.patientName),
			c.sealText("patients", "issuer", row, r.issuer), c.sealText("patients", "birth_date", row, r.birthDate),
			c.sealText("patients", "sex", row, r.sex), r.birthDate != "", r.sex != "").Scan(&pk); err != nil {
			return err
		}
		ix.patients[key] = pk
	}
	if !ix.studies[r.study] {
		if _, err := ix.study.Exec(r.study, pk, r.studyDate, r.studyTime,
			c.sealText("studies", "accession", r.study, r.accession), c.sealText("studies", "study_id", r.study, r.studyID),
			c.sealText("studies", "description", r.study, r.studyDesc), c.sealText("studies", "referring", r.study, r.referring),
			c.sealText("studies", "patient_age", r.study, r.age), source, t); err != nil {
			return err
		}
		ix.studies[r.study] = true
	}
	if !ix.seriesSeen[r.series] {
		if _, err := ix.series.Exec(r.series, r.study, r.modality, r.seriesNumber,
			c.sealText("series", "description", r.series, r.seriesDesc), r.bodyPart); err != nil {
			return err
		}
		ix.seriesSeen[r.series] = true
	}
	_, err := ix.instance.Exec(r.sop, r.series, r.sopClass, r.instanceNumber, r.rows, r.cols, r.frames, r.ts, r.path, r.size, r.sum, t)
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
