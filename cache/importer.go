package cache

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	gosync "sync"

	"teleread/viewer/dataset"
)

// ErrNotRegular marks input that is not a regular file (a FIFO, a device, a
// socket), or a symlink that leads out of the folder or medium given.
var ErrNotRegular = errors.New("not a regular file inside the folder given")

// within checks that p is, or is a symlink to, a regular file inside root
// (root's own symlinks resolved too, so a medium mounted through one works).
func within(root, p string) error {
	r, err := filepath.EvalSymlinks(root)
	if err != nil {
		return err
	}
	q, err := filepath.EvalSymlinks(p)
	if err != nil {
		return err
	}
	if rel, err := filepath.Rel(r, q); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return fmt.Errorf("leads to %q, outside %q: %w", q, r, ErrNotRegular)
	}
	st, err := os.Stat(q)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: %w", st.Mode().Type(), ErrNotRegular)
	}
	return nil
}

// ErrZipBomb marks a zip member refused for what the archive's directory
// declares: too big alone, too big with the members before it, or compressed
// far beyond what DICOM compresses.
var ErrZipBomb = errors.New("zip archive over its size caps")

// Summary counts what ImportPaths did.
type Summary struct {
	Imported       int
	AlreadyPresent int
	Rejected       []Rejection
	// Conflicts are valid instances whose SOP Instance UID is already stored with
	// other bytes; the stored copy is kept.
	Conflicts []Rejection
	Studies   map[string]bool // studies touched
	// AuditErr says the audit trail could not record the import (which
	// happened nonetheless).
	AuditErr error
}

// Rejection names a rejected input and why.
type Rejection struct {
	Name   string
	Reason string
	Err    error
}

// ImportPaths imports files, folders (recursively), zip archives and DICOMDIRs
// (following their references). Every good file is imported even when others are
// bad. progress, if not nil, is called after each input with its result.
func (c *Cache) ImportPaths(paths []string, progress func(name string, res Result, err error)) Summary {
	sum := Summary{Studies: map[string]bool{}}
	perStudy := map[string]int{}
	var mu gosync.Mutex
	record := func(name string, res Result, err error) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil && res.Outcome == Imported:
			sum.Imported++
			sum.Studies[res.StudyInstanceUID] = true
			perStudy[res.StudyInstanceUID]++
		case err == nil:
			sum.AlreadyPresent++
			sum.Studies[res.StudyInstanceUID] = true
			perStudy[res.StudyInstanceUID]++
		case errors.Is(err, ErrConflict):
			sum.Conflicts = append(sum.Conflicts, Rejection{Name: name, Reason: reason(err), Err: err})
		default:
			sum.Rejected = append(sum.Rejected, Rejection{Name: name, Reason: reason(err), Err: err})
		}
		if progress != nil {
			progress(name, res, err)
		}
	}

	// Workers stage files (read, parse, checksum, write) in parallel; one committer makes
	// them durable and indexed in groups, with one filesystem sync per group.
	jobs := make(chan string)
	stagedCh := make(chan stagedJob)
	var wg gosync.WaitGroup
	for range importWorkers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range jobs {
				st, err := c.stageFile(p)
				stagedCh <- stagedJob{name: p, st: st, err: err}
			}
		}()
	}
	committed := make(chan struct{})
	go func() {
		defer close(committed)
		var group []*staged
		flush := func() {
			var out []namedOutcome
			if err := guarded("commit", func() { out = c.commitGroup(group) }); err != nil {
				for _, st := range group {
					c.drop(st)
					record(st.name, Result{}, err)
				}
			}
			for _, o := range out {
				record(o.name, o.Result, o.Err)
			}
			group = group[:0]
		}
		for j := range stagedCh {
			if j.err != nil {
				record(j.name, Result{}, j.err)
				continue
			}
			group = append(group, j.st)
			if len(group) >= importGroup {
				flush()
			}
		}
		flush()
	}()
	for _, p := range paths {
		if err := guarded(p, func() { c.walk(p, jobs, record) }); err != nil {
			record(p, Result{}, err)
		}
	}
	close(jobs)
	wg.Wait()
	close(stagedCh)
	<-committed
	sum.AuditErr = c.auditAll(AuditImport, perStudy, "instances imported or already present")
	return sum
}

// importWorkers is how many files are staged at once: one per CPU, at least
// two (reading overlaps parsing), at most maxImportWorkers. Each holds up to
// smallInstance bytes of input and dataset.MaxDataSetMemory of parsed data
// set (one deflated file inflates at a time, dataset.MaxInflatedSize more),
// so the workers together stay within 4 x 48 MiB + 96 MiB, whatever the files
// declare.
func importWorkers() int { return min(max(2, runtime.NumCPU()), maxImportWorkers) }

