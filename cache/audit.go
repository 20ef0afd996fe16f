package cache

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// auditFile is the home's audit trail: one JSON object per line, each line
// holding the SHA-256 of the line before it (Prev), so that a line changed,
// removed or moved breaks the chain at the line after it. It holds UIDs and
// what was done, never a patient's name or other identifying values.
const auditFile = "audit.log"

// auditHead holds the hash of the log's last line, written after each append:
// the chain alone cannot tell that lines were cut from the end of the log.
const auditHead = "audit.head"

// The audited actions: every access to patient data.
const (
	AuditImport         = "import"        // files, folders, zips, DICOMDIRs or a study URL imported
	AuditSyncRetrieve   = "sync-retrieve" // instances retrieved from the archive by the puller
	AuditOpen           = "open"          // a study shown in the app
	AuditRender         = "render"        // a cached instance rendered to an image file
	AuditExport         = "export"        // a study exported with its identity
	AuditExportDeid     = "export-deidentified"
	AuditReportSign     = "report-sign"
	AuditReportAddendum = "report-addendum"
	AuditReportConsult  = "report-consult" // a consultation note signed
	AuditEvict          = "evict"          // a study removed from the cache
	AuditPurge          = "purge"          // a study's key shredded, its files and rows removed
	AuditSignIn         = "sign-in"        // reserved for an interactive sign-in
)

// genesis is the Prev of the first line.
var genesis = strings.Repeat("0", 64)

// maxAuditDetail bounds a line's detail, so that the last line is always
// found in auditTail bytes.
const (
	maxAuditDetail = 2048
	auditTail      = 16 << 10
)

// AuditEvent is one line of the audit trail. The field order is the line's
// order (json.Marshal keeps it), which the hash chain depends on only through
// the bytes written.
type AuditEvent struct {
	Time   time.Time `json:"time"`
	User   string    `json:"user"`             // the OS account
	Action string    `json:"action"`           // one of the Audit* actions
	Study  string    `json:"study,omitempty"`  // Study Instance UID
	Detail string    `json:"detail,omitempty"` // counts, destinations; never patient names
	Prev   string    `json:"prev"`             // hex SHA-256 of the previous line, without its newline
}

// ErrAuditBroken is wrapped by the error of VerifyAudit for a broken chain.
var ErrAuditBroken = errors.New("audit trail broken")

// AuditError names the first line (from 1) where the chain breaks.
type AuditError struct {
	Line   int
	Reason string
}

func (e *AuditError) Error() string {
	return fmt.Sprintf("audit.log line %d: %s", e.Line, e.Reason)
}

func (e *AuditError) Unwrap() error { return ErrAuditBroken }

// Audit appends an event for this cache's home (see AppendAudit). An access
// to a study also dates it for retention (see Expired): whatever is audited
// as an access (opened, rendered, exported, imported, retrieved, reported
// on) keeps the study another retention period.
func (c *Cache) Audit(action, study, detail string) error {
	if err := AppendAudit(c.home, action, study, detail); err != nil {
		return err
	}
	if study == "" || action == AuditEvict || action == AuditPurge {
		return nil
	}
	if _, err := c.db.Exec(`UPDATE studies SET last_access_at = ? WHERE study_uid = ?`, now(), study); err != nil {
		return fmt.Errorf("cache: audit: last access of %s: %w", study, err)
	}
	return nil
}

