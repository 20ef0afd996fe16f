// Package worklist is the worklist's model, without the window toolkit: the
// rows read from the cache, their columns' text, the reading order (shared
// first, then priority, then the longest waiting), filtering, and the
// turnaround targets that give a study its due time and mark it overdue.
package worklist

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"teleread/app/internal/format"
	"teleread/cache"
	tsync "teleread/sync"
)

// SourceShared is the cache source of studies opened for a second opinion.
const SourceShared = "shared"

// Priorities of the worklist table (cache/migrations: 0 STAT, 1 HIGH, 2 ROUTINE, 3 LOW).
var priorityNames = []string{"STAT", "HIGH", "ROUTINE", "LOW"}

// Row is one study as the worklist shows it.
type Row struct {
	UID         string
	Priority    int
	PatientName string // as stored, "Family^Given"
	PatientID   string
	Issuer      string // of the Patient ID; "" when the files name none
	BirthDate   string
	Sex         string
	StudyDate   string // YYYYMMDD
	StudyTime   string // HHMMSS.frac
	Modalities  string
	Description string
	Accession   string
	State       string // assigned, downloading, ready, reading, reported, delivered, failed
	Reason      string
	AssignedAt  time.Time // zero for studies imported by hand
	Done, Total int       // download progress
	Priors      int
	Instances   int
	Cached      bool // the study is in the cache (it can be opened)
	// Incomplete says the study is cached but not ready: Done of the Total
	// instances the archive counts are in the cache (cache.Completeness).
	Incomplete bool
	Shared     bool // opened for a second opinion (a drop, a CD, a zip, a link): listed first
}

// Worklist columns, in display order.
const (
	ColPriority = iota
	ColPatient
	ColID
	ColAgeSex
	ColDate
	ColTime
	ColModality
	ColDescription
	ColState
	ColSince
	ColDue
	ColPriors
	NumColumns
)

// ColumnTitles are the columns' headings.
var ColumnTitles = [NumColumns]string{"Priority", "Patient", "ID", "Age/Sex", "Study date", "Time", "Mod", "Description", "State", "Assigned", "Due", "Priors"}

// ColumnWidths are the columns' widths in the toolkit's units.
var ColumnWidths = [NumColumns]float32{74, 210, 150, 70, 90, 60, 60, 300, 150, 110, 110, 56}

// Load reads the cached studies and the worklist state that sync keeps,
// joined by Study Instance UID; worklist rows whose study is not cached yet are
// listed too (they are downloading or failed).
func Load(c *cache.Cache) ([]Row, error) {
	studies, err := c.Studies()
	if err != nil {
		return nil, fmt.Errorf("app: worklist: %w", err)
	}
	byUID := map[string]*Row{}
	var rows []*Row
	for _, s := range studies {
		r := &Row{
			UID: s.StudyInstanceUID, Priority: 2, PatientName: s.PatientName, PatientID: s.PatientID, Issuer: s.IssuerOfPatientID,
			BirthDate: s.PatientBirthDate, Sex: s.PatientSex, StudyDate: s.StudyDate, StudyTime: s.StudyTime,
			Modalities: strings.Join(s.ModalitiesInStudy, "/"), Description: s.StudyDescription,
			Accession: s.AccessionNumber, State: "ready", Instances: s.NumberOfInstances, Cached: true,
			Shared: s.Source == SourceShared,
		}
		byUID[r.UID] = r
		rows = append(rows, r)
	}
	// The worklist table is filled by sync; the app only reads it.
	// WorkItem.AssignedAt is the archive's assignment time where it gave
	// one (the turnaround starts there), else when sync first saw the study.
	items, err := c.WorklistAll()
	if err != nil {
		return nil, fmt.Errorf("app: worklist: %w", err)
	}
	var tracked []*Row
	isPrior := map[string]bool{}
	for _, w := range items {
		if w.Role == "prior" {
			// Priors fetched for assigned studies are not work of their own.
			isPrior[w.StudyInstanceUID] = true
		}
		if w.Role != "assigned" {
			continue
		}
		r := byUID[w.StudyInstanceUID]
		if r == nil {
			r = &Row{UID: w.StudyInstanceUID, PatientID: w.PatientID, PatientName: w.PatientName, StudyDate: w.StudyDate,
				Modalities: strings.ReplaceAll(w.Modalities, ",", "/"), Description: w.Description, Accession: w.Accession}
			byUID[r.UID] = r
			rows = append(rows, r)
		}
		r.Priority, r.State, r.Done, r.Total, r.Reason = w.Priority, w.State, w.Done, w.Total, w.Reason
		tracked = append(tracked, r)
		if t, err := time.Parse(time.RFC3339Nano, w.AssignedAt); err == nil {
			r.AssignedAt = t
		}
	}
	// A cached study that is not ready can be read, and says so. Only the
	// studies sync fetches have an archive's count to miss.
	for _, r := range tracked {
		if !r.Cached {
			continue
		}
		comp, err := c.StudyCompleteness(r.UID)
		if err != nil {
			return nil, fmt.Errorf("app: worklist: %w", err)
		}
		if !comp.Complete() {
			r.Incomplete, r.Done, r.Total = true, comp.Have, comp.Expected
		}
	}
	// Reading and reporting states come from the reports and the outbox.
	if err := applyReportStates(c, byUID); err != nil {
		return nil, err
	}
	// Priors: other cached studies of the same patient that are older.
	byPatient := map[string][]*Row{}
	for _, r := range rows {
		if r.Cached && r.PatientID != "" {
			byPatient[r.PatientID] = append(byPatient[r.PatientID], r)
		}
	}
	out := make([]Row, 0, len(rows))
	for _, r := range rows {
		if isPrior[r.UID] {
			continue
		}
		for _, o := range byPatient[r.PatientID] {
			if o.UID != r.UID && o.StudyDate < r.StudyDate && (o.Issuer == "" || r.Issuer == "" || o.Issuer == r.Issuer) {
				r.Priors++
			}
		}
		out = append(out, *r)
	}
	return out, nil
}

