package sync

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	gosync "sync"
	"time"

	"teleread/cache"
)

// Store is what the puller needs from the local study cache. The cache
// implements it; its methods use only built-in types so that the cache
// never imports this package. All methods must be safe for concurrent use.
type Store interface {
	// HasInstance reports whether the instance is complete and durable in
	// the store.
	HasInstance(sopUID string) (bool, error)
	// StoreInstance reads r to its end and stores the instance atomically
	// (temporary file, fsync, rename, then the index row), returning its SOP
	// Instance UID. When r fails or the data is not DICOM it stores nothing
	// and returns an error. Storing an instance already present with the
	// same bytes succeeds. name is for messages.
	StoreInstance(r io.Reader, name string) (sopUID string, err error)
	// PutWorkItem adds a study to the worklist, or updates its fields,
	// keeping the state and state time of a study already there. role is
	// "assigned" or "prior" (then priorOf names the assigned study);
	// priority is 0 STAT, 1 HIGH, 2 ROUTINE, 3 LOW; fields holds display
	// values by keyword: PatientID, PatientName, StudyDate, ModalitiesInStudy
	// (backslash-separated), StudyDescription, AccessionNumber; and
	// AssignedAt (RFC 3339, UTC) when the archive said when it assigned the
	// study.
	PutWorkItem(studyUID, reader, role, priorOf string, priority int, fields map[string]string) error
	// SetStudyState records a study's state ("assigned", "downloading",
	// "ready", "failed"), instances done and total, and for "failed" the
	// reason; the state time changes only when the state does.
	SetStudyState(studyUID, state string, done, total int, reason string) error
	// UnassignOthers marks "unassigned" every study assigned to reader that
	// is not in keep (they stay readable until evicted).
	UnassignOthers(reader string, keep []string) error
}

// Study states written through Store.SetStudyState.
const (
	StateAssigned    = "assigned"
	StateDownloading = "downloading"
	StateReady       = "ready"
	StateFailed      = "failed"
)

// Priorities, as the worklist table stores them.
const (
	PrioritySTAT    = 0
	PriorityHigh    = 1
	PriorityRoutine = 2
	PriorityLow     = 3
)

// Event tells a subscriber (the app's status bar, the CLI) what the puller
// and the Service are doing. Events are sent from their goroutines; the
// callback must not block.
type Event struct {
	Kind      EventKind
	StudyUID  string
	State     string // for StudyState and ReportState
	Done      int    // instances durable so far (StudyProgress, StudyState)
	Total     int    // instances the archive counts
	Bytes     int64  // bytes received for this study in this pull; freed for Evicted
	Err       error  // for StudyState failed, Connectivity offline, Connected, PullDone, OutboxDone, Problem
	Online    bool   // for Connectivity
	Purged    bool   // for Evicted: removed by retention (key shredded), not for space
	Timestamp time.Time

	Link    *Link             // for Connected (nil with Err)
	Pull    *PullResult       // for PullDone (nil when the pull did not run)
	Flush   *FlushResult      // for OutboxDone
	Waiting int               // for OutboxDone: reports still waiting (-1: unknown)
	Report  *cache.OutboxItem // for ReportState
}

// EventKind says what an Event reports.
type EventKind int

const (
	// StudyState: a study changed state.
	StudyState EventKind = iota
	// StudyProgress: one more instance of a study is stored.
	StudyProgress
	// Connectivity: the archive became reachable or unreachable.
	Connectivity
	// Connected: the Service connected to an archive (Link), or could not
	// (Err; errors.Is(Err, ErrNoArchive) when none is configured).
	Connected
	// PullDone: a pull pass ended (Pull, Err), eviction and retention done.
	PullDone
	// Evicted: a study left the cache (the cache limit or retention).
	Evicted
	// ReportState: an outbox row changed state (Report).
	ReportState
	// OutboxDone: an outbox pass ended (Flush, Waiting, Err).
	OutboxDone
	// Problem: a step other than the pull or the outbox failed (Err).
	Problem
)

// PriorPolicy says which earlier studies of a patient are fetched.
type PriorPolicy struct {
	// Max is the number of priors per assigned study, most recent first;
	// zero means none.
	Max int
	// Modalities, when not empty, keeps only priors with one of these
	// modalities.
	Modalities []string
}

