package cache

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	gosync "sync"
	"testing"
	"time"
)

// writeAudit appends n events to a new home's audit trail and returns the
// home and the log's lines.
func writeAudit(t *testing.T, n int) (string, [][]byte) {
	t.Helper()
	home := t.TempDir()
	for i := range n {
		if err := AppendAudit(home, AuditRender, "1.2.3."+strconv.Itoa(i), "frame 0"); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(filepath.Join(home, auditFile))
	if err != nil {
		t.Fatal(err)
	}
	return home, bytes.SplitAfter(b, []byte("\n"))[:n]
}

// TestVerifyAuditDetectsTampering: a line changed, removed or moved, or lines
// removed from the start, break the chain; VerifyAudit names the first line
// that no longer follows, and an untouched trail verifies.
func TestVerifyAuditDetectsTampering(t *testing.T) {
	tests := []struct {
		name     string
		tamper   func(lines [][]byte) [][]byte
		wantLine int // 0: verifies
	}{
		{name: "untouched", tamper: func(l [][]byte) [][]byte { return l }},
		{name: "line 3 edited", wantLine: 4, tamper: func(l [][]byte) [][]byte {
			l[2] = bytes.Replace(l[2], []byte("1.2.3.2"), []byte("1.2.3.9"), 1)
			return l
		}},
		{name: "line 3 deleted", wantLine: 3, tamper: func(l [][]byte) [][]byte {
			return append(l[:2:2], l[3:]...)
		}},
		{name: "lines 2 and 3 swapped", wantLine: 2, tamper: func(l [][]byte) [][]byte {
			l[1], l[2] = l[2], l[1]
			return l
		}},
		{name: "first line deleted", wantLine: 1, tamper: func(l [][]byte) [][]byte { return l[1:] }},
		{name: "last line edited", wantLine: 5, tamper: func(l [][]byte) [][]byte {
			l[4] = bytes.Replace(l[4], []byte("frame 0"), []byte("frame 1"), 1)
			return l
		}},
		{name: "last line deleted", wantLine: 4, tamper: func(l [][]byte) [][]byte { return l[:4] }},
		{name: "last two lines deleted", wantLine: 3, tamper: func(l [][]byte) [][]byte { return l[:3] }},
		{name: "line 2 cut short", wantLine: 2, tamper: func(l [][]byte) [][]byte {
			l[1] = append(l[1][:20:20], '\n')
			return l
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home, lines := writeAudit(t, 5)
			if err := os.WriteFile(filepath.Join(home, auditFile), bytes.Join(tt.tamper(lines), nil), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := VerifyAudit(home)
			var ae *AuditError
			switch {
			case tt.wantLine == 0 && err != nil:
				t.Errorf("VerifyAudit: %v, want nil", err)
			case tt.wantLine != 0 && (!errors.As(err, &ae) || !errors.Is(err, ErrAuditBroken)):
				t.Errorf("VerifyAudit: %v, want an AuditError", err)
			case tt.wantLine != 0 && ae.Line != tt.wantLine:
				t.Errorf("VerifyAudit: %v, want line %d named", err, tt.wantLine)
			}
		})
	}
}

// TestVerifyAuditAfterCrash: a crash between appending a line and writing
// audit.head leaves the head one line behind; that log verifies, and the next
// append carries on.
func TestVerifyAuditAfterCrash(t *testing.T) {
	home, _ := writeAudit(t, 3)
	head, err := os.ReadFile(filepath.Join(home, auditHead))
	if err != nil {
		t.Fatal(err)
	}
	if err := AppendAudit(home, AuditExport, "1.2.3", "zip"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, auditHead), head, 0o600); err != nil {
		t.Fatal(err)
	}
	if n, err := VerifyAudit(home); err != nil || n != 4 {
		t.Errorf("VerifyAudit with the head one behind = %d, %v; want 4, nil", n, err)
	}
	if err := AppendAudit(home, AuditExport, "1.2.3", "zip"); err != nil {
		t.Fatal(err)
	}
	if n, err := VerifyAudit(home); err != nil || n != 5 {
		t.Errorf("VerifyAudit after the next append = %d, %v; want 5, nil", n, err)
	}
}

// TestAppendAuditConcurrent: writers in parallel (as the app and a CLI
// command in two processes, each with its own open file) keep the chain
// whole and lose no event.
func TestAppendAuditConcurrent(t *testing.T) {
	home := t.TempDir()
	const writers, each = 8, 25
	var wg gosync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := AppendAudit(home, AuditImport, "1.2."+strconv.Itoa(w), strconv.Itoa(i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	n, err := VerifyAudit(home)
	if err != nil || n != writers*each {
		t.Errorf("VerifyAudit = %d, %v; want %d lines, nil", n, err, writers*each)
	}
	evs, err := ReadAudit(home, time.Time{})
	if err != nil || len(evs) != writers*each || evs[0].User == "" || evs[0].Action != AuditImport {
		t.Errorf("ReadAudit: %d events, %v; first %+v", len(evs), err, evs[0])
	}
	if evs, err := ReadAudit(home, time.Now().Add(time.Hour)); err != nil || len(evs) != 0 {
		t.Errorf("ReadAudit since an hour from now: %d events, %v", len(evs), err)
	}
}

// TestCacheAuditsItsAccesses: what the cache stores for the puller is
// recorded as sync-retrieve, what it imports as import, one line per study
// with the study's UID.
func TestCacheAuditsItsAccesses(t *testing.T) {
	file := filepath.Join("..", "testdata", "corpus", "files", "mr_small_explicit_le.dcm")
	const study = "1.3.6.1.4.1.5962.1.2.4.20040826185059.5457"
	batch := func(source string) func(t *testing.T, c *Cache) {
		return func(t *testing.T, c *Cache) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			b := c.NewBatch(source)
			if _, err := b.AddBytes(data, "part"); err != nil {
				t.Fatal(err)
			}
			if _, err := b.Commit(); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name string
		do   func(t *testing.T, c *Cache)
		want string
	}{
		{name: "puller batch", do: batch(SourceArchive), want: AuditSyncRetrieve},
		{name: "import batch", do: batch(SourceImport), want: AuditImport},
		{name: "import paths", want: AuditImport, do: func(t *testing.T, c *Cache) {
			if sum := c.ImportPaths([]string{file}, nil); sum.Imported != 1 || sum.AuditErr != nil {
				t.Fatalf("import: %+v", sum)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openTemp(t)
			tt.do(t, c)
			evs, err := ReadAudit(c.Home(), time.Time{})
			if err != nil || len(evs) != 1 || evs[0].Action != tt.want || evs[0].Study != study || evs[0].Detail != "1 instances stored" && evs[0].Detail != "1 instances imported or already present" {
				t.Errorf("audit events %+v, %v; want one %s of %s", evs, err, tt.want, study)
			}
		})
	}
}
