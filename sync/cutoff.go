package sync

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	gosync "sync"
	"time"
)

// An archive that sends a part longer than it announced, or than the
// configured ceiling (Config.MaxPartBytes), has the part cut off (wado.go).
// Retrying at once brings the same bytes: a broken or hostile instance is
// downloaded up to the ceiling on every sync, gigabytes each time. CutOffs
// remembers each cut-off per archive, so that the next syncs leave it alone
// (the study stays incomplete and says why) until the retry interval has
// passed or the reader asks for a retry.

// CutOffsPath is where the table of a cache whose home is home lies.
func CutOffsPath(home string) string { return filepath.Join(home, "cutoffs.json") }

// DefaultCutOffRetry is how long a cut-off is remembered when no interval is
// configured.
const DefaultCutOffRetry = 24 * time.Hour

// maxCutOffs bounds the table (and its file): an archive that cuts off more
// instances than this keeps only the most recent.
const maxCutOffs = 10000

// CutOff is one remembered cut-off. SOPInstanceUID is empty when the part
// came in a series or study retrieve and did not say which instance it was
// (CutOffError); the next sync then fetches that series' instances one at a
// time, which finds it.
type CutOff struct {
	Archive        string    `json:"archive"`
	StudyUID       string    `json:"study"`
	SeriesUID      string    `json:"series,omitempty"`
	SOPInstanceUID string    `json:"instance,omitempty"`
	Reason         string    `json:"reason"`
	At             time.Time `json:"at"`
}

// CutOffs is the table of remembered cut-offs, kept in a JSON file (in the
// cache's home). It is safe for concurrent use. A nil *CutOffs remembers
// nothing.
type CutOffs struct {
	path  string
	retry time.Duration
	now   func() time.Time
	mu    gosync.Mutex
	list  []CutOff
}

// OpenCutOffs reads the table at path (none yet is an empty table). retry is
// how long an entry holds; zero means DefaultCutOffRetry.
func OpenCutOffs(path string, retry time.Duration) (*CutOffs, error) {
	if retry <= 0 {
		retry = DefaultCutOffRetry
	}
	t := &CutOffs{path: path, retry: retry, now: time.Now}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return t, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sync: cut-offs: %w", err)
	}
	defer f.Close()
	// Each entry is well under 1 KiB.
	b, err := io.ReadAll(io.LimitReader(f, maxCutOffs<<10))
	if err != nil {
		return nil, fmt.Errorf("sync: cut-offs %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &t.list); err != nil {
		// A damaged table only costs downloads: start afresh rather than
		// stop syncing.
		t.list = nil
	}
	return t, nil
}

func (t *CutOffs) live(c CutOff) bool { return t.now().Sub(c.At) < t.retry }

// Remember records a cut-off and writes the table durably.
func (t *CutOffs) Remember(c CutOff) error {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	c.At = t.now().UTC()
	keep := t.list[:0]
	for _, o := range t.list {
		same := o.Archive == c.Archive && o.StudyUID == c.StudyUID
		// Once the instance is known, the entry that only named its series
		// (or study) has done its work.
		if t.live(o) && !(same && o.SeriesUID == c.SeriesUID && o.SOPInstanceUID == c.SOPInstanceUID) &&
			!(same && c.SOPInstanceUID != "" && o.SOPInstanceUID == "") {
			keep = append(keep, o)
		}
	}
	t.list = append(keep, c)
	if len(t.list) > maxCutOffs {
		sort.SliceStable(t.list, func(i, j int) bool { return t.list[i].At.Before(t.list[j].At) })
		t.list = t.list[len(t.list)-maxCutOffs:]
	}
	return t.save()
}

// Study returns the live cut-offs of one study at one archive.
func (t *CutOffs) Study(archive, studyUID string) []CutOff {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []CutOff
	for _, c := range t.list {
		if c.Archive == archive && c.StudyUID == studyUID && t.live(c) {
			out = append(out, c)
		}
	}
	return out
}

// Forget drops every cut-off of an archive (an explicit retry) and returns
// how many there were.
func (t *CutOffs) Forget(archive string) (int, error) {
	if t == nil {
		return 0, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	keep, n := t.list[:0], 0
	for _, c := range t.list {
		if c.Archive == archive {
			n++
			continue
		}
		keep = append(keep, c)
	}
	t.list = keep
	return n, t.save()
}

// save writes the table durably (writeFileDurable).
func (t *CutOffs) save() error {
	b, err := json.MarshalIndent(t.list, "", " ")
	if err != nil {
		return err
	}
	if err := writeFileDurable(t.path, b); err != nil {
		return fmt.Errorf("sync: cut-offs: %w", err)
	}
	return nil
}

// cutOffError is the reason a study shows for an instance it leaves alone.
func (t *CutOffs) cutOffError(c CutOff) error {
	return fmt.Errorf("sync: study %s: instance %s: %w: %s (at %s; not fetched again until %s, or sync --retry-cut-off)",
		c.StudyUID, c.SOPInstanceUID, ErrCutOff, c.Reason, c.At.Format(time.RFC3339), c.At.Add(t.retry).Format(time.RFC3339))
}
