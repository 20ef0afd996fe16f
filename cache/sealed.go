package cache

import (
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"

	sealfile "teleread/cache/seal"
	"teleread/viewer/dataset"
)

// Instance files are sealed at rest (package seal): each with its study's
// data key (StudyKey), bound to its study and SOP Instance UIDs, so that a
// file copied off the disk reads as noise, and one changed, cut short or put
// in another instance's place fails to open, naming the file. Only this
// package sees the plaintext, on its way in (stage) and out (OpenStored,
// OpenInstance). The index's size and checksum are those of the plaintext as
// received: Verify proves the bytes are those received, after decryption.
//
// A cache written before sealing holds plain files; SealFiles seals them in
// place. Until it has finished (sealedMarker written), a plain file is read as
// plain; after, a plain file where a sealed one belongs is refused
// (ErrFileNotSealed), since only a changed disk puts it there.

// sealFiles is false only in the benchmarks that measure what sealing costs.
var sealFiles = true

// sealedMarker, in the home, records that every file has been sealed.
const sealedMarker = "files.sealed"

// ErrFileNotSealed matches a plain file in a cache whose files are all sealed.
var ErrFileNotSealed = sealfile.ErrNotSealed

// ErrFileTampered matches a sealed file that fails authentication: changed,
// cut short, extended, or another instance's file put in its place.
var ErrFileTampered = sealfile.ErrTampered

// instanceBinding is what an instance's file is bound to.
func instanceBinding(study, sop string) []byte {
	return []byte("teleread instance v1\x00" + study + "\x00" + sop)
}

// Stored is a stored instance's plaintext, decrypted as it is read: an
// io.ReaderAt for the parser and the pixel reads.
type Stored struct {
	r    io.ReaderAt
	size int64
	f    *os.File
	sr   *sealfile.Reader // nil for a plain file
}

// ReadAt reads plaintext at off.
func (s *Stored) ReadAt(p []byte, off int64) (int, error) { return s.r.ReadAt(p, off) }

// Size is the plaintext size, as received.
func (s *Stored) Size() int64 { return s.size }

// Name is the file's path.
func (s *Stored) Name() string { return s.f.Name() }

// Close closes the file.
func (s *Stored) Close() error {
	if s.sr != nil {
		s.sr.Close()
	}
	return s.f.Close()
}

// openStoredAt opens the file at abs holding instance sop of study.
func (c *Cache) openStoredAt(abs, study, sop string) (*Stored, error) {
	f, err := os.Open(abs)
	if err != nil {
		return nil, fmt.Errorf("cache: open %s: %w", abs, err)
	}
	s, err := c.storedOf(f, study, sop)
	if err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// storedOf reads f (instance sop of study) through decryption, or as plain
// where the cache still holds plain files.
func (c *Cache) storedOf(f *os.File, study, sop string) (*Stored, error) {
	abs := f.Name()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cache: open %s: %w", abs, err)
	}
	if !sealFiles {
		// The benchmarks' baseline: plain files read as before sealing.
		return &Stored{r: f, size: fi.Size(), f: f}, nil
	}
	if !c.sealedAll.Load() {
		// Plain files are possible: looked for with a small read, so that
		// reading one costs what it did before sealing.
		var head [len(sealfile.Magic)]byte
		if n, _ := f.ReadAt(head[:], 0); !sealfile.IsSealed(head[:n]) && !c.allSealed() {
			return &Stored{r: f, size: fi.Size(), f: f}, nil
		}
	}
	r, err := sealfile.OpenKey(f, fi.Size(), func() ([]byte, error) { return c.StudyKey(study) }, instanceBinding(study, sop), abs)
	if err != nil {
		return nil, fmt.Errorf("cache: open: %w", err)
	}
	return &Stored{r: r, size: r.Size(), f: f, sr: r}, nil
}

// allSealed reports whether SealFiles has sealed every file of the cache.
func (c *Cache) allSealed() bool {
	if c.sealedAll.Load() {
		return true
	}
	_, err := os.Stat(filepath.Join(c.home, sealedMarker))
	if err == nil {
		c.sealedAll.Store(true)
	}
	return err == nil
}

// locate returns where instance sop is stored and its study.
func (c *Cache) locate(sop string) (abs, study string, err error) {
	q, err := c.stmt(`SELECT i.path, s.study_uid FROM instances i JOIN series s ON s.series_uid = i.series_uid WHERE i.sop_uid = ?`)
	if err != nil {
		return "", "", fmt.Errorf("cache: open instance: %w", err)
	}
	var rel string
	switch err := q.QueryRow(sop).Scan(&rel, &study); {
	case errors.Is(err, sql.ErrNoRows):
		return "", "", fmt.Errorf("cache: open instance %s: %w", sop, ErrNotFound)
	case err != nil:
		return "", "", fmt.Errorf("cache: open instance %s: %w", sop, err)
	}
	return c.FilePath(rel), study, nil
}

// OpenStored opens the stored file of instance sop: its bytes as received.
func (c *Cache) OpenStored(sop string) (*Stored, error) {
	abs, study, err := c.locate(sop)
	if err != nil {
		return nil, err
	}
	return c.openStoredAt(abs, study, sop)
}

