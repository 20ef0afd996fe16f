package cache

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// auditSent records how far HOME/audit.log has been forwarded to the audit
// record repository: the byte offset just after the last line sent. The log
// itself is the queue: an event is never held only in memory, so one that
// could not be sent (the repository down, the process ended) is sent later
// by whichever process forwards next.
const auditSent = "audit.sent"

// ErrAuditForwardBusy is returned by ClaimAuditForward while another process
// forwards this home's audit trail.
var ErrAuditForwardBusy = errors.New("cache: audit: another process is forwarding the audit trail")

// maxForwardRead bounds what one Next call reads of the log.
const maxForwardRead = 1 << 20

// AuditForward reads the audit trail from where forwarding stopped last time.
// One process at a time holds it (an exclusive lock on audit.sent.lock), so
// no event is sent twice by two processes sharing the home.
type AuditForward struct {
	home string
	lock *os.File
	off  int64 // offset after the last line sent
	next int64 // offset after the lines Next returned
}

// ClaimAuditForward takes the forwarding position of home's audit trail, or
// returns ErrAuditForwardBusy.
func ClaimAuditForward(home string) (*AuditForward, error) {
	lf, err := os.OpenFile(filepath.Join(home, auditSent+".lock"), os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return nil, fmt.Errorf("cache: audit forward: %w", err)
	}
	ok, err := tryLock(lf)
	if err != nil || !ok {
		lf.Close()
		if err == nil {
			err = ErrAuditForwardBusy
		}
		return nil, fmt.Errorf("cache: audit forward: %w", err)
	}
	a := &AuditForward{home: home, lock: lf}
	b, err := os.ReadFile(filepath.Join(home, auditSent))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		a.Close()
		return nil, fmt.Errorf("cache: audit forward: %w", err)
	default:
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n >= 0 {
			a.off = n
		}
	}
	// A position that is not just after a line of the present log (the log
	// was replaced or cut) starts again from its first line: an event sent
	// twice is better than one never sent.
	if a.off > 0 {
		f, err := os.Open(filepath.Join(home, auditFile))
		var c [1]byte
		if err == nil {
			_, err = f.ReadAt(c[:], a.off-1)
			f.Close()
		}
		if err != nil || c[0] != '\n' {
			a.off = 0
		}
	}
	a.next = a.off
	return a, nil
}

// Next returns up to max events after the forwarding position (what Advance
// would mark as sent). A line cut short by a crash, or not JSON, is passed
// over. A line still being written (no newline yet) waits for the next call.
func (a *AuditForward) Next(max int) ([]AuditEvent, error) {
	f, err := os.Open(filepath.Join(a.home, auditFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cache: audit forward: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cache: audit forward: %w", err)
	}
	a.next = a.off
	n := min(st.Size()-a.off, maxForwardRead)
	if n <= 0 {
		return nil, nil
	}
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, a.off); err != nil {
		return nil, fmt.Errorf("cache: audit forward: %w", err)
	}
	var out []AuditEvent
	for len(out) < max {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			break
		}
		line := buf[:i]
		buf = buf[i+1:]
		a.next += int64(i + 1)
		var ev AuditEvent
		if len(line) == 0 || json.Unmarshal(line, &ev) != nil || ev.Action == "" {
			continue
		}
		out = append(out, ev)
	}
	return out, nil
}

// Advance marks the events the last Next returned as sent, durably.
func (a *AuditForward) Advance() error {
	if a.next == a.off {
		return nil
	}
	tmp := filepath.Join(a.home, auditSent+".tmp")
	if err := os.WriteFile(tmp, []byte(strconv.FormatInt(a.next, 10)+"\n"), fileMode); err != nil {
		return fmt.Errorf("cache: audit forward: %w", err)
	}
	f, err := os.Open(tmp)
	if err == nil {
		err = f.Sync()
		f.Close()
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(a.home, auditSent))
	}
	if err != nil {
		return fmt.Errorf("cache: audit forward: %w", err)
	}
	a.off = a.next
	return nil
}

// Pending reports whether the log holds lines after the forwarding position.
func (a *AuditForward) Pending() bool {
	st, err := os.Stat(filepath.Join(a.home, auditFile))
	return err == nil && st.Size() > a.off
}

// Close gives the forwarding position up for another process.
func (a *AuditForward) Close() {
	unlock(a.lock)
	a.lock.Close()
}
