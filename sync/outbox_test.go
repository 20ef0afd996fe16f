package sync

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path"
	"path/filepath"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"teleread/cache"
	"teleread/cache/report"
	"teleread/sync/orthanctest"
)

var outboxStudies = []string{"ct_small_explicit_le.dcm", "mr_small_explicit_le.dcm", "us_cine_jpeg_ybr422_30f.dcm"}

// signReports imports the corpus files into a new cache and signs one report per
// study, returning the cache and the study UIDs.
func signReports(t *testing.T) (*cache.Cache, []string) {
	t.Helper()
	c, err := cache.OpenTemp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	var studies []string
	for _, name := range outboxStudies {
		res, err := c.ImportFile(filepath.Join(corpusDir, "files", name))
		if err != nil {
			t.Fatal(err)
		}
		r := report.NewDraft(report.KindReport, res.StudyInstanceUID, report.Observer{Name: "Reader^Ann"}, report.Template{}, time.Now())
		if err := r.Edit(report.Sections{Findings: "Müller, 5 mm Läsion, 肺", Impression: "No acute finding."}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.SignReport(r, time.Now()); err != nil {
			t.Fatal(err)
		}
		studies = append(studies, res.StudyInstanceUID)
	}
	return c, studies
}

// srCount counts the SR instances Orthanc holds in a study.
func srCount(t *testing.T, s *orthanctest.Server, studyUID string) int {
	t.Helper()
	body, err := s.Get("/dicom-web/studies/" + studyUID + "/instances?Modality=SR")
	if err != nil {
		if strings.Contains(err.Error(), "404") {
			return 0
		}
		t.Fatal(err)
	}
	var objs []any
	if len(body) > 0 {
		if err := json.Unmarshal(body, &objs); err != nil {
			t.Fatalf("QIDO answer: %v", err)
		}
	}
	return len(objs)
}

// stowCounter forwards to an archive and counts STOW-RS requests per study
// (the study UID is the last element of the request's path). Orthanc keeps
// one copy of a SOP Instance however often it is sent, so the archive's
// content cannot show a report sent twice: the count can.
type stowCounter struct {
	URL string // DICOMweb root through the proxy

	mu    gosync.Mutex
	stows map[string]int
}

func newStowCounter(t *testing.T, archive string) *stowCounter {
	t.Helper()
	s := &stowCounter{stows: map[string]int{}}
	target, err := url.Parse(archive)
	if err != nil {
		t.Fatal(err)
	}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		if r.In.Method == http.MethodPost {
			s.mu.Lock()
			s.stows[path.Base(r.In.URL.Path)]++
			s.mu.Unlock()
		}
		r.SetURL(target)
	}}
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)
	s.URL = front.URL + "/dicom-web"
	return s
}

func (s *stowCounter) count(study string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stows[study]
}