// applyReportStates sets "reading" for studies with a draft, "reported" for
// signed ones waiting in the outbox, "delivered" once the archive has every SR,
// and "failed" with the reason when the archive refused one.
func applyReportStates(c *cache.Cache, byUID map[string]*Row) error {
	q, err := c.DB().Query(`SELECT study_uid, state FROM reports`)
	if err != nil {
		return fmt.Errorf("app: worklist: %w", err)
	}
	for q.Next() {
		var uid, state string
		if err := q.Scan(&uid, &state); err != nil {
			q.Close()
			return fmt.Errorf("app: worklist: %w", err)
		}
		if r := byUID[uid]; r != nil && state == "draft" && (r.State == "ready" || r.State == "assigned") && r.Cached {
			r.State = "reading"
		}
	}
	q.Close()
	items, err := c.Outbox()
	if err != nil {
		return fmt.Errorf("app: worklist: %w", err)
	}
	type tally struct{ all, delivered, failed int }
	per := map[string]*tally{}
	reasons := map[string]string{}
	for _, it := range items {
		t := per[it.StudyInstanceUID]
		if t == nil {
			t = &tally{}
			per[it.StudyInstanceUID] = t
		}
		t.all++
		switch it.State {
		case cache.OutboxDelivered, cache.OutboxLocal:
			t.delivered++
		case cache.OutboxFailed:
			t.failed++
			reasons[it.StudyInstanceUID] = "report refused: " + it.LastError
		}
	}
	for uid, t := range per {
		r := byUID[uid]
		if r == nil {
			continue
		}
		switch {
		case t.failed > 0:
			r.State, r.Reason = "failed", reasons[uid]
		case t.delivered == t.all:
			r.State = "delivered"
		default:
			r.State = "reported"
		}
	}
	return nil
}

// PriorityName names a priority (STAT, HIGH, ROUTINE, LOW), or gives its number.
func PriorityName(p int) string {
	if p >= 0 && p < len(priorityNames) {
		return priorityNames[p]
	}
	return strconv.Itoa(p)
}

// Due returns when the study is Due: its assignment plus the target of its
// priority; zero for a study nobody assigned.
func (r *Row) Due(target tsync.Turnaround) time.Time {
	return target.Due(r.Priority, r.AssignedAt)
}

// Overdue reports whether an unreported study has waited past its Due time.
func (r *Row) Overdue(now time.Time, target tsync.Turnaround) bool {
	if r.AssignedAt.IsZero() || r.State == "reported" || r.State == "delivered" {
		return false
	}
	return now.After(r.Due(target))
}

// formatDue is the Due column's text: the local clock time (with the date
// when it is not today), and how long ago it passed.
func formatDue(Due, now time.Time) string {
	d := Due.Local()
	s := d.Format("15:04")
	if y, m, day := d.Date(); y != now.Local().Year() || m != now.Local().Month() || day != now.Local().Day() {
		s = d.Format("Jan 2 15:04")
	}
	if now.After(Due) {
		s += " (" + strings.TrimPrefix(formatSince(now.Sub(Due)), "0h ") + " late)"
	}
	return s
}

func formatSince(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	h := int(d.Hours())
	m := int(d.Minutes()) % 60
	if h >= 48 {
		return fmt.Sprintf("%dd %02dh", h/24, h%24)
	}
	return fmt.Sprintf("%dh %02dm", h, m)
}

// StateText is the State column's text.
func (r *Row) StateText() string {
	if r.Incomplete {
		s := fmt.Sprintf("incomplete %d/%d", r.Done, r.Total)
		if r.Total == 0 {
			s = fmt.Sprintf("incomplete %d/?", r.Done)
		}
		switch r.State {
		case "downloading", "assigned", "ready":
		case "failed":
			if r.Reason != "" {
				return s + " · failed: " + r.Reason
			}
			return s + " · failed"
		default:
			s += " · " + r.State // reading, reported, delivered
		}
		return s
	}
	switch r.State {
	case "downloading":
		if r.Total > 0 {
			return fmt.Sprintf("downloading %d/%d", r.Done, r.Total)
		}
		return "downloading"
	case "failed":
		if r.Reason != "" {
			return "failed: " + r.Reason
		}
	}
	return r.State
}