// OpenInstance opens stored instance sop and parses its metadata; pixel data
// are read (and decrypted) on demand. Close the File when done.
func (c *Cache) OpenInstance(sop string) (*dataset.File, error) {
	s, err := c.OpenStored(sop)
	if err != nil {
		return nil, err
	}
	return dataset.OpenReaderAt(s, s.Size(), s.Name(), s)
}

// OpenStoredPath opens the stored file at path (a file under the cache's
// files/, as `teleread info` and `render` are given one) and returns its SOP
// Instance UID. ErrNotFound: no instance is stored at that path.
func (c *Cache) OpenStoredPath(path string) (*Stored, string, error) {
	rel, err := c.relPath(path)
	if err != nil {
		return nil, "", err
	}
	q, err := c.stmt(`SELECT i.sop_uid, s.study_uid FROM instances i JOIN series s ON s.series_uid = i.series_uid WHERE i.path = ?`)
	if err != nil {
		return nil, "", fmt.Errorf("cache: open %s: %w", path, err)
	}
	var sop, study string
	switch err := q.QueryRow(rel).Scan(&sop, &study); {
	case errors.Is(err, sql.ErrNoRows):
		return nil, "", fmt.Errorf("cache: open %s: %w", path, ErrNotFound)
	case err != nil:
		return nil, "", fmt.Errorf("cache: open %s: %w", path, err)
	}
	s, err := c.openStoredAt(c.FilePath(rel), study, sop)
	return s, sop, err
}

// relPath returns path's index path (relative to files/, slash-separated),
// or ErrNotFound when it lies outside files/.
func (c *Cache) relPath(path string) (string, error) {
	rel, ok := storedRel(c.home, path)
	if !ok {
		return "", fmt.Errorf("cache: open %s: %w", path, ErrNotFound)
	}
	return rel, nil
}

// storedRel returns path relative to home's files/ (slash-separated), and
// whether it lies inside it.
func storedRel(home, path string) (string, bool) {
	files, err1 := filepath.Abs(filepath.Join(home, "files"))
	p, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return "", false
	}
	if rp, err := filepath.EvalSymlinks(p); err == nil {
		p = rp
	}
	if rf, err := filepath.EvalSymlinks(files); err == nil {
		files = rf
	}
	rel, err := filepath.Rel(files, p)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// IsStoredPath reports whether path lies in the files/ of the cache at home:
// a stored instance's file, sealed, to be opened with OpenStoredPath.
func IsStoredPath(home, path string) bool {
	_, ok := storedRel(home, path)
	return ok
}

// sameStored reports whether two stored or staged files of instance sop hold
// the same plaintext: a at absA (study studyA), b at absB (study studyB).
func (c *Cache) sameStored(absA, studyA, absB, studyB, sop string) (bool, error) {
	a, err := c.openStoredAt(absA, studyA, sop)
	if err != nil {
		return false, err
	}
	defer a.Close()
	b, err := c.openStoredAt(absB, studyB, sop)
	if err != nil {
		return false, err
	}
	defer b.Close()
	return sameContent(a, b)
}

// sealPool holds the buffers small instances are sealed into.
var sealPool = gosync.Pool{New: func() any { return new([]byte) }}

// sealBytes returns an instance's file as it is written to disk: data sealed
// with its study's key, in a pooled buffer that release gives back.
func (c *Cache) sealBytes(data []byte, rec record) (out []byte, release func(), err error) {
	if !sealFiles {
		return data, func() {}, nil
	}
	key, err := c.StudyKey(rec.study)
	if err != nil {
		return nil, nil, fmt.Errorf("seal: %w", err)
	}
	bp := sealPool.Get().(*[]byte)
	out, err = sealfile.Append((*bp)[:0], data, key, instanceBinding(rec.study, rec.sop))
	if err != nil {
		sealPool.Put(bp)
		return nil, nil, fmt.Errorf("seal: %w", err)
	}
	*bp = out
	return out, func() { sealPool.Put(bp) }, nil
}

// readBack opens a file being sealed by sw (n bytes of plaintext) for
// reading before its study, and so its key, is known: its header is written
// with a throwaway key, which the study's replaces once the metadata have
// been read.
func readBack(f *os.File, sw *sealfile.Writer, n int64, name string) (*sealfile.Reader, error) {
	var throwaway [sealfile.KeySize]byte
	if _, err := rand.Read(throwaway[:]); err != nil {
		return nil, err
	}
	head, err := sw.Header(throwaway[:], nil)
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteAt(head, 0); err != nil {
		return nil, err
	}
	return sealfile.Open(f, sealfile.SealedSize(n), throwaway[:], nil, name)
}

// storedRow is what reading a stored file back needs from the index.
type storedRow struct {
	sop, study, abs string
	size            int64
	checksum        string
}

// storedList lists every indexed instance's file.
func (c *Cache) storedList() ([]storedRow, error) {
	rows, err := c.db.Query(`SELECT i.sop_uid, s.study_uid, i.path, i.size, i.checksum
		FROM instances i JOIN series s ON s.series_uid = i.series_uid ORDER BY i.path`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []storedRow
	for rows.Next() {
		var r storedRow
		if err := rows.Scan(&r.sop, &r.study, &r.abs, &r.size, &r.checksum); err != nil {
			return nil, err
		}
		r.abs = c.FilePath(r.abs)
		out = append(out, r)
	}
	return out, rows.Err()
}