// Puller fetches the reader's worklist and the patients' priors from the
// archive into the Store: assigned studies first, by priority then oldest,
// then their priors. A study is ready only when every instance the archive
// counts is durable; a restart fetches only what is missing.
type Puller struct {
	Client *Client
	Store  Store
	// Reader is the radiologist's name as the archive writes it in
	// NameOfPhysiciansReadingStudy (e.g. "Doe^Jane").
	Reader string
	// Worklist is the QIDO-RS study query that finds the reader's studies;
	// nil means NameOfPhysiciansReadingStudy=*<Reader>*, whose matches are
	// then re-checked exactly on the client (archives match names loosely,
	// and a wildcard also finds "Doe^Janet" for "Doe^Jane").
	Worklist *Query
	// Accessions, when not empty, replaces the query: the worklist is the
	// studies with these accession numbers.
	Accessions []string
	// Workitems, when set, replaces both: the worklist is the UPS-RS
	// workitems scheduled for the reader, each claimed before it is fetched
	// (see UPS.Worklist).
	Workitems *UPS
	// AssignedAttribute, for a QIDO-RS worklist, names the study attribute
	// holding when the archive assigned the study; empty (or absent from a
	// study) leaves the assignment time to the store (when it first saw the
	// study). A UPS-RS worklist carries its own (see UPS.Worklist).
	AssignedAttribute AssignedAttribute
	// Priors says which earlier studies to fetch.
	Priors PriorPolicy
	// SeriesConcurrency bounds the series fetched at once; default 2.
	SeriesConcurrency int
	// OnEvent receives progress; nil discards it.
	OnEvent func(Event)
	// CutOffs, when set, remembers parts the archive sent too long (cut
	// off): such an instance is not fetched again until the table's retry
	// interval has passed, and its study stays incomplete, saying why.
	CutOffs *CutOffs
}

// Assignment is one study of the worklist.
type Assignment struct {
	StudyUID string
	Priority int
	Role     string // "assigned" or "prior"
	PriorOf  string
	Study    Object // the QIDO-RS study result
	// WorkitemUID names the UPS-RS workitem the study came from, if any.
	WorkitemUID string
	// AssignedAt is when the archive assigned the study (the turnaround
	// starts there); zero when the worklist does not say.
	AssignedAt time.Time
}

// PullResult summarises a pull.
type PullResult struct {
	Assigned, Priors int      // studies on the worklist and priors found
	Ready            []string // studies complete in the store
	Failed           map[string]error
	Fetched          int   // instances retrieved in this pull
	Bytes            int64 // bytes retrieved in this pull
	Offline          bool  // the archive was unreachable at some point
}

// studyFields are the study attributes asked for with every worklist query.
var studyFields = []string{
	"StudyInstanceUID", "PatientID", "PatientName", "StudyDate", "StudyTime", "AccessionNumber",
	"StudyDescription", "ModalitiesInStudy", "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances", "NameOfPhysiciansReadingStudy",
	"RequestedProcedurePriority",
}

// Pull runs one pass: worklist, priors, then every missing instance. It
// returns an error wrapping ErrOffline when the archive could not be reached
// for the worklist; per-study failures are in the result.
func (p *Puller) Pull(ctx context.Context) (*PullResult, error) {
	res := &PullResult{Failed: map[string]error{}}
	work, err := p.worklist(ctx)
	if err != nil {
		p.connectivity(err)
		res.Offline = errors.Is(err, ErrOffline)
		return res, err
	}
	p.emit(Event{Kind: Connectivity, Online: true})
	res.Assigned = len(work)
	keep := make([]string, 0, len(work))
	for _, a := range work {
		keep = append(keep, a.StudyUID)
		fields := displayFields(a.Study)
		if !a.AssignedAt.IsZero() {
			fields["AssignedAt"] = a.AssignedAt.UTC().Format(time.RFC3339Nano)
		}
		if err := p.Store.PutWorkItem(a.StudyUID, p.Reader, a.Role, "", a.Priority, fields); err != nil {
			return res, fmt.Errorf("sync: pull: %w", err)
		}
		if err := p.recordWorkitem(a); err != nil {
			return res, fmt.Errorf("sync: pull: %w", err)
		}
	}
	if err := p.Store.UnassignOthers(p.Reader, keep); err != nil {
		return res, fmt.Errorf("sync: pull: %w", err)
	}
	priors, err := p.priors(ctx, work)
	if err != nil {
		p.connectivity(err)
		res.Offline = res.Offline || errors.Is(err, ErrOffline)
		// Priors are a bonus: fetch the assigned studies anyway.
	}
	res.Priors = len(priors)
	for _, a := range priors {
		if err := p.Store.PutWorkItem(a.StudyUID, p.Reader, a.Role, a.PriorOf, a.Priority, displayFields(a.Study)); err != nil {
			return res, fmt.Errorf("sync: pull: %w", err)
		}
	}
	for _, a := range append(work, priors...) {
		if ctx.Err() != nil {
			return res, context.Cause(ctx)
		}
		n, bytes, err := p.fetchStudy(ctx, a)
		res.Fetched += n
		res.Bytes += bytes
		if err != nil {
			res.Failed[a.StudyUID] = err
			if errors.Is(err, ErrOffline) {
				// The rest would wait out the same retries: stop here;
				// the next pull resumes where this one stopped.
				res.Offline = true
				p.connectivity(err)
				return res, nil
			}
			continue
		}
		res.Ready = append(res.Ready, a.StudyUID)
	}
	return res, nil
}

