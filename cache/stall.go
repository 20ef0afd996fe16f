package cache

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	gosync "sync"
	"time"
)

// Test seam. The end-to-end tests kill Teleread at chosen moments of a
// durable write, which a timed SIGKILL cannot hit reliably (a whole import of
// hundreds of files takes a fraction of a second). TELEREAD_TEST_STALL names
// a step, optionally with the occurrence to stop at ("import-indexed:2"
// stops the second time an import group is indexed; the default is the
// first). When the process reaches that step it says so on stderr and waits
// there, doing nothing more, until it is killed. The variable is read once;
// unset (always, outside the tests), Stall is a comparison of two strings.
const EnvTestStall = "TELEREAD_TEST_STALL"

// Steps Stall knows, in the order a write reaches them.
const (
	// StepImportStaged: a group of instances is staged (temporary files
	// written), none of it renamed into place or indexed yet.
	StepImportStaged = "import-staged"
	// StepImportPlaced: the group's files are renamed into place and the
	// renames synced; the index rows are not written yet.
	StepImportPlaced = "import-placed"
	// StepImportIndexed: the group's index rows are committed.
	StepImportIndexed = "import-indexed"
	// StepSignReportWritten: inside the signing transaction, the signed
	// report is written and its outbox row is not.
	StepSignReportWritten = "sign-report-written"
	// StepSignCommitted: the signing transaction is committed; the command
	// has not said so yet.
	StepSignCommitted = "sign-committed"
	// StepOutboxSent: a STOW-RS request was answered; the outbox row is not
	// marked yet (used by package sync).
	StepOutboxSent = "outbox-sent"
	// StepKeysRotateStored: a master key rotation has stored the new key
	// (keyring entry written); the index still names the old one.
	StepKeysRotateStored = "keys-rotate-stored"
	// StepKeysRotateRewrapped: inside the rotation's transaction, every data
	// key is re-wrapped under the new master key; nothing is committed.
	StepKeysRotateRewrapped = "keys-rotate-rewrapped"
	// StepKeysRotateCommitted: the rotation is committed; the old master
	// key's keyring entry is not deleted yet.
	StepKeysRotateCommitted = "keys-rotate-committed"
	// StepSealBatch: opening a cache written before its index was sealed,
	// one batch of rows is sealed and committed, the next not yet.
	StepSealBatch = "seal-batch"
	// StepSealVacuumed: every row is sealed and the index vacuumed; the WAL
	// is not truncated yet.
	StepSealVacuumed = "seal-vacuumed"
	// StepPurgeMarked: a purge's first transaction is committed (the study
	// is out of the index, its purges row written); its key is not shredded.
	StepPurgeMarked = "purge-marked"
	// StepPurgeShredded: the study's key is shredded; its files are there.
	StepPurgeShredded = "purge-shredded"
	// StepPurgeFilesRemoved: the files are removed and the removal synced;
	// the audit line and the last rows are not written.
	StepPurgeFilesRemoved = "purge-files-removed"
	// StepSealWritten: SealFiles has written a plain file's sealed copy
	// to a temporary file beside it, not yet renamed over it.
	StepSealWritten = "seal-written"
	// StepSealRenamed: SealFiles has renamed a sealed copy over its plain
	// file; the directory is not synced yet.
	StepSealRenamed = "seal-renamed"
	// StepSealDone: every file is sealed and synced; the marker that says
	// so is not written yet.
	StepSealDone = "seal-done"
)

var stall = parseStall(os.Getenv(EnvTestStall))

type stallPoint struct {
	step string
	at   int // occurrence to stop at, from 1

	mu   gosync.Mutex
	seen int
}

func parseStall(v string) *stallPoint {
	if v == "" {
		return nil
	}
	step, n, found := strings.Cut(v, ":")
	at := 1
	if found {
		if i, err := strconv.Atoi(n); err == nil && i > 0 {
			at = i
		}
	}
	return &stallPoint{step: step, at: at}
}

// Stall stops the process for good at step when TELEREAD_TEST_STALL names
// it (see EnvTestStall); otherwise it returns at once.
func Stall(step string) {
	if stall == nil || stall.step != step {
		return
	}
	stall.mu.Lock()
	stall.seen++
	hit := stall.seen == stall.at
	stall.mu.Unlock()
	if !hit {
		return
	}
	fmt.Fprintf(os.Stderr, "teleread: stalled at %s:%d\n", step, stall.at)
	for {
		time.Sleep(time.Hour)
	}
}