// Cell returns the text of column col.
func (r *Row) Cell(col int, now time.Time, target tsync.Turnaround) string {
	switch col {
	case ColPriority:
		if r.Shared && r.AssignedAt.IsZero() {
			return "SHARED"
		}
		return PriorityName(r.Priority)
	case ColPatient:
		return format.PersonName(r.PatientName)
	case ColID:
		return r.PatientID
	case ColAgeSex:
		return format.AgeSex(r.BirthDate, r.StudyDate, r.Sex)
	case ColDate:
		return format.Date(r.StudyDate)
	case ColTime:
		return format.Time(r.StudyTime)
	case ColModality:
		return r.Modalities
	case ColDescription:
		return r.Description
	case ColState:
		return r.StateText()
	case ColSince:
		if r.AssignedAt.IsZero() {
			return "—"
		}
		s := formatSince(now.Sub(r.AssignedAt))
		if r.Overdue(now, target) {
			s = "⚠ " + s
		}
		return s
	case ColDue:
		if r.AssignedAt.IsZero() || r.State == "reported" || r.State == "delivered" {
			return "—"
		}
		s := formatDue(r.Due(target), now)
		if r.Overdue(now, target) {
			s = "⚠ " + s
		}
		return s
	case ColPriors:
		if r.Priors == 0 {
			return ""
		}
		return strconv.Itoa(r.Priors)
	}
	return ""
}

// View is the sorted, filtered list the table shows.
type View struct {
	All     []Row // every row, unfiltered, as read
	Rows    []Row // what the table shows, in order
	SortCol int   // -1: the reading order (priority, then due time, then newest)
	Desc    bool  // sort descending
	Filter  string
}

// Set replaces the rows and applies the filter and sort order.
func (v *View) Set(rows []Row) {
	v.All = rows
	v.Apply()
}

// Apply recomputes Rows from All with the filter and sort order.
func (v *View) Apply() {
	f := strings.ToLower(strings.TrimSpace(v.Filter))
	v.Rows = v.Rows[:0]
	for _, r := range v.All {
		if f == "" || matches(&r, f) {
			v.Rows = append(v.Rows, r)
		}
	}
	sort.SliceStable(v.Rows, func(i, j int) bool {
		a, b := &v.Rows[i], &v.Rows[j]
		if v.SortCol < 0 {
			return ReadingOrder(a, b)
		}
		ka, kb := sortKey(a, v.SortCol), sortKey(b, v.SortCol)
		if ka == kb {
			return ReadingOrder(a, b)
		}
		if v.Desc {
			return ka > kb
		}
		return ka < kb
	})
}

// ReadingOrder is the default order: shared studies first (the reader opened
// them), then priority (STAT first), then the longest waiting, then the newest
// study.
func ReadingOrder(a, b *Row) bool {
	if a.Shared != b.Shared {
		return a.Shared
	}
	if a.Priority != b.Priority {
		return a.Priority < b.Priority
	}
	if !a.AssignedAt.Equal(b.AssignedAt) {
		if a.AssignedAt.IsZero() || b.AssignedAt.IsZero() {
			return !a.AssignedAt.IsZero()
		}
		return a.AssignedAt.Before(b.AssignedAt)
	}
	if a.StudyDate+a.StudyTime != b.StudyDate+b.StudyTime {
		return a.StudyDate+a.StudyTime > b.StudyDate+b.StudyTime
	}
	return a.UID < b.UID
}

func sortKey(r *Row, col int) string {
	switch col {
	case ColPriority:
		return strconv.Itoa(r.Priority)
	case ColPatient:
		return strings.ToLower(r.PatientName)
	case ColID:
		return r.PatientID
	case ColAgeSex:
		return r.BirthDate
	case ColDate, ColTime:
		return r.StudyDate + r.StudyTime
	case ColModality:
		return r.Modalities
	case ColDescription:
		return strings.ToLower(r.Description)
	case ColState:
		return r.State
	case ColSince:
		if r.AssignedAt.IsZero() {
			return "~"
		}
		return r.AssignedAt.UTC().Format(time.RFC3339Nano)
	case ColDue:
		if r.AssignedAt.IsZero() {
			return "~"
		}
		// By priority's target: the Due times of one turnaround.
		return r.Due(tsync.DefaultTurnaround).UTC().Format(time.RFC3339Nano)
	case ColPriors:
		return fmt.Sprintf("%06d", r.Priors)
	}
	return ""
}

func matches(r *Row, f string) bool {
	for _, s := range []string{r.PatientName, format.PersonName(r.PatientName), r.PatientID, r.Description, r.Modalities,
		r.Accession, r.State, PriorityName(r.Priority), r.StudyDate} {
		if strings.Contains(strings.ToLower(s), f) {
			return true
		}
	}
	return false
}

// IndexOf returns the row index of a study, -1 when it is not shown.
func (v *View) IndexOf(uid string) int {
	for i := range v.Rows {
		if v.Rows[i].UID == uid {
			return i
		}
	}
	return -1
}
