package app

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"teleread/cache"
	"teleread/cache/cachetest"
	"teleread/cache/report"
	tsync "teleread/sync"
	"teleread/sync/orthanctest"
)

// TestSyncLoopResumesAndDelivers closes the app's sync loop in the middle of a
// download, as closing the window does, and starts it again on the reopened
// cache: the instances already durable are not fetched again, the study
// becomes ready, and a report signed on it reaches the private Orthanc.
func TestSyncLoopResumesAndDelivers(t *testing.T) {
	const reader = "Doe^Jane"
	srv := orthanctest.New(t, orthanctest.Options{})
	src := filepath.Join(samplesDir(t), "ct_small_explicit_le.dcm")
	const n = 300
	paths, err := cachetest.MakeSeries(src, t.TempDir(), n)
	if err != nil {
		t.Fatal(err)
	}
	srv.MustUploadFiles(t, paths...)
	orig := studyUIDOf(t, src)
	assigned, err := srv.CopyStudy(orig, map[string]string{"NameOfPhysiciansReadingStudy": reader, "StudyDate": "20261127"})
	if err != nil {
		t.Fatal(err)
	}
	// The archive is reached through a proxy that slows a study or series retrieve down
	// after its first 6 MB, so that closing the loop on the first durable
	// group always falls in the middle of the download, whatever the timing
	// of staging and group commits.
	target, _ := url.Parse(srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(r *http.Response) error {
		// A study or series retrieve (multipart), not a QIDO or one instance.
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/related") && !strings.Contains(r.Request.URL.Path, "/instances/") {
			r.Body = &slowBody{r: r.Body, fast: 6 << 20}
		}
		return nil
	}
	front := httptest.NewServer(proxy)
	defer front.Close()
	client, err := tsync.New(tsync.Config{BaseURL: front.URL + "/dicom-web"})
	if err != nil {
		t.Fatal(err)
	}
	connect := func(context.Context) (*tsync.Link, error) {
		return &tsync.Link{Client: client, Reader: reader, Priors: tsync.PriorPolicy{Max: 1}, Display: srv.DICOMwebURL}, nil
	}
	home := t.TempDir()

	// First run: stopped as soon as the first group of instances is durable.
	c1, err := cache.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	l1 := newSyncLoop(c1, time.Hour, connect)
	var once gosync.Once
	stopped := make(chan int, 1)
	l1.observe = func(e tsync.Event) {
		if e.Kind == tsync.StudyProgress && e.StudyUID == assigned && e.Done > 0 {
			once.Do(func() { l1.cancel(); stopped <- e.Done })
		}
	}
	l1.start()
	var doneAtStop int
	select {
	case doneAtStop = <-stopped:
	case <-time.After(60 * time.Second):
		t.Fatal("no download progress within 60 s")
	}
	l1.close()
	w, err := c1.WorkItemByUID(assigned)
	if err != nil {
		t.Fatal(err)
	}
	have := instancesOf(t, c1, assigned)
	c1.Close()
	if w.State == tsync.StateReady || have == 0 || have >= n {
		t.Fatalf("after closing mid-download: state %q with %d of %d instances durable (progress said %d); want a partial download",
			w.State, have, n, doneAtStop)
	}

	// Second run on the reopened cache: it resumes and delivers.
	c2, err := cache.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	l2 := newSyncLoop(c2, time.Hour, connect)
	var mu gosync.Mutex
	fetched := 0
	l2.observe = func(e tsync.Event) {
		if e.Kind == tsync.StudyState && e.StudyUID == assigned && e.State == tsync.StateDownloading {
			mu.Lock()
			fetched = e.Total - e.Done // what the resumed pull still had to fetch
			mu.Unlock()
		}
	}
	l2.start()
	defer l2.close()
	waitFor(t, 60*time.Second, "the assigned study ready", func() bool {
		w, err := c2.WorkItemByUID(assigned)
		return err == nil && w.State == tsync.StateReady
	})
	mu.Lock()
	if fetched != n-have {
		t.Errorf("the resumed pull fetched %d instances; want the %d missing", fetched, n-have)
	}
	mu.Unlock()
	if got := instancesOf(t, c2, assigned); got != n {
		t.Errorf("%d instances in the cache after resuming; want %d", got, n)
	}
	if _, err := c2.WorkItemByUID(orig); err != nil {
		t.Errorf("the original study was not fetched as a prior: %v", err)
	}
	ev := l2.take()
	if !ev.Online || ev.Archive != srv.DICOMwebURL {
		t.Errorf("status after a pull: online %v archive %q", ev.Online, ev.Archive)
	}
	// The archive is on this machine: the stored bytes, at the throughput
	// the series retrieves measured.
	if !strings.Contains(ev.Link, " Mbit/s, round trip ") || !strings.HasSuffix(ev.Link, ", stored bytes") {
		t.Errorf("status after a pull: link %q, want the measured throughput, round trip and the stored bytes", ev.Link)
	}

	r := report.NewDraft(report.KindReport, assigned, report.Observer{Name: reader}, report.Template{}, time.Now())
	if err := r.Edit(report.Sections{Findings: "Normal.", Impression: "Normal study."}); err != nil {
		t.Fatal(err)
	}
	doc, err := c2.SignReport(r, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	l2.kick()
	waitFor(t, 30*time.Second, "the report delivered", func() bool {
		items, _ := c2.Outbox()
		return len(items) == 1 && items[0].State == cache.OutboxDelivered
	})
	obj, err := client.FindInstance(context.Background(), doc.SOPInstanceUID)
	if err != nil || obj == nil || obj.StudyUID() != assigned {
		t.Errorf("the SR %s is not in Orthanc's study %s: %v %v", doc.SOPInstanceUID, assigned, obj, err)
	}
}

func studyUIDOf(t *testing.T, path string) string {
	t.Helper()
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sum := c.ImportPaths([]string{path}, nil)
	st, err := c.Studies()
	if err != nil || sum.Imported != 1 || len(st) != 1 {
		t.Fatalf("import %s: %v %+v", path, err, sum)
	}
	return st[0].StudyInstanceUID
}

func instancesOf(t *testing.T, c *cache.Cache, study string) int {
	t.Helper()
	ins, err := c.StudyInstances(study)
	if err != nil {
		return 0
	}
	return len(ins)
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestDraftSurvivesClosing types into the report panel and, without closing
// the window (as a crash would leave it), reads the cache: the draft is there
// within the autosave delay, and a new workstation on the same cache shows it.
func TestDraftSurvivesClosing(t *testing.T) {
	h := newHarness(t)
	h.openStudyWith("CT")
	uid := h.ws.viewer.study.StudyInstanceUID
	const text = "Small hypodensity in the left frontal lobe."
	h.ws.viewer.report.findings.SetText(text)
	waitFor(t, 5*time.Second, "the autosaved draft", func() bool {
		h.q.runPending()
		r, err := h.cache.LoadReport(uid, report.KindReport)
		return err == nil && r.Sections.Findings == text && r.State == report.StateDraft
	})

	ws2, err := newWorkstation(h.ws.cfg, h.ws.app, h.win)
	if err != nil {
		t.Fatal(err)
	}
	defer ws2.close()
	settleWorklist(t, ws2, h.q)
	ws2.openStudy(uid)
	settleOpen(t, ws2, h.q)
	if got := ws2.viewer.report.findings.Text; got != text {
		t.Errorf("findings after reopening: %q; want %q", got, text)
	}
	if got := ws2.worklist.view.Rows[ws2.worklist.view.IndexOf(uid)].State; got != "reading" {
		t.Errorf("worklist state with a draft: %q; want reading", got)
	}
}

// slowBody passes the first fast bytes through, then 16 KiB every 5 ms.
type slowBody struct {
	r    io.ReadCloser
	fast int64
}

func (b *slowBody) Read(p []byte) (int, error) {
	if b.fast <= 0 {
		time.Sleep(5 * time.Millisecond)
		if len(p) > 16<<10 {
			p = p[:16<<10]
		}
	} else if int64(len(p)) > b.fast {
		p = p[:b.fast]
	}
	n, err := b.r.Read(p)
	b.fast -= int64(n)
	return n, err
}

func (b *slowBody) Close() error { return b.r.Close() }

// TestSyncLoopSnapshotsLoseNoStudy: events that come faster than the UI
// takes them fold into one snapshot that still names every study changed,
// the progress of each, and the note, with the newest lasting state.
func TestSyncLoopSnapshotsLoseNoStudy(t *testing.T) {
	l := newSyncLoop(nil, time.Hour, nil)
	l.event(tsync.Event{Kind: tsync.StudyState, StudyUID: "1.2.3", State: tsync.StateDownloading, Done: 1, Total: 4})
	l.event(tsync.Event{Kind: tsync.Problem, Err: errors.New("disk nearly full")})
	l.event(tsync.Event{Kind: tsync.StudyProgress, StudyUID: "1.2.4", Done: 2, Total: 8})
	l.event(tsync.Event{Kind: tsync.Connectivity, Online: true})
	select {
	case <-l.wake:
	default:
		t.Fatal("no snapshot signalled")
	}
	ev := l.take()
	if !slices.Contains(ev.Changed, "1.2.3") {
		t.Errorf("changed %v; want the study whose state changed first", ev.Changed)
	}
	want := map[string]Progress{"1.2.3": {1, 4}, "1.2.4": {2, 8}}
	if !maps.Equal(ev.Progress, want) {
		t.Errorf("progress %v; want %v", ev.Progress, want)
	}
	if ev.Message != "disk nearly full" || !ev.Online {
		t.Errorf("message %q online %v; want the note and the newest state", ev.Message, ev.Online)
	}
	// Taken once: the next snapshot carries only what came after.
	l.event(tsync.Event{Kind: tsync.Evicted, StudyUID: "1.2.5"})
	if ev := l.take(); !slices.Equal(ev.Changed, []string{"1.2.5"}) || ev.Progress != nil || ev.Message != "" || !ev.Online {
		t.Errorf("second snapshot: changed %v progress %v message %q online %v", ev.Changed, ev.Progress, ev.Message, ev.Online)
	}
}
