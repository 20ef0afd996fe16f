package cache

import (
	"io"
	gosync "sync"
)

// Batch imports many instances with one filesystem sync for all of them
// instead of two fsyncs each (file and directory), which is most of the cost of
// storing a study. Add stages each instance (parsed, checksummed, written to a
// temporary file beside where it will be stored); Commit syncs the filesystem,
// renames the staged files into place, syncs again and indexes them all in one
// transaction. Until Commit returns, nothing added is in the index: a crash
// loses only staged work, which the next Open cleans and the next pull fetches
// again. Add may be called from several goroutines (staging is where the time
// goes), also while a Commit runs: an instance staged after a Commit took the
// list waits for the next Commit.
type Batch struct {
	c       *Cache
	source  string
	mu      gosync.Mutex
	pending []*staged
}

// NewBatch starts a batch whose instances came from source (SourceArchive for
// the puller, SourceImport for files): a study the batch creates records it, and
// SourceArchive also upgrades a study imported before (see indexer.add).
func (c *Cache) NewBatch(source string) *Batch { return &Batch{c: c, source: source} }

// Add stages one instance from r and returns its SOP Instance UID. Rejected
// input (not DICOM, truncated, ...) returns an error and stages nothing.
func (b *Batch) Add(r io.Reader, name string) (string, error) {
	st, err := b.c.stage(r, name, false)
	if err != nil {
		return "", err
	}
	b.add(st)
	return st.rec.sop, nil
}

// AddBytes stages one instance held in memory (data is not kept) and returns
// its SOP Instance UID and size.
func (b *Batch) AddBytes(data []byte, name string) (string, error) {
	st, err := b.c.stageBytes(data, name, false)
	if err != nil {
		return "", err
	}
	b.add(st)
	return st.rec.sop, nil
}

func (b *Batch) add(st *staged) {
	st.source = b.source
	b.mu.Lock()
	b.pending = append(b.pending, st)
	b.mu.Unlock()
}

// Commit makes every staged instance durable and indexed, and returns the SOP
// Instance UIDs now stored (imported now or already present with the same
// bytes) and the first error of the others.
func (b *Batch) Commit() ([]string, error) {
	b.mu.Lock()
	list := b.pending
	b.pending = nil
	b.mu.Unlock()
	if len(list) == 0 {
		return nil, nil
	}
	var stored []string
	var first error
	perStudy := map[string]int{}
	for _, o := range b.c.commitGroup(list) {
		if o.Err != nil {
			if first == nil {
				first = o.Err
			}
			continue
		}
		stored = append(stored, o.SOPInstanceUID)
		perStudy[o.StudyInstanceUID]++
	}
	action := AuditImport
	if b.source == SourceArchive {
		action = AuditSyncRetrieve
	}
	if err := b.c.auditAll(action, perStudy, "instances stored"); err != nil && first == nil {
		first = err
	}
	return stored, first
}

// Discard removes what was staged and not committed.
func (b *Batch) Discard() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, st := range b.pending {
		b.c.drop(st)
	}
	b.pending = nil
}
