package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"teleread/internal/corpustest"
)

const corpusDir = "../testdata/corpus"

// entry is a corpus MANIFEST.json entry (internal/corpustest loads the
// corpus for every package's tests).
type entry = corpustest.Entry

func manifest(t *testing.T) []entry {
	t.Helper()
	_, entries := corpustest.Load(t)
	return entries
}

// missing skips a test or benchmark whose input or peer is missing, or fails
// it under CI=true, where every dependency must be present: a benchmark that
// quietly skips measures nothing.
func missing(tb testing.TB, err error) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatal(err)
	}
	tb.Skip(err)
}

func openTemp(t *testing.T) *Cache {
	t.Helper()
	c, err := OpenTemp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestImportCorpus imports the whole corpus: each file is accepted or rejected as
// its manifest entry says, studies have the instance counts the manifest implies,
// and a second import finds everything already present.
func TestImportCorpus(t *testing.T) {
	files := manifest(t)
	c := openTemp(t)
	sum := c.ImportPaths([]string{filepath.Join(corpusDir, "files")}, nil)
	rejected := map[string]string{}
	for _, r := range sum.Rejected {
		rejected[filepath.Base(r.Name)] = r.Reason
	}
	// Some corpus files are one image in several transfer syntaxes under one SOP
	// Instance UID: the first stored wins and the others are conflicts, so
	// studies count unique SOP Instance UIDs.
	wantSOPs := map[string]map[string]bool{}
	unique := map[string]bool{}
	accepted := 0
	for _, e := range files {
		name := filepath.Base(e.File)
		reason, isRejected := rejected[name]
		switch e.Expectation.Import {
		case "accept":
			if isRejected {
				t.Errorf("%s rejected (%s), want accepted", e.ID, reason)
			}
		case "reject":
			if !isRejected {
				t.Errorf("%s accepted, want rejected", e.ID)
			} else if reason == "" {
				t.Errorf("%s rejected without a reason", e.ID)
			}
		}
		if !isRejected {
			accepted++
			sop := e.Info.SOPInstanceUID
			if sop == "" {
				sop = e.ID
			}
			unique[sop] = true
			if uid := e.Info.StudyInstanceUID; uid != "" {
				if wantSOPs[uid] == nil {
					wantSOPs[uid] = map[string]bool{}
				}
				wantSOPs[uid][sop] = true
			}
		}
	}
	if sum.Imported != len(unique) || sum.Imported+len(sum.Conflicts) != accepted {
		t.Errorf("imported %d + %d conflicts, want %d unique of %d accepted", sum.Imported, len(sum.Conflicts), len(unique), accepted)
	}
	studies, err := c.Studies()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, s := range studies {
		got[s.StudyInstanceUID] = s.NumberOfInstances
	}
	for uid, sops := range wantSOPs {
		if got[uid] != len(sops) {
			t.Errorf("study %s: %d instances, want %d", uid, got[uid], len(sops))
		}
	}

	again := c.ImportPaths([]string{filepath.Join(corpusDir, "files")}, nil)
	if again.Imported != 0 || again.AlreadyPresent+len(again.Conflicts) != accepted {
		t.Errorf("second import: imported %d, already present %d, want 0 and %d", again.Imported, again.AlreadyPresent, accepted-len(again.Conflicts))
	}
	probs, err := c.Verify()
	if err != nil || len(probs) != 0 {
		t.Errorf("verify: %v %v", probs, err)
	}
}

func TestImportConflictKeepsStoredCopy(t *testing.T) {
	c := openTemp(t)
	src := filepath.Join(corpusDir, "files", "mr_small_explicit_le.dcm")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	first, err := c.Import(bytes.NewReader(data), "a.dcm")
	if err != nil || first.Outcome != Imported {
		t.Fatalf("first import: %v %v", first.Outcome, err)
	}
	changed := bytes.Clone(data)
	changed[len(changed)-1] ^= 0xFF // same UID, one pixel differs
	_, err = c.Import(bytes.NewReader(changed), "b.dcm")
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("changed bytes: got %v, want ErrConflict", err)
	}
	if stored := storedBytes(t, c, first.SOPInstanceUID); !bytes.Equal(stored, data) {
		t.Fatal("stored copy changed by a conflicting import")
	}
	same, err := c.Import(bytes.NewReader(data), "c.dcm")
	if err != nil || same.Outcome != AlreadyPresent {
		t.Fatalf("same bytes: %v %v", same.Outcome, err)
	}
}

func TestRejectLeavesNoFile(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"text", []byte("<html>502 Bad Gateway</html>")},
		{"declares 1 GiB", append(append(append(make([]byte, 128), "DICM"...), []byte{0x02, 0, 0x10, 0, 'U', 'I', 20, 0}...), append([]byte("1.2.840.10008.1.2.1\x00"), 0x09, 0, 0x10, 0, 'O', 'B', 0, 0, 0, 0, 0, 0x40)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openTemp(t)
			_, err := c.Import(bytes.NewReader(tt.data), tt.name)
			if !errors.Is(err, ErrRejected) {
				t.Fatalf("got %v, want ErrRejected", err)
			}
			for _, d := range []string{"tmp", "files"} {
				n := 0
				filepath.WalkDir(filepath.Join(c.Home(), d), func(p string, de os.DirEntry, err error) error {
					if de != nil && !de.IsDir() {
						n++
					}
					return nil
				})
				if n != 0 {
					t.Errorf("%d files left in %s", n, d)
				}
			}
		})
	}
}

func TestOpenRemovesTempFiles(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	stale := filepath.Join(dir, "tmp", "in-123.part")
	if err := os.WriteFile(stale, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("stale temp file survived Open: %v", err)
	}
}

