package cache

import (
	"archive/zip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"teleread/viewer/dataset"
	"teleread/viewer/dataset/hostiletest"
)

// hostileDir holds the small crafted files (see its README).
const hostileDir = "../testdata/hostile"

// TestImportRejectsOverflowingDims: files whose Rows x Columns wrapped around
// were imported, then crashed whoever rendered them. Import refuses them,
// saying which value is out of range, and imports the good file beside them.
func TestImportRejectsOverflowingDims(t *testing.T) {
	c := openTemp(t)
	bad := []string{"rows_overflow_is.dcm", "rows_cols_wrap.dcm", "rows_negative.dcm", "frames_huge.dcm", "frames_encapsulated.dcm"}
	var paths []string
	for _, n := range bad {
		paths = append(paths, filepath.Join(hostileDir, n))
	}
	good := filepath.Join("..", "testdata", "corpus", "files", "mr_small_explicit_le.dcm")
	paths = append(paths, good)
	sum := c.ImportPaths(paths, nil)
	if sum.Imported != 1 {
		t.Errorf("imported %d, want the one good file", sum.Imported)
	}
	if len(sum.Rejected) != len(bad) {
		t.Fatalf("rejected %v, want the %d crafted files", sum.Rejected, len(bad))
	}
	for _, r := range sum.Rejected {
		if !errors.Is(r.Err, dataset.ErrOutOfRange) || !strings.Contains(r.Reason, "out of range") {
			t.Errorf("%s: rejected for %q (%v), want a header value out of range", r.Name, r.Reason, r.Err)
		}
	}
}

// TestGuardedTurnsPanicIntoRejection: the last line of defence of the import
// workers, the committer and the zip reader.
func TestGuardedTurnsPanicIntoRejection(t *testing.T) {
	err := guarded("x.dcm", func() { panic("index out of range [3] with length 2") })
	var re *RejectError
	if !errors.As(err, &re) || re.Name != "x.dcm" || !strings.Contains(err.Error(), "index out of range") {
		t.Errorf("got %v, want a RejectError naming x.dcm and the panic", err)
	}
	if err := guarded("y.dcm", func() {}); err != nil {
		t.Errorf("no panic: %v", err)
	}
}

// countingZeros is an endless reader of zeros that counts what was read.
type countingZeros struct{ n int64 }

func (z *countingZeros) Read(p []byte) (int, error) {
	clear(p)
	z.n += int64(len(p))
	return len(p), nil
}

// tmpFiles counts the files under the cache's tmp/ and files/ folders.
func tmpFiles(t *testing.T, c *Cache) int {
	t.Helper()
	n := 0
	for _, d := range []string{"tmp", "files"} {
		filepath.WalkDir(filepath.Join(c.Home(), d), func(p string, de os.DirEntry, err error) error {
			if de != nil && !de.IsDir() {
				n++
			}
			return nil
		})
	}
	return n
}

// TestStreamSniffedBeforeStaging: input too big to read whole went to tmp/
// (up to 8 GiB) before it was found not to be DICOM. An endless stream of
// zeros is now refused from its first bytes: nothing is written, and no more
// is read than the in-memory part.
func TestStreamSniffedBeforeStaging(t *testing.T) {
	old := smallInstance
	smallInstance = 1 << 20
	t.Cleanup(func() { smallInstance = old })
	c := openTemp(t)
	z := &countingZeros{}
	_, err := c.Import(z, "endless")
	if !errors.Is(err, ErrRejected) || !errors.Is(err, dataset.ErrNotDICOM) {
		t.Fatalf("got %v, want a rejection as not DICOM", err)
	}
	if z.n > smallInstance+64<<10 {
		t.Errorf("read %d bytes of a stream that was not DICOM from its first bytes", z.n)
	}
	if n := tmpFiles(t, c); n != 0 {
		t.Errorf("%d files left behind", n)
	}
}

// TestZipCaps: a 2 MB zip of 2 GiB of zeros filled tmp/ with 2 GB. A member
// compressed over 100:1 is refused from the archive's directory, before it is
// inflated, and the good member beside it is imported.
func TestZipCaps(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bomb.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	w, _ := zw.Create("zeros.dcm")
	if _, err := io.CopyN(w, &countingZeros{}, 256<<20); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join("..", "testdata", "corpus", "files", "mr_small_explicit_le.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	w, _ = zw.Create("good.dcm")
	w.Write(good)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	c := openTemp(t)
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	sum := c.ImportPaths([]string{p}, nil)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if sum.Imported != 1 || len(sum.Rejected) != 1 || !errors.Is(sum.Rejected[0].Err, ErrZipBomb) {
		t.Fatalf("imported %d, rejected %v; want the good member and the bomb refused as ErrZipBomb", sum.Imported, sum.Rejected)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 32<<20*raceSlack {
		t.Errorf("allocated %d MiB refusing it", got>>20)
	}
}

// TestDICOMDIRSymlinkOutside: a medium whose DICOMDIR references a file
// through a symlinked folder that leads outside the medium imports nothing
// from outside, and says why.
func TestDICOMDIRSymlinkOutside(t *testing.T) {
	medium := filepath.Join(t.TempDir(), "medium")
	outside := t.TempDir()
	good, err := os.ReadFile(filepath.Join("..", "testdata", "corpus", "files", "mr_small_explicit_le.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(medium, 0o755)
	if err := os.WriteFile(filepath.Join(outside, "IM1"), good, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(medium, "IMAGES")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(medium, "DICOMDIR"), hostiletest.DICOMDIR([][]string{{"IMAGES", "IM1"}}), 0o644); err != nil {
		t.Fatal(err)
	}
	c := openTemp(t)
	sum := c.ImportPaths([]string{filepath.Join(medium, "DICOMDIR")}, nil)
	if sum.Imported != 0 || len(sum.Rejected) != 1 || !errors.Is(sum.Rejected[0].Err, ErrNotRegular) {
		t.Errorf("imported %d, rejected %v; want IM1 refused as outside the medium", sum.Imported, sum.Rejected)
	}
}

// TestDICOMDIRBadRecordSkipped: one bad record (a Referenced File ID with
// "..", one naming a file that is not there) rejected the whole medium,
// though the README says every good file is imported. The bad records are
// reported, each by its number, and the good file imports.
func TestDICOMDIRBadRecordSkipped(t *testing.T) {
	medium := t.TempDir()
	good, err := os.ReadFile(filepath.Join("..", "testdata", "corpus", "files", "mr_small_explicit_le.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(medium, "IMAGES"), 0o755)
	if err := os.WriteFile(filepath.Join(medium, "IMAGES", "IM1"), good, 0o644); err != nil {
		t.Fatal(err)
	}
	dd := hostiletest.DICOMDIR([][]string{nil, {"IMAGES", "IM1"}, {"IMAGES", "GONE"}})
	if err := os.WriteFile(filepath.Join(medium, "DICOMDIR"), dd, 0o644); err != nil {
		t.Fatal(err)
	}
	c := openTemp(t)
	sum := c.ImportPaths([]string{filepath.Join(medium, "DICOMDIR")}, nil)
	if sum.Imported != 1 {
		t.Errorf("imported %d, want the good file", sum.Imported)
	}
	if len(sum.Rejected) != 2 {
		t.Fatalf("rejected %v, want the two bad records", sum.Rejected)
	}
	for i, want := range []string{"record 1", "record 3"} {
		if r := sum.Rejected[i]; !strings.Contains(r.Name, want) || !errors.Is(r.Err, ErrRejected) {
			t.Errorf("rejection %d: %s (%v), want %s", i, r.Name, r.Err, want)
		}
	}
}