// TestOutboxThroughOutage signs three reports while the archive is down, then
// delivers them when it is back: exactly one SR per study, all marked delivered.
// A send interrupted after the archive stored the SR (the crash case) is found
// by look-up and not sent twice: each report reaches the archive in exactly
// one STOW-RS request.
func TestOutboxThroughOutage(t *testing.T) {
	srv := orthanctest.New(t, orthanctest.Options{})
	for _, name := range outboxStudies {
		if _, err := srv.UploadFile(filepath.Join(corpusDir, "files", name)); err != nil {
			t.Fatal(err)
		}
	}
	c, studies := signReports(t)
	client, err := New(Config{BaseURL: srv.DICOMwebURL, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	out := &Outbox{Cache: c, Client: client}
	ctx := context.Background()

	srv.Kill()
	res, err := out.Flush(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Offline || res.Delivered != 0 {
		t.Fatalf("archive down: %+v, want offline and nothing delivered", res)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	// From now on every STOW-RS request is counted.
	archive := newStowCounter(t, srv.URL)
	if client, err = New(Config{BaseURL: archive.URL, MaxRetries: -1}); err != nil {
		t.Fatal(err)
	}
	out.Client = client

	// The first report reached the archive but the answer was lost: the row is
	// left "sending", as after a SIGKILL mid-request.
	items, _ := c.Outbox()
	first := items[0]
	sr, _ := c.OutboxSR(first.SOPInstanceUID)
	if _, err := client.Store(ctx, first.StudyInstanceUID, sr); err != nil {
		t.Fatal(err)
	}
	if err := c.MarkSending(first.SOPInstanceUID); err != nil {
		t.Fatal(err)
	}

	// Attempts are due again only after their backoff: flush with a clock ahead.
	out.Now = func() time.Time { return time.Now().Add(time.Hour) }
	res, err = out.Flush(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Delivered != 3 || res.Offline {
		t.Fatalf("archive back: %+v, want 3 delivered", res)
	}
	for _, study := range studies {
		if n := srCount(t, srv, study); n != 1 {
			t.Errorf("study %s: %d SR instances in the archive, want 1", study, n)
		}
		if n := archive.count(study); n != 1 {
			t.Errorf("study %s: its report was sent %d times, want exactly once", study, n)
		}
	}
	items, _ = c.Outbox()
	for _, it := range items {
		if it.State != cache.OutboxDelivered {
			t.Errorf("%s: state %s, want delivered", it.SOPInstanceUID, it.State)
		}
	}
	// Nothing left to send: a further flush sends nothing.
	res, _ = out.Flush(ctx)
	if res.Delivered+res.Pending+res.Failed != 0 {
		t.Errorf("second flush did something: %+v", res)
	}
}

// TestOutboxAmbiguousAnswers uses a stand-in archive for answers Orthanc does not
// give on demand: none of them may mark a report delivered. When the archive
// then turns out to have stored the reports after all, the next flush finds
// them by look-up and marks them delivered without sending them again.
func TestOutboxAmbiguousAnswers(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		wantFailed bool
	}{
		{"200 with empty ReferencedSOPSequence", 200, `{"00081199":{"vr":"SQ","Value":[]}}`, false},
		{"200 with truncated body", 200, `{"00081199":{"vr":"SQ","Val`, false},
		{"409 conflict, instance not found", 409, `{"00081198":{"vr":"SQ","Value":[{"00081155":{"vr":"UI","Value":["1.2.3"]}}]}}`, false},
		{"400 refused", 400, `{}`, true},
		{"503 busy", 503, `busy`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				posts  atomic.Int32
				mu     gosync.Mutex
				stored map[string]string // SOP Instance UID -> study, once the archive "has" them
			)
			stand := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch {
				case r.Method == http.MethodPost:
					posts.Add(1)
					w.Header().Set("Content-Type", "application/dicom+json")
					w.WriteHeader(tt.status)
					w.Write([]byte(tt.body))
				case strings.HasSuffix(r.URL.Path, "/instances"):
					w.Header().Set("Content-Type", "application/dicom+json")
					sop := r.URL.Query().Get("SOPInstanceUID")
					mu.Lock()
					study, ok := stored[sop]
					mu.Unlock()
					if !ok {
						w.Write([]byte(`[]`)) // the archive does not have it
						return
					}
					fmt.Fprintf(w, `[{"00080018":{"vr":"UI","Value":[%q]},"0020000D":{"vr":"UI","Value":[%q]}}]`, sop, study)
				default:
					http.NotFound(w, r)
				}
			}))
			defer stand.Close()
			c, _ := signReports(t)
			client, err := New(Config{BaseURL: stand.URL, MaxRetries: -1})
			if err != nil {
				t.Fatal(err)
			}
			res, err := (&Outbox{Cache: c, Client: client}).Flush(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if res.Delivered != 0 {
				t.Fatalf("%+v: a report was marked delivered", res)
			}
			items, _ := c.Outbox()
			for _, it := range items {
				if it.State == cache.OutboxDelivered {
					t.Errorf("%s delivered", it.SOPInstanceUID)
				}
				if tt.wantFailed != (it.State == cache.OutboxFailed) {
					t.Errorf("%s: state %s (%s), want failed=%v", it.SOPInstanceUID, it.State, it.LastError, tt.wantFailed)
				}
				if it.LastError == "" {
					t.Errorf("%s: no reason recorded", it.SOPInstanceUID)
				}
			}

			// The archive had stored them after all.
			mu.Lock()
			stored = map[string]string{}
			for _, it := range items {
				stored[it.SOPInstanceUID] = it.StudyInstanceUID
			}
			mu.Unlock()
			sent := posts.Load()
			res, err = (&Outbox{Cache: c, Client: client, IgnoreBackoff: true}).Flush(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if n := posts.Load() - sent; n != 0 {
				t.Errorf("%d reports sent again although the archive has them", n)
			}
			want := len(items)
			if tt.wantFailed {
				want = 0 // refused for good: not retried by itself
			}
			if res.Delivered != want {
				t.Errorf("second flush: %+v, want %d delivered", res, want)
			}
		})
	}
}