// maxImportWorkers bounds importWorkers, and so the memory they hold.
const maxImportWorkers = 4

// importGroup is how many staged files share one filesystem sync.
const importGroup = 64

type stagedJob struct {
	name string
	st   *staged
	err  error
}

type namedOutcome struct {
	name string
	outcome
}

// commitGroup commits staged files with one filesystem sync before the renames
// and one after.
func (c *Cache) commitGroup(group []*staged) []namedOutcome {
	if len(group) == 0 {
		return nil
	}
	out := make([]namedOutcome, len(group))
	if err := syncFilesystem(c.FilePath("")); err != nil {
		for i, st := range group {
			c.drop(st)
			out[i] = namedOutcome{st.name, outcome{Err: err}}
		}
		return out
	}
	for i, o := range c.commitStaged(group, syncFS) {
		out[i] = namedOutcome{group[i].name, o}
	}
	return out
}

// stageFile stages the file at p, recovering from a panic as a last line of
// defence so one bad file cannot stop an import of thousands (the cause is
// still a bug).
func (c *Cache) stageFile(p string) (st *staged, err error) {
	defer recovered(p, &err)
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("cache: import %q: %w", p, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		// Replaced since the walk saw it: read only what is still a file.
		return nil, &RejectError{Name: p, Err: ErrNotRegular}
	}
	return c.stage(f, p, false)
}

func reason(err error) string {
	var ce *ConflictError
	if errors.As(err, &ce) {
		return ce.Reason()
	}
	var re *RejectError
	if errors.As(err, &re) {
		var pe *dataset.Error
		if errors.As(re.Err, &pe) {
			return fmt.Sprintf("%v (at offset %d)", pe.Err, pe.Offset)
		}
		return re.Err.Error()
	}
	return err.Error()
}

// walk sends the files under p to jobs; zip archives and DICOMDIRs are expanded
// here (zip members are imported directly from the archive).
func (c *Cache) walk(p string, jobs chan<- string, record func(string, Result, error)) {
	st, err := os.Stat(p)
	if err != nil {
		record(p, Result{}, fmt.Errorf("cache: import %q: %w", p, err))
		return
	}
	if !st.IsDir() && !st.Mode().IsRegular() {
		// A FIFO hangs the import, /dev/zero fills tmp/: only files are read.
		record(p, Result{}, &RejectError{Name: p, Err: fmt.Errorf("%s: %w", st.Mode().Type(), ErrNotRegular)})
		return
	}
	if !st.IsDir() {
		switch {
		case isZip(p):
			c.importZip(p, record)
		case isDICOMDIR(p):
			refs, bad, err := dicomdirRecords(p)
			if err != nil {
				record(p, Result{}, &RejectError{Name: p, Err: err})
				return
			}
			for _, b := range bad {
				record(b.Name, Result{}, b.Err)
			}
			root := filepath.Dir(p)
			for _, r := range refs {
				if err := within(root, r); err != nil {
					record(r, Result{}, &RejectError{Name: r, Err: err})
					continue
				}
				jobs <- r
			}
		default:
			jobs <- p
		}
		return
	}
	// The folder given may itself be reached through a symlink (a mounted
	// medium); what is inside must stay inside its real place.
	if r, err := filepath.EvalSymlinks(p); err == nil {
		p = r
	}
	filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err != nil {
			record(q, Result{}, fmt.Errorf("cache: import %q: %w", q, err))
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			// A symlink is followed only to a file inside the folder given;
			// FIFOs, sockets and devices are never opened.
			if err := within(p, q); err != nil {
				record(q, Result{}, &RejectError{Name: q, Err: err})
				return nil
			}
		}
		// Inside a folder, a DICOMDIR is skipped: the walk meets its files anyway.
		if strings.EqualFold(d.Name(), "DICOMDIR") {
			return nil
		}
		if isZip(q) {
			c.importZip(q, record)
			return nil
		}
		jobs <- q
		return nil
	})
}

func isZip(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		return false
	}
	return string(magic[:]) == "PK\x03\x04"
}

func isDICOMDIR(p string) bool {
	if strings.EqualFold(filepath.Base(p), "DICOMDIR") {
		return true
	}
	// The Media Storage SOP Class is in the meta header, near the start: read
	// that, not the whole data set (which the import parses anyway, once).
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 4<<10)
	n, _ := io.ReadFull(f, head)
	meta, err := dataset.ParseMeta(head[:n], p)
	return err == nil && meta.String(dataset.MediaStorageSOPClassUID) == "1.2.840.10008.1.3.10"
}

