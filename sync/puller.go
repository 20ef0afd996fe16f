package sync

import (
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
	// FirstSeriesOrder is the order in which the slices of the series the
	// reader sees first are fetched when nothing of the study is cached;
	// the zero value is SliceOrderArchive.
	FirstSeriesOrder SliceOrder
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
		if ValidUID(o.StudyUID()) {
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
			if o.String(TagPatientID) != pid || !ValidUID(o.StudyUID()) || taken[o.StudyUID()] {
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
// durable. It returns the instances and bytes retrieved. What to fetch and in
// which order is the study's plan (plan.go); each series' parts go to a sink
// (sink.go) whose committer (commit.go) makes them durable and counts them.
func (p *Puller) fetchStudy(ctx context.Context, a Assignment) (int, int64, error) {
	uid := a.StudyUID
	fail := func(done, total int, err error) error {
		state := StateFailed
		if IsTransient(err) || ctx.Err() != nil {
			// It will be resumed; it is not ready and says why.
			state = StateDownloading
		}
		_ = p.Store.SetStudyState(uid, state, done, total, err.Error())
		p.emit(Event{Kind: StudyState, StudyUID: uid, State: state, Done: done, Total: total, Err: err})
		return err
	}
	plan, err := p.planStudy(ctx, a)
	if err != nil {
		return 0, 0, fail(plan.done, plan.total, err)
	}
	if len(plan.series) == 0 {
		if err := plan.cutOffErr(); err != nil {
			return 0, 0, fail(plan.done, plan.total, err)
		}
		return 0, 0, p.ready(uid, plan.done, plan.total)
	}
	_ = p.Store.SetStudyState(uid, StateDownloading, plan.done, plan.total, "")
	p.emit(Event{Kind: StudyState, StudyUID: uid, State: StateDownloading, Done: plan.done, Total: plan.total})
	if p.Client.NeedsLinkProbe() {
		// The syntax to ask for depends on the link: measure it first
		// (link.go). A failed probe leaves the compressed default.
		_ = p.Client.ProbeLink(ctx, uid)
	}

	progress := newStudyProgress(plan)
	var errs firstError
	conc := p.SeriesConcurrency
	if conc <= 0 {
		conc = 2
	}
	sem := make(chan struct{}, conc)
	var wg gosync.WaitGroup
	for i := range plan.series {
		if i == 1 && plan.series[0].uid != "" {
			// The series the reader sees first (see readingOrder) has the
			// link to itself: its slices become readable sooner than if it
			// shared the link with the others.
			wg.Wait()
		}
		sw := &plan.series[i]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			// A panic while retrieving this series fails the study, not the process.
			defer recovered("retrieve study "+uid, errs.record)
			sink := p.newSink(progress)
			defer func() {
				if err := sink.Flush(); err != nil {
					errs.record(err)
				}
			}()
			p.fetchSeries(ctx, plan, sw, sink, errs.record)
		}()
	}
	wg.Wait()
	fetched, received, done := progress.counts()
	plan.done = done

	if plan.fast {
		// The counts decide; a shortfall (or a count the archive took from the
		// files' own headers) is settled by listing what is missing.
		if plan.done >= plan.total && errs.err() == nil {
			return fetched, received, p.ready(uid, plan.done, plan.total)
		}
		if err := plan.relist(ctx); err != nil {
			return fetched, received, fail(plan.done, plan.total, err)
		}
	}

	// Ready means every listed instance is durable, whatever the errors were.
	missing := plan.settle()
	if len(missing) == 0 && len(plan.leftAlone) == 0 {
		return fetched, received, p.ready(uid, plan.done, plan.total)
	}
	err = errs.err()
	if err == nil {
		err = plan.cutOffErr()
	}
	if err == nil {
		err = fmt.Errorf("sync: study %s: %d of %d instances did not arrive (first %s)", uid, len(missing), plan.total, missing[0])
	}
	return fetched, received, fail(plan.done, plan.total, err)
}

// fetchSeries retrieves what the plan misses of one series into sink: the
// whole series with one request where the plan says so (none of it cached),
// then, one instance at a time, whatever is still missing (all of it, or
// what a series retrieve that broke off did not bring). Before each single
// instance the link is weighed again (studyPlan.seriesRequestPays, with what
// the single instances so far cost): once one series request for the rest
// pays, it comes that way, its cached parts dropped as they stream, and the
// loop only sweeps up what it did not bring. A part cut off is remembered.
// Errors go to record; an offline archive ends the series.
func (p *Puller) fetchSeries(ctx context.Context, plan *studyPlan, sw *seriesWork, sink partSink, record func(error)) {
	uid := plan.uid
	requested := plan.retrieveWhole(sw) // one series request at most
	if requested && p.requestSeries(ctx, plan, sw, sink, sink.Part, record) {
		return
	}
	for i, sop := range sw.missing {
		if ctx.Err() != nil {
			record(context.Cause(ctx))
			return
		}
		if !requested && plan.seriesRequestPays(sw, len(sw.missing)-i) {
			requested = true
			if p.requestSeries(ctx, plan, sw, sink, p.skipStored(sw, sink.Part), record) {
				return
			}
		}
		if has, err := p.Store.HasInstance(sop); err == nil && has {
			continue
		}
		start := time.Now()
		var n int64
		err := p.Client.RetrieveInstance(ctx, uid, sw.uid, sop, func(part io.Reader) error {
			cr := &countingReader{r: part}
			err := sink.Part(cr)
			n += cr.n
			return err
		})
		if ferr := sink.Flush(); ferr != nil && err == nil {
			err = ferr
		}
		if err == nil {
			p.Client.link.single(n, time.Since(start))
		}
		if errors.Is(err, ErrCutOff) {
			if rerr := p.CutOffs.Remember(CutOff{Archive: plan.archive, StudyUID: uid, SeriesUID: sw.uid, SOPInstanceUID: sop, Reason: err.Error()}); rerr != nil {
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
}

// requestSeries retrieves a whole series (or study) with one request into
// sink through part, and remembers a part cut off. It reports whether the
// series is done with: true after an error that single requests would not
// mend (an offline archive, a refusal); false when they may (a retrieve that
// broke off) and after a retrieve that ended well, whose leftovers the
// caller sweeps up one instance at a time.
func (p *Puller) requestSeries(ctx context.Context, plan *studyPlan, sw *seriesWork, sink partSink, part PartFunc, record func(error)) bool {
	uid := plan.uid
	var err error
	if sw.uid == "" {
		_, err = p.Client.RetrieveStudy(ctx, uid, part)
	} else {
		_, err = p.Client.RetrieveSeries(ctx, uid, sw.uid, part)
	}
	if ferr := sink.Flush(); ferr != nil && err == nil {
		err = ferr
	}
	if errors.Is(err, ErrCutOff) {
		// The part names its instance in its first bytes (or its
		// Content-Location) when it is a DICOM file: that instance
		// is left alone from the next sync on, and the rest of the
		// series is fetched around it. A part that does not say (or
		// names one the series does not list) has the next sync
		// fetch this series (or study) one instance at a time, which
		// finds it.
		c := CutOff{Archive: plan.archive, StudyUID: uid, SeriesUID: sw.uid, Reason: err.Error()}
		var ce *CutOffError
		if errors.As(err, &ce) && ce.SOPInstanceUID != "" && (len(sw.all) == 0 || slices.Contains(sw.all, ce.SOPInstanceUID)) {
			c.SOPInstanceUID = ce.SOPInstanceUID
		}
		if rerr := p.CutOffs.Remember(c); rerr != nil {
			record(rerr)
		}
	}
	if err != nil && (!IsTransient(err) || errors.Is(err, ErrOffline)) {
		record(err)
		return true
	}
	// A series retrieve that broke off: what it did not bring is
	// fetched one instance at a time.
	return false
}

// firstError keeps the first error recorded by any of a study's series.
type firstError struct {
	mu    gosync.Mutex
	first error
}

func (f *firstError) record(err error) {
	f.mu.Lock()
	if f.first == nil {
		f.first = err
	}
	f.mu.Unlock()
}

func (f *firstError) err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.first
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

// readingOrder returns the study's series with the one the reader sees first
// (cache.FirstSeries, as the viewer chooses it) moved to the front; the
// others keep the archive's order.
func readingOrder(series []Object) []Object {
	if len(series) < 2 {
		return series
	}
	sizes := make([]cache.SeriesSize, len(series))
	for i, s := range series {
		sizes[i].Modality = s.String(TagModality)
		sizes[i].Number, sizes[i].HasNumber = s.Int(TagSeriesNumber)
		sizes[i].Instances, _ = s.Int(TagNumberOfSeriesRelatedInstances)
	}
	first := cache.FirstSeries(sizes)
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
