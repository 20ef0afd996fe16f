package app

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"teleread/cache"
	tsync "teleread/sync"
)

// sourceShared is the cache source of studies opened for a second opinion.
const sourceShared = "shared"

// Priorities of the worklist table (cache/migrations: 0 STAT, 1 HIGH, 2 ROUTINE, 3 LOW).
var priorityNames = []string{"STAT", "HIGH", "ROUTINE", "LOW"}

// worklistRow is one study as the worklist shows it.
type worklistRow struct {
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
	colPriority = iota
	colPatient
	colID
	colAgeSex
	colDate
	colTime
	colModality
	colDescription
	colState
	colSince
	colDue
	colPriors
	numColumns
)

var columnTitles = [numColumns]string{"Priority", "Patient", "ID", "Age/Sex", "Study date", "Time", "Mod", "Description", "State", "Assigned", "Due", "Priors"}

var columnWidths = [numColumns]float32{74, 210, 150, 70, 90, 60, 60, 300, 150, 110, 110, 56}

// loadWorklist reads the cached studies and the worklist state that sync keeps,
// joined by Study Instance UID; worklist rows whose study is not cached yet are
// listed too (they are downloading or failed).
func loadWorklist(c *cache.Cache) ([]worklistRow, error) {
	studies, err := c.Studies()
	if err != nil {
		return nil, fmt.Errorf("app: worklist: %w", err)
	}
	byUID := map[string]*worklistRow{}
	var rows []*worklistRow
	for _, s := range studies {
		r := &worklistRow{
			UID: s.StudyInstanceUID, Priority: 2, PatientName: s.PatientName, PatientID: s.PatientID, Issuer: s.IssuerOfPatientID,
			BirthDate: s.PatientBirthDate, Sex: s.PatientSex, StudyDate: s.StudyDate, StudyTime: s.StudyTime,
			Modalities: strings.Join(s.ModalitiesInStudy, "/"), Description: s.StudyDescription,
			Accession: s.AccessionNumber, State: "ready", Instances: s.NumberOfInstances, Cached: true,
			Shared: s.Source == sourceShared,
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
	var tracked []*worklistRow
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
			r = &worklistRow{UID: w.StudyInstanceUID, PatientID: w.PatientID, PatientName: w.PatientName, StudyDate: w.StudyDate,
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
	byPatient := map[string][]*worklistRow{}
	for _, r := range rows {
		if r.Cached && r.PatientID != "" {
			byPatient[r.PatientID] = append(byPatient[r.PatientID], r)
		}
	}
	out := make([]worklistRow, 0, len(rows))
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
func applyReportStates(c *cache.Cache, byUID map[string]*worklistRow) error {
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

// personName formats a DICOM person name for display: the alphabetic group
// "Family^Given^Middle" as "Family, Given Middle", then the ideographic and
// phonetic groups (the name in the patient's own script) with their
// components separated by spaces: "Yamada, Tarou = 山田 太郎 = やまだ たろう".
func personName(pn string) string {
	var out []string
	for i, g := range strings.Split(pn, "=") {
		parts := strings.Split(g, "^")
		for j := range parts {
			parts[j] = strings.TrimSpace(parts[j])
		}
		var s string
		if i == 0 {
			s = parts[0]
			if given := strings.TrimSpace(strings.Join(parts[1:min(3, len(parts))], " ")); given != "" {
				s += ", " + given
			}
		} else {
			s = strings.Join(strings.Fields(strings.Join(parts[:min(3, len(parts))], " ")), " ")
		}
		if s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, " = ")
}

// ageSex formats the patient's age at the study ("54Y", "3M", "12D") and sex.
func ageSex(birth, studyDate, sex string) string {
	age := ""
	b, err1 := time.Parse("20060102", birth)
	s, err2 := time.Parse("20060102", studyDate)
	if err1 == nil && err2 == nil && !s.Before(b) {
		years := s.Year() - b.Year()
		if s.YearDay() < b.YearDay() {
			years--
		}
		switch days := int(s.Sub(b).Hours() / 24); {
		case years >= 2:
			age = strconv.Itoa(years) + "Y"
		case days >= 60:
			age = strconv.Itoa(days/30) + "M"
		default:
			age = strconv.Itoa(days) + "D"
		}
	}
	sex = strings.TrimSpace(sex)
	switch {
	case age == "" && sex == "":
		return ""
	case age == "":
		return sex
	case sex == "":
		return age
	}
	return age + "/" + sex
}

func formatDate(d string) string {
	if len(d) == 8 {
		return d[:4] + "-" + d[4:6] + "-" + d[6:]
	}
	return d
}

func formatTime(t string) string {
	if len(t) >= 4 {
		return t[:2] + ":" + t[2:4]
	}
	return t
}

func priorityName(p int) string {
	if p >= 0 && p < len(priorityNames) {
		return priorityNames[p]
	}
	return strconv.Itoa(p)
}

// due returns when the study is due: its assignment plus the target of its
// priority; zero for a study nobody assigned.
func (r *worklistRow) due(target tsync.Turnaround) time.Time {
	return target.Due(r.Priority, r.AssignedAt)
}

// overdue reports whether an unreported study has waited past its due time.
func (r *worklistRow) overdue(now time.Time, target tsync.Turnaround) bool {
	if r.AssignedAt.IsZero() || r.State == "reported" || r.State == "delivered" {
		return false
	}
	return now.After(r.due(target))
}

// formatDue is the Due column's text: the local clock time (with the date
// when it is not today), and how long ago it passed.
func formatDue(due, now time.Time) string {
	d := due.Local()
	s := d.Format("15:04")
	if y, m, day := d.Date(); y != now.Local().Year() || m != now.Local().Month() || day != now.Local().Day() {
		s = d.Format("Jan 2 15:04")
	}
	if now.After(due) {
		s += " (" + strings.TrimPrefix(formatSince(now.Sub(due)), "0h ") + " late)"
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

// stateText is the State column's text.
func (r *worklistRow) stateText() string {
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

// cell returns the text of column col.
func (r *worklistRow) cell(col int, now time.Time, target tsync.Turnaround) string {
	switch col {
	case colPriority:
		if r.Shared && r.AssignedAt.IsZero() {
			return "SHARED"
		}
		return priorityName(r.Priority)
	case colPatient:
		return personName(r.PatientName)
	case colID:
		return r.PatientID
	case colAgeSex:
		return ageSex(r.BirthDate, r.StudyDate, r.Sex)
	case colDate:
		return formatDate(r.StudyDate)
	case colTime:
		return formatTime(r.StudyTime)
	case colModality:
		return r.Modalities
	case colDescription:
		return r.Description
	case colState:
		return r.stateText()
	case colSince:
		if r.AssignedAt.IsZero() {
			return "—"
		}
		s := formatSince(now.Sub(r.AssignedAt))
		if r.overdue(now, target) {
			s = "⚠ " + s
		}
		return s
	case colDue:
		if r.AssignedAt.IsZero() || r.State == "reported" || r.State == "delivered" {
			return "—"
		}
		s := formatDue(r.due(target), now)
		if r.overdue(now, target) {
			s = "⚠ " + s
		}
		return s
	case colPriors:
		if r.Priors == 0 {
			return ""
		}
		return strconv.Itoa(r.Priors)
	}
	return ""
}

// worklistView is the sorted, filtered list the table shows.
type worklistView struct {
	all     []worklistRow
	rows    []worklistRow
	sortCol int  // -1: the reading order (priority, then due time, then newest)
	desc    bool // sort descending
	filter  string
}

func (v *worklistView) set(rows []worklistRow) {
	v.all = rows
	v.apply()
}

// apply recomputes rows from all with the filter and sort order.
func (v *worklistView) apply() {
	f := strings.ToLower(strings.TrimSpace(v.filter))
	v.rows = v.rows[:0]
	for _, r := range v.all {
		if f == "" || matches(&r, f) {
			v.rows = append(v.rows, r)
		}
	}
	sort.SliceStable(v.rows, func(i, j int) bool {
		a, b := &v.rows[i], &v.rows[j]
		if v.sortCol < 0 {
			return readingOrder(a, b)
		}
		ka, kb := sortKey(a, v.sortCol), sortKey(b, v.sortCol)
		if ka == kb {
			return readingOrder(a, b)
		}
		if v.desc {
			return ka > kb
		}
		return ka < kb
	})
}

// readingOrder is the default order: shared studies first (the reader opened
// them), then priority (STAT first), then the longest waiting, then the newest
// study.
func readingOrder(a, b *worklistRow) bool {
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

func sortKey(r *worklistRow, col int) string {
	switch col {
	case colPriority:
		return strconv.Itoa(r.Priority)
	case colPatient:
		return strings.ToLower(r.PatientName)
	case colID:
		return r.PatientID
	case colAgeSex:
		return r.BirthDate
	case colDate, colTime:
		return r.StudyDate + r.StudyTime
	case colModality:
		return r.Modalities
	case colDescription:
		return strings.ToLower(r.Description)
	case colState:
		return r.State
	case colSince:
		if r.AssignedAt.IsZero() {
			return "~"
		}
		return r.AssignedAt.UTC().Format(time.RFC3339Nano)
	case colDue:
		if r.AssignedAt.IsZero() {
			return "~"
		}
		// By priority's target: the due times of one turnaround.
		return r.due(tsync.DefaultTurnaround).UTC().Format(time.RFC3339Nano)
	case colPriors:
		return fmt.Sprintf("%06d", r.Priors)
	}
	return ""
}

func matches(r *worklistRow, f string) bool {
	for _, s := range []string{r.PatientName, personName(r.PatientName), r.PatientID, r.Description, r.Modalities,
		r.Accession, r.State, priorityName(r.Priority), r.StudyDate} {
		if strings.Contains(strings.ToLower(s), f) {
			return true
		}
	}
	return false
}

// indexOf returns the row index of a study, -1 when it is not shown.
func (v *worklistView) indexOf(uid string) int {
	for i := range v.rows {
		if v.rows[i].UID == uid {
			return i
		}
	}
	return -1
}