func BenchmarkImportCT(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(corpusDir, "files", "ct_small_explicit_le.dcm"))
	if err != nil {
		missing(b, err)
	}
	c, err := OpenTemp(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for b.Loop() {
		if _, err := c.Import(bytes.NewReader(data), "ct"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRenameFailureIndexesNothing carries the case of a rename into place that
// fails (here a directory squats on the target path): the import must fail and
// no index row may point at a file that is not there. An earlier version
// shadowed the rename's error and indexed the instance anyway.
func TestRenameFailureIndexesNothing(t *testing.T) {
	c := openTemp(t)
	src := filepath.Join(corpusDir, "files", "mr_small_explicit_le.dcm")
	dst := c.FilePath(storagePath("1.3.6.1.4.1.5962.1.1.4.1.1.20040826185059.5457"))
	if err := os.MkdirAll(filepath.Join(dst, "squatter"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ImportFile(src); err == nil {
		t.Fatal("import succeeded although the file could not be put in place")
	}
	if insts, _ := c.AllInstances(); len(insts) != 0 {
		t.Fatalf("%d index rows without their file", len(insts))
	}
	sum := c.ImportPaths([]string{src}, nil)
	if sum.Imported != 0 || len(sum.Rejected) != 1 {
		t.Fatalf("batch import: %+v", sum)
	}
	if insts, _ := c.AllInstances(); len(insts) != 0 {
		t.Fatalf("%d index rows without their file after a batch import", len(insts))
	}
}

// TestVerifyFindsChangedFiles: a stored file whose bytes changed (one bit,
// or cut short) is reported, whether its row holds a CRC-32C or, as rows
// written before CRC-32C do, a SHA-256.
func TestVerifyFindsChangedFiles(t *testing.T) {
	tests := []struct {
		name     string
		sha256   bool // rewrite the row's checksum as an older cache stored it
		damage   func([]byte) []byte
		problems int
	}{
		{"crc32c intact", false, nil, 0},
		{"crc32c bit flipped", false, func(b []byte) []byte { b[len(b)/2] ^= 4; return b }, 1},
		{"crc32c same size other bytes", false, func(b []byte) []byte { b[200], b[201] = b[201]^1, b[200]^1; return b }, 1},
		{"crc32c truncated", false, func(b []byte) []byte { return b[:len(b)-1] }, 1},
		{"sha256 intact", true, nil, 0},
		{"sha256 bit flipped", true, func(b []byte) []byte { b[len(b)/2] ^= 4; return b }, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openTemp(t)
			res, err := c.ImportFile(filepath.Join(corpusDir, "files", "mr_small_explicit_le.dcm"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(res.Checksum, "crc32c:") || len(res.Checksum) != len("crc32c:")+8 {
				t.Fatalf("checksum %q", res.Checksum)
			}
			data, err := os.ReadFile(res.Path)
			if err != nil {
				t.Fatal(err)
			}
			if tt.sha256 {
				sum := sha256.Sum256(storedBytes(t, c, res.SOPInstanceUID))
				if _, err := c.DB().Exec(`UPDATE instances SET checksum = ? WHERE sop_uid = ?`, hex.EncodeToString(sum[:]), res.SOPInstanceUID); err != nil {
					t.Fatal(err)
				}
			}
			if tt.damage != nil {
				if err := os.WriteFile(res.Path, tt.damage(bytes.Clone(data)), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			probs, err := c.Verify()
			if err != nil || len(probs) != tt.problems {
				t.Errorf("verify: %v %v, want %d problems", probs, err, tt.problems)
			}
		})
	}
}

// TestImportStreamed sends every corpus file down the path big instances take
// (streamed through tmp/ while checksummed, parsed from the file): the same
// outcomes as the in-memory path, a cache that verifies, no temporary file
// left, and a second import that finds everything already present.
func TestImportStreamed(t *testing.T) {
	files := filepath.Join(corpusDir, "files")
	inMemory := openTemp(t)
	want := inMemory.ImportPaths([]string{files}, nil)

	smallInstance = 1 << 10
	defer func() { smallInstance = 16 << 20 }()
	c := openTemp(t)
	got := c.ImportPaths([]string{files}, nil)
	if got.Imported != want.Imported || len(got.Rejected) != len(want.Rejected) || len(got.Conflicts) != len(want.Conflicts) {
		t.Errorf("streamed: %d imported, %d rejected, %d conflicts; in memory: %d, %d, %d",
			got.Imported, len(got.Rejected), len(got.Conflicts), want.Imported, len(want.Rejected), len(want.Conflicts))
	}
	a, _ := inMemory.AllInstances()
	b, _ := c.AllInstances()
	if len(a) != len(b) {
		t.Errorf("%d instances streamed, %d in memory", len(b), len(a))
	}
	for _, in := range b {
		if !strings.HasPrefix(in.Checksum, crcPrefix) {
			t.Errorf("%s: checksum %q", in.SOPInstanceUID, in.Checksum)
		}
	}
	// Verify recomputes every checksum from the stored bytes.
	if probs, err := c.Verify(); err != nil || len(probs) != 0 {
		t.Errorf("verify: %v %v", probs, err)
	}
	if tmps, _ := os.ReadDir(filepath.Join(c.Home(), "tmp")); len(tmps) != 0 {
		t.Errorf("%d files left in tmp/", len(tmps))
	}
	again := c.ImportPaths([]string{files}, nil)
	if again.Imported != 0 || again.AlreadyPresent != want.Imported+want.AlreadyPresent {
		t.Errorf("second streamed import: %d imported, %d already present; want 0, %d", again.Imported, again.AlreadyPresent, want.Imported+want.AlreadyPresent)
	}
}