// auditAll records one event per study (counted in studies) of an access the
// cache itself performs.
func (c *Cache) auditAll(action string, studies map[string]int, what string) error {
	var first error
	for _, uid := range slices.Sorted(maps.Keys(studies)) {
		if err := c.Audit(action, uid, fmt.Sprintf("%d %s", studies[uid], what)); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// AppendAudit appends one event to HOME/audit.log and makes it durable before
// returning. Processes sharing the home (the app and a CLI import) take an
// exclusive lock on the file while they read the last line and append theirs,
// so the chain stays whole.
func AppendAudit(home, action, study, detail string) error {
	if len(detail) > maxAuditDetail {
		detail = detail[:maxAuditDetail]
	}
	p := filepath.Join(home, auditFile)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_APPEND|os.O_CREATE, fileMode)
	if err != nil {
		return fmt.Errorf("cache: audit: %w", err)
	}
	defer f.Close()
	if err := lockWait(f); err != nil {
		return fmt.Errorf("cache: audit: lock: %w", err)
	}
	defer unlock(f)
	last, torn, err := lastLine(f)
	if err != nil {
		return fmt.Errorf("cache: audit: %w", err)
	}
	prev := genesis
	if last != nil {
		prev = lineHash(last)
	}
	line, err := json.Marshal(AuditEvent{Time: time.Now().UTC(), User: osUser(), Action: action, Study: study, Detail: detail, Prev: prev})
	if err != nil {
		return fmt.Errorf("cache: audit: %w", err)
	}
	line = append(line, '\n')
	if torn {
		// A crash cut the last line short: end it, so that verification
		// names it instead of this line being glued to it.
		line = append([]byte{'\n'}, line...)
	}
	if _, err := f.Write(line); err != nil {
		return fmt.Errorf("cache: audit: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("cache: audit: %w", err)
	}
	if err := writeHead(home, lineHash(line[:len(line)-1][bytes.LastIndexByte(line[:len(line)-1], '\n')+1:])); err != nil {
		return fmt.Errorf("cache: audit: %w", err)
	}
	if fn := auditHook.Load(); fn != nil {
		(*fn)()
	}
	return nil
}

var auditHook atomic.Pointer[func()]

// OnAudit makes fn be called after each event this process appends, once it
// is durable (nil: nothing). The ATNA forwarder is woken this way; fn must
// not block.
func OnAudit(fn func()) {
	if fn == nil {
		auditHook.Store(nil)
		return
	}
	auditHook.Store(&fn)
}

// writeHead replaces audit.head durably (temporary file, fsync, rename,
// directory fsync), so that after a crash it names the last line or, when
// the crash came between the two, the line before it.
func writeHead(home, hash string) error {
	tmp := filepath.Join(home, auditHead+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fileMode)
	if err != nil {
		return err
	}
	_, err = f.WriteString(hash + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(home, auditHead))
	}
	if err == nil {
		err = syncDir(home)
	}
	return err
}

// lastLine returns the file's last line without its newline (nil for an empty
// file) and whether it lacks its newline.
func lastLine(f *os.File) ([]byte, bool, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, false, err
	}
	size := st.Size()
	if size == 0 {
		return nil, false, nil
	}
	n := min(size, auditTail)
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, size-n); err != nil {
		return nil, false, err
	}
	torn := buf[len(buf)-1] != '\n'
	if !torn {
		buf = buf[:len(buf)-1]
	}
	i := bytes.LastIndexByte(buf, '\n')
	if i < 0 && n < size {
		return nil, false, fmt.Errorf("%s: last line longer than %d bytes", f.Name(), auditTail)
	}
	return buf[i+1:], torn, nil
}

func lineHash(line []byte) string {
	h := sha256.Sum256(line)
	return hex.EncodeToString(h[:])
}

func osUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "uid " + strconv.Itoa(os.Getuid())
}

// ReadAudit returns the events of HOME/audit.log at or after since (zero:
// all), without checking the chain; an absent log has none.
func ReadAudit(home string, since time.Time) ([]AuditEvent, error) {
	var out []AuditEvent
	err := scanAudit(home, func(n int, line []byte) error {
		var ev AuditEvent
		if err := json.Unmarshal(line, &ev); err != nil {
			return &AuditError{Line: n, Reason: "not a JSON event"}
		}
		if !ev.Time.Before(since) {
			out = append(out, ev)
		}
		return nil
	})
	return out, err
}

// VerifyAudit checks the hash chain of HOME/audit.log and returns the number
// of lines, or an *AuditError naming the first line that does not follow
// from the one before it.
func VerifyAudit(home string) (int, error) {
	prev, before := genesis, ""
	lines := 0
	err := scanAudit(home, func(n int, line []byte) error {
		lines = n
		before = prev
		var ev AuditEvent
		if err := json.Unmarshal(line, &ev); err != nil {
			return &AuditError{Line: n, Reason: "not a JSON event (changed or cut short)"}
		}
		if ev.Prev != prev {
			if n == 1 {
				return &AuditError{Line: n, Reason: "does not start the chain (lines before it removed?)"}
			}
			return &AuditError{Line: n, Reason: fmt.Sprintf("does not follow line %d (a line changed, removed or moved)", n-1)}
		}
		prev = lineHash(line)
		return nil
	})
	if err != nil || lines == 0 {
		return lines, err
	}
	head, err := os.ReadFile(filepath.Join(home, auditHead))
	if err != nil {
		return lines, &AuditError{Line: lines, Reason: fmt.Sprintf("the last line cannot be checked: %v", err)}
	}
	// The head names the last line, or the one before it when a crash came
	// between appending a line and writing the head.
	if h := strings.TrimSpace(string(head)); h != prev && h != before {
		return lines, &AuditError{Line: lines, Reason: "is not the last line written (lines after it removed?)"}
	}
	return lines, nil
}

func scanAudit(home string, fn func(n int, line []byte) error) error {
	f, err := os.Open(filepath.Join(home, auditFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cache: audit: %w", err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	for n := 1; ; n++ {
		line, err := readLine(r)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("cache: audit: line %d: %w", n, err)
		}
		if err := fn(n, line); err != nil {
			return err
		}
	}
}

// readLine reads one line of at most auditTail bytes (a longer one was not
// written by AppendAudit).
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > auditTail {
			return nil, fmt.Errorf("longer than %d bytes", auditTail)
		}
		switch {
		case err == nil:
			return line[:len(line)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF && len(line) > 0:
			return line, nil
		default:
			return nil, err
		}
	}
}
