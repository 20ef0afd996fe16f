package sync

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	gosync "sync"
	"testing"
	"time"

	"teleread/cache"
	"teleread/cache/report"
	"teleread/sync/orthanctest"
)

// eventLog records a service's events in order.
type eventLog struct {
	mu     gosync.Mutex
	events []Event
}

func (l *eventLog) add(e Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

func (l *eventLog) snapshot() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Event(nil), l.events...)
}

// assignedArchive starts an Orthanc holding a copy of the corpus file name
// assigned to reader, with StudyDate and StudyTime saying when; it returns
// the server, the assigned study and the original (its prior).
func assignedArchive(t *testing.T, name, reader string, at time.Time) (*orthanctest.Server, string, string) {
	t.Helper()
	srv := orthanctest.New(t, orthanctest.Options{})
	inst := srv.MustUploadFiles(t, filepath.Join(corpusDir, "files", name))
	b, err := srv.Get("/studies/" + inst[0].ParentStudy)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		MainDicomTags struct{ StudyInstanceUID string }
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	orig := st.MainDicomTags.StudyInstanceUID
	assigned, err := srv.CopyStudy(orig, map[string]string{"NameOfPhysiciansReadingStudy": reader,
		"StudyDate": at.Format("20060102"), "StudyTime": at.Format("150405")})
	if err != nil {
		t.Fatal(err)
	}
	return srv, assigned, orig
}

// TestServiceRunOnce runs one pass of the sync service against a real
// Orthanc: the assigned study arrives with the archive's assignment time, a
// study beyond the cache limit is evicted before the retention hook runs, and
// a signed report is delivered to the archive.
func TestServiceRunOnce(t *testing.T) {
	const reader = "Reader^A"
	at := time.Now().Add(-9 * time.Minute).Truncate(time.Second)
	srv, assigned, orig := assignedArchive(t, "ct_small_explicit_le.dcm", reader, at)
	c, err := cache.OpenTemp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A study read long ago, on no worklist: the one the cache limit evicts.
	old, err := c.ImportFile(filepath.Join(corpusDir, "files", "mr_small_explicit_le.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	var log eventLog
	var hookSaw []Event
	closed := 0
	svc := &Service{Cache: c, OnEvent: log.add,
		Connect: func(context.Context) (*Link, error) {
			return &Link{Client: newTestClient(t, srv.DICOMwebURL, nil), Reader: reader, Priors: PriorPolicy{Max: 1},
				AssignedAttribute: "StudyDate+StudyTime", CacheLimit: 1, Close: func() { closed++ }}, nil
		},
		Retention: func(_ context.Context, rc *cache.Cache, link *Link) ([]string, error) {
			hookSaw = log.snapshot()
			return nil, nil
		}}

	// The first pass has the assignment but no report yet; a report signed
	// on the study goes with the second.
	res, err := svc.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.PullErr != nil || res.Pull == nil || res.Pull.Assigned != 1 || res.Pull.Priors != 1 || len(res.Pull.Ready) != 2 {
		t.Fatalf("first pass: %+v", res)
	}
	w, err := c.WorkItemByUID(assigned)
	if err != nil {
		t.Fatal(err)
	}
	got, err := time.Parse(time.RFC3339Nano, w.AssignedAt)
	if err != nil || !got.Equal(at) || w.AssignedBy != "archive" {
		t.Errorf("assigned study's turnaround starts at %q (by %s); want the archive's %v", w.AssignedAt, w.AssignedBy, at)
	}
	if len(res.Evicted) != 1 || res.Evicted[0].StudyInstanceUID != old.StudyInstanceUID {
		t.Errorf("evicted %+v; want only the old study %s (the assigned one and its prior %s stay)", res.Evicted, old.StudyInstanceUID, orig)
	}
	var evictedBeforeHook bool
	for _, e := range hookSaw {
		evictedBeforeHook = evictedBeforeHook || (e.Kind == Evicted && e.StudyUID == old.StudyInstanceUID)
	}
	if !evictedBeforeHook {
		t.Error("the retention hook ran before eviction, or not at all")
	}

	r := report.NewDraft(report.KindReport, assigned, report.Observer{Name: reader}, report.Template{}, time.Now())
	if err := r.Edit(report.Sections{Findings: "Normal.", Impression: "Normal study."}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SignReport(r, time.Now()); err != nil {
		t.Fatal(err)
	}
	res, err = svc.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !res.Complete() || res.Flush.Delivered != 1 || res.Outbox != 0 {
		t.Errorf("second pass: complete %v, %+v", res.Complete(), res)
	}
	if n := srCount(t, srv, assigned); n != 1 {
		t.Errorf("the archive holds %d reports for the study; want 1", n)
	}
	if closed != 2 {
		t.Errorf("the link was closed %d times after two passes", closed)
	}
	kinds := map[EventKind]int{}
	for _, e := range log.snapshot() {
		kinds[e.Kind]++
	}
	for _, k := range []EventKind{Connected, StudyState, StudyProgress, PullDone, Evicted, ReportState, OutboxDone} {
		if kinds[k] == 0 {
			t.Errorf("no event of kind %d in %v", k, kinds)
		}
	}
}

// TestServiceReload runs the service in the background and changes what its
// ConnectFunc answers, as Settings do: after Reload it works with the new
// archive at once (not after the poll interval), the old archive's worklist
// rows are gone, and the old link is closed.
func TestServiceReload(t *testing.T) {
	srvA, studyA, _ := assignedArchive(t, "ct_small_explicit_le.dcm", "Reader^A", time.Now())
	srvB, studyB, _ := assignedArchive(t, "mr_small_explicit_le.dcm", "Reader^B", time.Now())
	c, err := cache.OpenTemp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var mu gosync.Mutex
	closed := map[string]bool{}
	archive, reader := srvA.DICOMwebURL, "Reader^A"
	var log eventLog
	svc := &Service{Cache: c, Interval: time.Hour, OnEvent: log.add,
		Connect: func(context.Context) (*Link, error) {
			mu.Lock()
			defer mu.Unlock()
			url := archive
			return &Link{Client: newTestClient(t, url, nil), Reader: reader,
				Close: func() { mu.Lock(); closed[url] = true; mu.Unlock() }}, nil
		}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	ready := func(uid string) bool {
		w, err := c.WorkItemByUID(uid)
		return err == nil && w.State == StateReady
	}
	waitUntil(t, 60*time.Second, "archive A's study ready", func() bool { return ready(studyA) })

	mu.Lock()
	archive, reader = srvB.DICOMwebURL, "Reader^B"
	mu.Unlock()
	svc.Reload()
	// The interval is an hour: only the reload brings B's study.
	waitUntil(t, 60*time.Second, "archive B's study ready after Reload", func() bool { return ready(studyB) })
	if _, err := c.WorkItemByUID(studyA); !errors.Is(err, cache.ErrNotFound) {
		t.Errorf("archive A's worklist row is still there after switching: %v", err)
	}
	mu.Lock()
	if !closed[srvA.DICOMwebURL] {
		t.Error("the link to archive A was not closed on Reload")
	}
	mu.Unlock()
	cancel()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	mu.Lock()
	if !closed[srvB.DICOMwebURL] {
		t.Error("the link to archive B was not closed when Run returned")
	}
	mu.Unlock()
	connected := 0
	for _, e := range log.snapshot() {
		if e.Kind == Connected && e.Err == nil {
			connected++
		}
	}
	if connected != 2 {
		t.Errorf("%d connections; want 2 (start, reload)", connected)
	}
}

func waitUntil(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); !ok(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