// Caps on a zip archive, checked against what its directory declares (which
// archive/zip enforces while reading: a member that inflates to more than it
// declared fails). A 2 MB zip of 2 GiB of zeros filled tmp/ with 2 GB.
const (
	// maxZipMember bounds one member's uncompressed size.
	maxZipMember = MaxInstanceSize
	// maxZipTotal bounds the uncompressed size of all members together.
	maxZipTotal = 64 << 30
	// maxZipRatio bounds a member's compression ratio once it is bigger
	// than zipRatioFrom: DICOM compresses a few times (an empty image
	// maybe 50:1); only crafted input inflates a thousandfold.
	maxZipRatio  = 100
	zipRatioFrom = 1 << 20
)

func (c *Cache) importZip(p string, record func(string, Result, error)) {
	zr, err := zip.OpenReader(p)
	if err != nil {
		record(p, Result{}, &RejectError{Name: p, Err: fmt.Errorf("zip: %w", err)})
		return
	}
	defer zr.Close()
	var total uint64
	for _, zf := range zr.File {
		if zf.FileInfo().IsDir() || strings.EqualFold(filepath.Base(zf.Name), "DICOMDIR") {
			continue
		}
		name := p + "!" + zf.Name
		size := zf.UncompressedSize64
		switch {
		case size > maxZipMember:
			record(name, Result{}, &RejectError{Name: name, Err: fmt.Errorf("zip member larger than %d bytes: %w", int64(maxZipMember), ErrZipBomb)})
			continue
		case size > zipRatioFrom && size/maxZipRatio > zf.CompressedSize64:
			record(name, Result{}, &RejectError{Name: name, Err: fmt.Errorf("zip member of %d bytes compressed to %d (over %d:1): %w", size, zf.CompressedSize64, maxZipRatio, ErrZipBomb)})
			continue
		case total+size > maxZipTotal:
			record(name, Result{}, &RejectError{Name: name, Err: fmt.Errorf("zip members larger than %d bytes together: %w", int64(maxZipTotal), ErrZipBomb)})
			continue
		}
		total += size
		rc, err := zf.Open()
		if err != nil {
			record(name, Result{}, &RejectError{Name: name, Err: err})
			continue
		}
		var res Result
		if gerr := guarded(name, func() { res, err = c.Import(rc, name) }); gerr != nil {
			err = gerr
		}
		rc.Close()
		record(name, res, err)
	}
}

// Directory Record Sequence and Referenced File ID (PS3.3 F.5).
const (
	directoryRecordSequence dataset.Tag = 0x00041220
	referencedFileID        dataset.Tag = 0x00041500
)

// DICOMDIRFiles returns the files a DICOMDIR references, resolved against its
// folder. Media written by old burners use upper-case 8.3 names while the
// filesystem may show another case: a path component that does not exist as
// written is matched case-insensitively.
func DICOMDIRFiles(dicomdir string) ([]string, error) {
	files, bad, err := dicomdirRecords(dicomdir)
	if err != nil {
		return nil, err
	}
	if len(bad) > 0 {
		return nil, bad[0].Err
	}
	return files, nil
}

// dicomdirRecords returns the files a DICOMDIR references (see
// DICOMDIRFiles), and the records that reference nothing usable (a
// component like "..", a file that is not there), each named by its record
// number and Referenced File ID: one bad record does not cost the rest of the
// medium.
func dicomdirRecords(dicomdir string) (files []string, bad []Rejection, err error) {
	f, err := dataset.Open(dicomdir)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	base := filepath.Dir(dicomdir)
	for i, rec := range f.Items(directoryRecordSequence) {
		parts := rec.Strings(referencedFileID)
		if len(parts) == 0 {
			continue
		}
		p, err := resolveFold(base, parts)
		if err != nil {
			name := fmt.Sprintf("%s record %d (%q)", dicomdir, i+1, strings.Join(parts, `\`))
			err = fmt.Errorf("dicomdir %s: record %d: %w", dicomdir, i+1, err)
			bad = append(bad, Rejection{Name: name, Reason: err.Error(), Err: &RejectError{Name: name, Err: err}})
			continue
		}
		files = append(files, p)
	}
	return files, bad, nil
}

func resolveFold(base string, parts []string) (string, error) {
	cur := base
	for _, part := range parts {
		if part == "" || part == "." || part == ".." || strings.ContainsAny(part, `/\`) {
			return "", fmt.Errorf("referenced file ID component %q not allowed", part)
		}
		next := filepath.Join(cur, part)
		if _, err := os.Stat(next); err != nil {
			entries, rerr := os.ReadDir(cur)
			if rerr != nil {
				return "", rerr
			}
			found := false
			for _, e := range entries {
				if strings.EqualFold(e.Name(), part) {
					next, found = filepath.Join(cur, e.Name()), true
					break
				}
			}
			if !found {
				return "", fmt.Errorf("referenced file %s: %w", filepath.Join(append([]string{base}, parts...)...), os.ErrNotExist)
			}
		}
		cur = next
	}
	return cur, nil
}