// worklist returns the assigned studies, ordered by priority then oldest.
func (p *Puller) worklist(ctx context.Context) ([]Assignment, error) {
	if p.Workitems != nil {
		return p.workitemWorklist(ctx)
	}
	assignedTags, err := p.AssignedAttribute.tags()
	if err != nil {
		return nil, err
	}
	var found []Object
	collect := func(o Object) error {
		if validUID(o.StudyUID()) {
			found = append(found, o)
		}
		return nil
	}
	if len(p.Accessions) > 0 {
		for _, acc := range p.Accessions {
			q := Query{Match: []Param{{"AccessionNumber", acc}}, IncludeFields: studyFields}
			if err := p.Client.SearchAll(ctx, "/studies", q, 100, func(o Object) error {
				if o.String(TagAccessionNumber) == acc {
					return collect(o)
				}
				return nil
			}); err != nil {
				return nil, err
			}
		}
	} else {
		q := Query{Match: []Param{{"NameOfPhysiciansReadingStudy", "*" + p.Reader + "*"}}}
		exact := true
		if p.Worklist != nil {
			q, exact = *p.Worklist, false
		}
		q.IncludeFields = append(slices.Clone(q.IncludeFields), studyFields...)
		q.IncludeFields = append(q.IncludeFields, assignedTags...)
		if err := p.Client.SearchAll(ctx, "/studies", q, 100, func(o Object) error {
			if !exact || readerMatches(o.Strings(TagNameOfPhysiciansReadingStudy), p.Reader) {
				return collect(o)
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	seen := map[string]bool{}
	var out []Assignment
	for _, o := range found {
		if seen[o.StudyUID()] {
			continue
		}
		seen[o.StudyUID()] = true
		out = append(out, Assignment{StudyUID: o.StudyUID(), Priority: priorityOf(o), Role: "assigned", Study: o,
			AssignedAt: assignedTime(o, assignedTags, time.Local)})
	}
	SortWorklist(out)
	return out, nil
}

// SortWorklist orders assignments: priority first (STAT before HIGH before
// ROUTINE), then the oldest study first, then by UID for a stable order.
func SortWorklist(a []Assignment) {
	slices.SortStableFunc(a, func(x, y Assignment) int {
		return cmp.Or(
			cmp.Compare(x.Priority, y.Priority),
			cmp.Compare(studyMoment(x.Study), studyMoment(y.Study)),
			cmp.Compare(x.StudyUID, y.StudyUID),
		)
	})
}

// studyMoment is StudyDate+StudyTime as a sortable string; unknown dates
// sort last (they are not known to be old).
func studyMoment(o Object) string {
	d := strings.TrimSpace(o.String(TagStudyDate))
	if len(d) != 8 {
		return "99999999"
	}
	return d + strings.TrimSpace(o.String(TagStudyTime))
}

func priorityOf(o Object) int {
	switch strings.ToUpper(strings.TrimSpace(o.String(TagRequestedProcedurePriority))) {
	case "STAT":
		return PrioritySTAT
	case "HIGH":
		return PriorityHigh
	case "LOW":
		return PriorityLow
	}
	return PriorityRoutine
}

// readerMatches compares person names exactly, ignoring case, surrounding
// spaces and empty trailing components ("Doe^Jane^^" is "Doe^Jane").
func readerMatches(names []string, reader string) bool {
	want := normalizePN(reader)
	if want == "" {
		return false
	}
	for _, n := range names {
		// A multi-valued name may arrive as one backslash-joined string.
		for _, v := range strings.Split(n, `\`) {
			if normalizePN(v) == want {
				return true
			}
		}
	}
	return false
}

func normalizePN(s string) string {
	parts := strings.Split(strings.TrimSpace(s), "^")
	for i := range parts {
		parts[i] = strings.ToUpper(strings.TrimSpace(parts[i]))
	}
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return strings.Join(parts, "^")
}

func displayFields(o Object) map[string]string {
	return map[string]string{
		"PatientID":         o.String(TagPatientID),
		"PatientName":       o.PersonName(TagPatientName),
		"StudyDate":         o.String(TagStudyDate),
		"ModalitiesInStudy": strings.Join(o.Strings(TagModalitiesInStudy), `\`),
		"StudyDescription":  o.String(TagStudyDescription),
		"AccessionNumber":   o.String(TagAccessionNumber),
	}
}

// priors returns, for each assigned study, the patient's earlier studies
// allowed by the policy, most recent first; a study is listed once.
func (p *Puller) priors(ctx context.Context, work []Assignment) ([]Assignment, error) {
	if p.Priors.Max <= 0 {
		return nil, nil
	}
	taken := map[string]bool{}
	for _, a := range work {
		taken[a.StudyUID] = true
	}
	var out []Assignment
	var firstErr error
	for _, a := range work {
		pid := a.Study.String(TagPatientID)
		if pid == "" || strings.ContainsAny(pid, `*?\`) {
			continue // no identity to match priors on
		}
		q := Query{Match: []Param{{"PatientID", pid}}, IncludeFields: studyFields}
		var cands []Object
		err := p.Client.SearchAll(ctx, "/studies", q, 100, func(o Object) error {
			if o.String(TagPatientID) != pid || !validUID(o.StudyUID()) || taken[o.StudyUID()] {
				return nil
			}
			if studyMoment(o) >= studyMoment(a.Study) {
				return nil // not earlier
			}
			if len(p.Priors.Modalities) > 0 && !anyIn(o.Strings(TagModalitiesInStudy), p.Priors.Modalities) {
				return nil
			}
			cands = append(cands, o)
			return nil
		})
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		slices.SortFunc(cands, func(x, y Object) int { return cmp.Compare(studyMoment(y), studyMoment(x)) })
		for _, o := range cands[:min(len(cands), p.Priors.Max)] {
			taken[o.StudyUID()] = true
			out = append(out, Assignment{StudyUID: o.StudyUID(), Priority: a.Priority, Role: "prior", PriorOf: a.StudyUID, Study: o})
		}
	}
	return out, firstErr
}

func anyIn(have, want []string) bool {
	for _, h := range have {
		for _, w := range want {
			if strings.EqualFold(strings.TrimSpace(h), strings.TrimSpace(w)) {
				return true
			}
		}
	}
	return false
}

// fetchStudy brings every instance of a study into the store, fetching
// whole series where none of it is present and single instances otherwise,
// and marks the study ready only when every instance the archive lists is
// durable. It returns the instances and bytes retrieved.
func (p *Puller) fetchStudy(ctx context.Context, a Assignment) (int, int64, error) {
	uid := a.StudyUID
	fail := func(done, total int, err error) (int, int64, error) {
		state := StateFailed
		if IsTransient(err) || ctx.Err() != nil {
			// It will be resumed; it is not ready and says why.
			state = StateDownloading
		}
		_ = p.Store.SetStudyState(uid, state, done, total, err.Error())
		p.emit(Event{Kind: StudyState, StudyUID: uid, State: state, Done: done, Total: total, Err: err})
		return 0, 0, err
	}

	// A study the cache has nothing of is retrieved without listing its
	// instances first (the fast path, below); one the archive counts as a
	// single series is retrieved whole, without asking for its series
	// either: a round trip less per study, about 5 ms on Orthanc.
	archive := p.Client.BaseURL()
	cutOffs := p.CutOffs.Study(archive, uid)
	cutInstance := map[string]CutOff{} // instances left alone
	cutSeries := map[string]bool{}     // series fetched one instance at a time
	for _, c := range cutOffs {
		if c.SOPInstanceUID != "" {
			cutInstance[c.SOPInstanceUID] = c
		} else {
			cutSeries[c.SeriesUID] = true
		}
	}
	empty := false
	if sc, ok := p.Store.(SeriesCounter); ok && len(cutOffs) == 0 {
		// A study with a remembered cut-off is listed instance by instance
		// (below), never retrieved whole: that would bring the part again.
		if n, err := sc.StudyInstanceCount(uid); err == nil && n == 0 {
			empty = true
		}
	}
	wholeWant := 0 // the whole study's count, when it is retrieved whole
	if ns, ok := a.Study.Int(TagNumberOfStudyRelatedSeries); empty && ok && ns == 1 {
		if ni, ok := a.Study.Int(TagNumberOfStudyRelatedInstances); ok && ni > 0 {
			wholeWant = ni
		}
	}
	// Otherwise the instance list comes from QIDO, series by series: the
	// archive's count per series and per study must agree with what is
	// listed.
	var series []Object
	searchSeries := func() error {
		var err error
		series, err = p.Client.SearchSeries(ctx, uid, Query{IncludeFields: []string{"SeriesInstanceUID", "NumberOfSeriesRelatedInstances", "Modality", "SeriesNumber"}})
		if err == nil {
			// The series the reader sees first is fetched first.
			series = readingOrder(series)
		}
		return err
	}
	if wholeWant == 0 {
		if err := searchSeries(); err != nil {
			return fail(0, 0, err)
		}
	}
	type seriesWork struct {
		uid     string // "" for the whole study
		obj     Object
		all     []string       // SOP Instance UIDs
		number  map[string]int // Instance Numbers, where the archive gave them
		missing []string
		want    int // the archive's count (fast path)
	}
	// list fills a series' instance list from QIDO and checks it against the
	// archive's count.
	list := func(sw *seriesWork) error {
		sw.all = sw.all[:0]
		err := p.Client.SearchAll(ctx, "/studies/"+uid+"/series/"+sw.uid+"/instances",
			Query{IncludeFields: []string{"SOPInstanceUID", "InstanceNumber"}}, 1000, func(o Object) error {
				if !validUID(o.SOPInstanceUID()) {
					return fmt.Errorf("sync: study %s: %w: SOP Instance UID %.80q", uid, ErrBadResponse, o.SOPInstanceUID())
				}
				sw.all = append(sw.all, o.SOPInstanceUID())
				if n, ok := o.Int(TagInstanceNumber); ok {
					if sw.number == nil {
						sw.number = map[string]int{}
					}
					sw.number[o.SOPInstanceUID()] = n
				}
				return nil
			})
		if err != nil {
			return err
		}
		if want, ok := sw.obj.Int(TagNumberOfSeriesRelatedInstances); ok && want != len(sw.all) && !p.headerCount(ctx, uid, sw.uid, TagNumberOfSeriesRelatedInstances, want) {
			return fmt.Errorf("sync: study %s series %s: the archive counts %d instances but lists %d", uid, sw.uid, want, len(sw.all))
		}
		return nil
	}
	// Fast path: when nothing of the study is stored yet, whole series are
	// retrieved without listing their instances first (an instance-level
	// QIDO costs an archive like Orthanc about 2 ms per instance); the
	// archive's counts are checked against what arrived, and only a shortfall
	// is listed.
	fast := empty
	for _, s := range series {
		if n, ok := s.Int(TagNumberOfSeriesRelatedInstances); !ok || n <= 0 {
			fast = false
		}
	}
	var todo []seriesWork
	var leftAlone []CutOff
	total, done := 0, 0
	if wholeWant > 0 {
		todo, total = []seriesWork{{want: wholeWant}}, wholeWant
	}
	for _, s := range series {
		if !validUID(s.SeriesUID()) {
			return fail(done, total, fmt.Errorf("sync: study %s: %w: series UID %.80q", uid, ErrBadResponse, s.SeriesUID()))
		}
		sw := seriesWork{uid: s.SeriesUID(), obj: s}
		if fast {
			sw.want, _ = s.Int(TagNumberOfSeriesRelatedInstances)
			total += sw.want
			todo = append(todo, sw)
			continue
		}
		if err := list(&sw); err != nil {
			return fail(done, total, err)
		}
		for _, sop := range sw.all {
			has, err := p.Store.HasInstance(sop)
			if err != nil {
				return fail(done, total, fmt.Errorf("sync: study %s: %w", uid, err))
			}
			if c, ok := cutInstance[sop]; ok && !has {
				leftAlone = append(leftAlone, c)
				continue
			}
			if has {
				done++
			} else {
				sw.missing = append(sw.missing, sop)
			}
		}
		total += len(sw.all)
		if len(sw.missing) > 0 {
			todo = append(todo, sw)
		}
	}
	if len(todo) > 0 {
		// The first series' missing slices, when fetched one at a time,
		// come from the middle of the stack outward: where a reader who
		// opens the partial study looks first.
		todo[0].missing = middleOut(todo[0].missing, todo[0].number)
	}
	// An instance left alone keeps the study from being ready, and says why.
	cutOffErr := func() error {
		if len(leftAlone) == 0 {
			return nil
		}
		return p.CutOffs.cutOffError(leftAlone[0])
	}
	if want, ok := a.Study.Int(TagNumberOfStudyRelatedInstances); !fast && ok && want != total && !p.headerCount(ctx, uid, "", TagNumberOfStudyRelatedInstances, want) {
		return fail(done, total, fmt.Errorf("sync: study %s: the archive counts %d instances but lists %d", uid, want, total))
	}
	if total == 0 {
		return fail(0, 0, fmt.Errorf("sync: study %s: the archive lists no instance", uid))
	}
	if len(todo) == 0 {
		if err := cutOffErr(); err != nil {
			return fail(done, total, err)
		}
		return 0, 0, p.ready(uid, done, total)
	}
	_ = p.Store.SetStudyState(uid, StateDownloading, done, total, "")
	p.emit(Event{Kind: StudyState, StudyUID: uid, State: StateDownloading, Done: done, Total: total})
	if p.Client.NeedsLinkProbe() {
		// The syntax to ask for depends on the link: measure it first
		// (link.go). A failed probe leaves the compressed default.
		_ = p.Client.ProbeLink(ctx, uid)
	}

	var (
		mu       gosync.Mutex
		fetched  int
		received int64
		firstErr error
		wg       gosync.WaitGroup
	)
	expected := map[string]bool{}
	seen := map[string]bool{} // fast path: instances stored so far
	for _, sw := range todo {
		for _, sop := range sw.all {
			expected[sop] = true
		}
	}
	// stored counts instances made durable toward this study.
	stored := func(n int64, sops ...string) {
		mu.Lock()
		defer mu.Unlock()
		received += n
		for _, sop := range sops {
			if fast {
				if !seen[sop] {
					seen[sop] = true
					fetched++
					done++
				}
				continue
			}
			if !expected[sop] {
				// The archive sent an instance it did not list: stored,
				// but it does not count toward this study.
				continue
			}
			delete(expected, sop)
			fetched++
			done++
		}
		p.emit(Event{Kind: StudyProgress, StudyUID: uid, Done: done, Total: total, Bytes: received})
	}
	// newSink returns a part sink and its flush. With a BatchStore, parts are
	// staged and made durable a group at a time (one filesystem sync per
	// group, not two fsyncs per instance); counts move when a group commits.
	newSink := func() (PartFunc, func() error) {
		bs, ok := p.Store.(BatchStore)
		if !ok {
			return func(part io.Reader) error {
				cr := &countingReader{r: part}
				sop, err := p.Store.StoreInstance(cr, "study "+uid)
				if err != nil {
					return err
				}
				stored(cr.n, sop)
				return nil
			}, func() error { return nil }
		}
		// Staging (parse, checksum, temporary file) runs on stageWorkers
		// goroutines while the next part is read from the network; parts up
		// to stageInMemory bytes are read whole into pooled buffers first,
		// bigger ones are staged as they stream. Commits (filesystem sync,
		// renames, index) run in the background one at a time, each taking
		// everything staged since the last: the groups grow while the disk is
		// busy and shrink when it is not, so little is left to commit when
		// the last part arrives.
		var (
			smu        gosync.Mutex
			b          = bs.NewBatch(sourceArchive)
			sizes      = map[string]int64{} // staged, not yet committed
			stageErr   error
			commitErr  error
			committing bool // a background commit is running
			again      bool // something was staged while it ran
			swg, cwg   gosync.WaitGroup
			commitMu   gosync.Mutex
		)
		slots := make(chan struct{}, stageWorkers)
		commitOnce := func() {
			commitMu.Lock()
			defer commitMu.Unlock()
			sops, err := b.Commit()
			var n int64
			smu.Lock()
			for _, sop := range sops {
				n += sizes[sop]
				delete(sizes, sop)
			}
			if err != nil && commitErr == nil {
				commitErr = err
			}
			smu.Unlock()
			if len(sops) > 0 {
				stored(n, sops...)
			}
		}
		// kick starts a background commit, or asks the running one for
		// another round. It is called before the staging goroutine's
		// swg.Done, so flush's swg.Wait orders it before cwg.Wait.
		kick := func() {
			smu.Lock()
			if committing {
				again = true
				smu.Unlock()
				return
			}
			committing = true
			smu.Unlock()
			cwg.Add(1)
			go func() {
				defer cwg.Done()
				for {
					if err := guard("commit study "+uid, func() error { commitOnce(); return nil }); err != nil {
						smu.Lock()
						if commitErr == nil {
							commitErr = err
						}
						smu.Unlock()
					}
					smu.Lock()
					if !again {
						committing = false
						smu.Unlock()
						return
					}
					again = false
					smu.Unlock()
				}
			}()
		}
		stageDone := func(sop string, n int64, err error) {
			smu.Lock()
			if err != nil && stageErr == nil {
				stageErr = err
			}
			if err == nil {
				sizes[sop] += n
			}
			smu.Unlock()
			if err == nil {
				kick()
			}
		}
		flush := func() error {
			swg.Wait()
			cwg.Wait()
			commitOnce()
			smu.Lock()
			defer smu.Unlock()
			err := stageErr
			if err == nil {
				err = commitErr
			}
			stageErr, commitErr = nil, nil
			return err
		}
		return func(part io.Reader) error {
			buf := partPool.Get().(*bytes.Buffer)
			buf.Reset()
			if _, err := buf.ReadFrom(io.LimitReader(part, stageInMemory+1)); err != nil {
				partPool.Put(buf)
				return err
			}
			if int64(buf.Len()) > stageInMemory {
				// A big instance (a long cine): stage it while it streams.
				swg.Wait()
				cr := &countingReader{r: io.MultiReader(bytes.NewReader(buf.Bytes()), part)}
				sop, err := b.Add(cr, "study "+uid)
				partPool.Put(buf)
				stageDone(sop, cr.n, err)
			} else {
				slots <- struct{}{}
				swg.Add(1)
				go func() {
					defer swg.Done()
					defer func() { <-slots }()
					var sop string
					err := guard("stage an instance of study "+uid, func() (err error) {
						sop, err = b.AddBytes(buf.Bytes(), "study "+uid)
						return err
					})
					n := int64(buf.Len())
					partPool.Put(buf)
					stageDone(sop, n, err)
				}()
			}
			smu.Lock()
			defer smu.Unlock()
			if err := stageErr; err != nil {
				return err
			}
			return commitErr
		}, flush
	}
	conc := p.SeriesConcurrency
	if conc <= 0 {
		conc = 2
	}
	sem := make(chan struct{}, conc)
	record := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	for i, sw := range todo {
		if i == 1 && todo[0].uid != "" {
			// The series the reader sees first (todo[0], see readingOrder)
			// has the link to itself: its slices become readable sooner
			// than if it shared the link with the others.
			wg.Wait()
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			// A panic while retrieving this series fails the study, not the process.
			defer recovered("retrieve study "+uid, record)
			sink, flush := newSink()
			defer func() {
				if err := flush(); err != nil {
					record(err)
				}
			}()
			if fast || (len(sw.missing) == len(sw.all) && !cutSeries[sw.uid] && !cutSeries[""]) {
				var err error
				if sw.uid == "" {
					_, err = p.Client.RetrieveStudy(ctx, uid, sink)
				} else {
					_, err = p.Client.RetrieveSeries(ctx, uid, sw.uid, sink)
				}
				if ferr := flush(); ferr != nil && err == nil {
					err = ferr
				}
				if errors.Is(err, ErrCutOff) {
					// Which instance it was is not known here: the next
					// sync fetches this series (or study) one instance at a
					// time, and remembers the one cut off.
					if rerr := p.CutOffs.Remember(CutOff{Archive: archive, StudyUID: uid, SeriesUID: sw.uid, Reason: err.Error()}); rerr != nil {
						record(rerr)
					}
				}
				if err != nil && (!IsTransient(err) || errors.Is(err, ErrOffline)) {
					record(err)
					return
				}
				// A series retrieve that broke off: what it did not
				// bring is fetched one instance at a time below.
			}
			for _, sop := range sw.missing {
				if ctx.Err() != nil {
					record(context.Cause(ctx))
					return
				}
				if has, err := p.Store.HasInstance(sop); err == nil && has {
					continue
				}
				err := p.Client.RetrieveInstance(ctx, uid, sw.uid, sop, sink)
				if ferr := flush(); ferr != nil && err == nil {
					err = ferr
				}
				if errors.Is(err, ErrCutOff) {
					if rerr := p.CutOffs.Remember(CutOff{Archive: archive, StudyUID: uid, SeriesUID: sw.uid, SOPInstanceUID: sop, Reason: err.Error()}); rerr != nil {
						record(rerr)
					}
				}
				if err != nil {
					record(err)
					if errors.Is(err, ErrOffline) {
						return
					}
				}
			}
		}()
	}
	wg.Wait()

	if fast {
		// The counts decide; a shortfall (or a count the archive took from the
		// files' own headers) is settled by listing what is missing.
		if done >= total && firstErr == nil {
			return fetched, received, p.ready(uid, done, total)
		}
		if wholeWant > 0 {
			// Listing what is missing needs the series after all.
			if err := searchSeries(); err != nil {
				_, _, err = fail(done, total, err)
				return fetched, received, err
			}
			todo = todo[:0]
			for _, s := range series {
				if !validUID(s.SeriesUID()) {
					_, _, err := fail(done, total, fmt.Errorf("sync: study %s: %w: series UID %.80q", uid, ErrBadResponse, s.SeriesUID()))
					return fetched, received, err
				}
				todo = append(todo, seriesWork{uid: s.SeriesUID(), obj: s})
			}
		}
		total, done = 0, 0
		for i := range todo {
			sw := &todo[i]
			if err := list(sw); err != nil {
				_, _, err = fail(done, total, err)
				return fetched, received, err
			}
			sw.missing = sw.all
			total += len(sw.all)
		}
	}

	// Ready means every listed instance is durable, whatever the errors were.
	done = total
	var missing []string
	for _, sw := range todo {
		for _, sop := range sw.missing {
			if has, err := p.Store.HasInstance(sop); err != nil || !has {
				missing = append(missing, sop)
				done--
			}
		}
	}
	if len(missing) == 0 && len(leftAlone) == 0 {
		return fetched, received, p.ready(uid, done, total)
	}
	done -= len(leftAlone)
	err := firstErr
	if err == nil {
		err = cutOffErr()
	}
	if err == nil {
		err = fmt.Errorf("sync: study %s: %d of %d instances did not arrive (first %s)", uid, len(missing), total, missing[0])
	}
	_, _, err = fail(done, total, err)
	return fetched, received, err
}

// FetchInstance brings one instance into the store at once, beside whatever
// the pull is retrieving: a reader scrolling onto a slice not fetched yet
// should not wait behind the rest of the study. It returns nil at once when
// the instance is already durable. The pull's own retrieve may bring the
// same instance again later; the store keeps one copy.
func (p *Puller) FetchInstance(ctx context.Context, studyUID, seriesUID, sopUID string) error {
	if has, err := p.Store.HasInstance(sopUID); err == nil && has {
		return nil
	}
	err := p.Client.RetrieveInstance(ctx, studyUID, seriesUID, sopUID, func(part io.Reader) error {
		_, err := p.Store.StoreInstance(part, "study "+studyUID)
		return err
	})
	if err != nil {
		p.connectivity(err)
		return fmt.Errorf("sync: fetch instance %s: %w", sopUID, err)
	}
	return nil
}

// nonImage are modalities of series that carry no images to read (reports,
// presentation states, key object selections, documents, registrations).
var nonImage = map[string]bool{"SR": true, "PR": true, "KO": true, "DOC": true, "REG": true}

// readingOrder returns the study's series with the one the reader sees first
// moved to the front: the largest series of the study's main modality (the
// image modality with the most instances); ties go to the lower series
// number. The others keep the archive's order.
func readingOrder(series []Object) []Object {
	if len(series) < 2 {
		return series
	}
	count := func(s Object) int { n, _ := s.Int(TagNumberOfSeriesRelatedInstances); return n }
	byModality := map[string]int{}
	for _, s := range series {
		if m := s.String(TagModality); !nonImage[m] {
			byModality[m] += count(s)
		}
	}
	main, most := "", -1
	for m, n := range byModality {
		if n > most || (n == most && m < main) {
			main, most = m, n
		}
	}
	first := -1
	for i, s := range series {
		if s.String(TagModality) != main {
			continue
		}
		if first < 0 || count(s) > count(series[first]) {
			first = i
			continue
		}
		if count(s) == count(series[first]) {
			a, aok := s.Int(TagSeriesNumber)
			b, bok := series[first].Int(TagSeriesNumber)
			if aok && (!bok || a < b) {
				first = i
			}
		}
	}
	if first <= 0 {
		return series
	}
	out := make([]Object, 0, len(series))
	out = append(out, series[first])
	out = append(out, series[:first]...)
	return append(out, series[first+1:]...)
}

// middleOut orders instances by Instance Number from the middle outward
// (middle, one below, one above, two below, ...); instances without a number
// follow in the order given.
func middleOut(sops []string, number map[string]int) []string {
	var numbered, rest []string
	for _, sop := range sops {
		if _, ok := number[sop]; ok {
			numbered = append(numbered, sop)
		} else {
			rest = append(rest, sop)
		}
	}
	slices.SortStableFunc(numbered, func(a, b string) int { return number[a] - number[b] })
	out := make([]string, 0, len(sops))
	mid := len(numbered) / 2
	for d := 0; len(out) < len(numbered); d++ {
		if i := mid - d; i >= 0 {
			out = append(out, numbered[i])
		}
		if i := mid + d; d > 0 && i < len(numbered) {
			out = append(out, numbered[i])
		}
	}
	return append(out, rest...)
}

func (p *Puller) ready(uid string, done, total int) error {
	if err := p.Store.SetStudyState(uid, StateReady, done, total, ""); err != nil {
		return fmt.Errorf("sync: study %s: %w", uid, err)
	}
	p.emit(Event{Kind: StudyState, StudyUID: uid, State: StateReady, Done: done, Total: total})
	return nil
}

func (p *Puller) emit(e Event) {
	if p.OnEvent != nil {
		e.Timestamp = time.Now()
		p.OnEvent(e)
	}
}

func (p *Puller) connectivity(err error) {
	if errors.Is(err, ErrOffline) {
		p.emit(Event{Kind: Connectivity, Online: false, Err: err})
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

// headerCount reports whether a count the archive gave back is a value stored
// in the instances' own headers rather than one the archive computed: some
// archives (Orthanc 1.10 among them) answer NumberOfStudyRelatedInstances from
// the stored files when they carry it, and files exported from a bigger study
// do (a TCIA corpus file says 1386 for a study of one instance). Such a value
// says nothing about what the archive holds, so the listing decides.
func (p *Puller) headerCount(ctx context.Context, studyUID, seriesUID, tag string, want int) bool {
	meta, err := p.Client.Metadata(ctx, studyUID, seriesUID)
	if err != nil || len(meta) == 0 {
		return false
	}
	for _, o := range meta {
		if n, ok := o.Int(tag); !ok || n != want {
			return false
		}
	}
	return true
}
