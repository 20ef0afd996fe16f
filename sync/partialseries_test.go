package sync

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"teleread/cache"
	"teleread/cache/cachetest"
	"teleread/sync/orthanctest"
	"teleread/viewer/dataset"
)

// TestSeriesRequestPays is the rule alone: the round trips a series request
// saves against the cached bytes it brings again.
func TestSeriesRequestPays(t *testing.T) {
	const slice = 512 << 10 // a 512x512 16-bit CT slice
	home := LinkEstimate{StoredMbps: 50, RTTMillis: 40}
	for _, tc := range []struct {
		name            string
		est             LinkEstimate
		missing, cached int
		size            int64
		want            bool
	}{
		// 50 Mbit/s: a cached slice costs 84 ms again, a request 40 ms.
		{"home line, most missing", home, 250, 50, slice, true},
		{"home line, half missing", home, 150, 150, slice, false},
		{"home line, three quarters missing", home, 225, 75, slice, true},
		{"home line, a few missing", home, 10, 290, slice, false},
		{"home line, JPEG-LS slices, half missing", home, 150, 150, slice / 3, true},
		{"one missing: nothing to save", home, 1, 299, slice, false},
		{"retrieves measured slower than searches", LinkEstimate{StoredMbps: 50, RTTMillis: 1, RequestMillis: 40}, 250, 50, slice, true},
		{"retrieves measured faster than searches", LinkEstimate{StoredMbps: 50, RTTMillis: 40, RequestMillis: 1}, 250, 50, slice, false},
		{"single instances measured costly", LinkEstimate{StoredMbps: 50, RTTMillis: 1, RequestMillis: 1, SingleMillis: 60}, 250, 50, slice, true},
		{"single instances measured cheap", LinkEstimate{StoredMbps: 50, RTTMillis: 1, RequestMillis: 1, SingleMillis: 10}, 250, 50, slice, false},
		{"LAN, most missing", LinkEstimate{StoredMbps: 940, RTTMillis: 0.5}, 250, 50, slice, false},
		{"LAN, all but one missing", LinkEstimate{StoredMbps: 940, RTTMillis: 0.5}, 299, 1, slice, true},
		{"transcoded measure only", LinkEstimate{TranscodedMbps: 50, RTTMillis: 40}, 250, 50, slice, true},
		{"no throughput measured", LinkEstimate{RTTMillis: 40}, 250, 50, slice, false},
		{"no round trip measured", LinkEstimate{StoredMbps: 50}, 250, 50, slice, false},
		{"size unknown", home, 250, 50, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.est.SeriesRequestPays(tc.missing, tc.cached, tc.size); got != tc.want {
				t.Errorf("SeriesRequestPays(%d missing, %d cached, %d bytes) over %v = %v, want %v",
					tc.missing, tc.cached, tc.size, tc.est, got, tc.want)
			}
		})
	}
}

// onceStore is the cache seen through Store alone (no batches: every part
// comes through StoreInstance), counting what it is asked to store.
type onceStore struct {
	c      *cache.Cache
	mu     gosync.Mutex
	stored map[string]int // SOP Instance UID: times handed to StoreInstance
}

func (s *onceStore) HasInstance(sop string) (bool, error) { return s.c.HasInstance(sop) }
func (s *onceStore) StoreInstance(r io.Reader, name string) (string, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return "", err
	}
	if f, err := dataset.ParseBytes(b, name); err == nil {
		s.mu.Lock()
		s.stored[f.String(dataset.SOPInstanceUID)]++
		s.mu.Unlock()
	}
	return s.c.StoreInstance(bytes.NewReader(b), name)
}
func (s *onceStore) PutWorkItem(studyUID, reader, role, priorOf string, priority int, fields map[string]string) error {
	return s.c.PutWorkItem(studyUID, reader, role, priorOf, priority, fields)
}
func (s *onceStore) SetStudyState(studyUID, state string, done, total int, reason string) error {
	return s.c.SetStudyState(studyUID, state, done, total, reason)
}
func (s *onceStore) UnassignOthers(reader string, keep []string) error {
	return s.c.UnassignOthers(reader, keep)
}
func (s *onceStore) StudyInstanceCount(studyUID string) (int, error) {
	return s.c.StudyInstanceCount(studyUID)
}
func (s *onceStore) InstancesOf(seriesUID string) ([]cache.Instance, error) {
	return s.c.InstancesOf(seriesUID)
}

// TestPartlyCachedSeriesOverTheLink completes a series of 12 slices of which
// the cache holds every other one, from a real Orthanc behind a link of 4
// Mbit/s, with the transfer syntax left to the link policy (JPEG-LS: the
// cached slices, stored uncompressed, would be other bytes):
//   - with 600 ms added to every request (a round trip costs more than a
//     cached slice, 132 KB, takes again on the link), the six missing slices come in
//     fewer requests than six (one series request, beside the link probe),
//     every slice is stored exactly once (the cached ones are dropped as
//     they stream, never handed to the store), the cached slices keep their
//     bytes and the new ones decode to the archive's pixels;
//   - without the delay (a round trip of a few milliseconds), one request
//     per missing slice, as before: a series request would bring six cached
//     slices again (1.6 s) to save five round trips (and what each single
//     instance costs on this machine: the test holds while that stays under
//     0.4 s, which a loaded machine has needed);
//   - with a quick round trip but an archive slow to answer each single
//     instance (1.5 s), the puller fetches one, sees what it cost, and
//     brings the other five with one series request.
//
// Each runs into the cache (staged in batches) and through Store alone (one
// StoreInstance per part), where what is stored is counted.
func TestPartlyCachedSeriesOverTheLink(t *testing.T) {
	srv := orthanctest.New(t, orthanctest.Options{})
	const study = "1.2.826.0.1.3680043.10.1107.17.9"
	const series = study + ".1"
	const n = 12
	files, err := cachetest.WriteCTSeries(cachetest.CTSeries{
		Dir: t.TempDir(), StudyUID: study, SeriesUID: series, SeriesNumber: 1, Slices: n, Size: 256, Seed: 6,
	})
	if err != nil {
		t.Fatal(err)
	}
	var data [][]byte
	stored := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		data = append(data, b)
		stored[sopOf(t, b)] = b
	}
	uploadAll(t, srv, data)
	cachedBefore := map[string]bool{} // slices 1, 3, 5, ...
	for i := 0; i < n; i += 2 {
		cachedBefore[sopOf(t, data[i])] = true
	}
	const missing = n / 2

	every := func(d time.Duration) func(*http.Request) time.Duration {
		return func(*http.Request) time.Duration { return d }
	}
	// An archive slow to answer each instance asked for in JPEG-LS (not the
	// probe, asked as stored): the first single request shows it.
	slowSingles := func(r *http.Request) time.Duration {
		if strings.Contains(r.URL.Path, "/instances/") && strings.Contains(r.Header.Get("Accept"), SyntaxJPEGLSLossless) {
			return 1500 * time.Millisecond
		}
		return 0
	}
	for _, link := range []struct {
		name   string
		hold   func(*http.Request) time.Duration
		batch  bool // want one series request
		wantRq int  // retrieves at the proxy, the probe included
	}{
		{"high round trip", every(600 * time.Millisecond), true, 2},
		{"low round trip", nil, false, missing + 1},
		{"slow single requests", slowSingles, true, 3},
	} {
		for _, kind := range []string{"cache", "store"} {
			t.Run(link.name+"/"+kind, func(t *testing.T) {
				c, err := cache.OpenTemp(t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				for i := 0; i < n; i += 2 {
					if _, err := c.Import(bytes.NewReader(data[i]), files[i]); err != nil {
						t.Fatal(err)
					}
				}
				var store Store = c
				once := &onceStore{c: c, stored: map[string]int{}}
				if kind == "store" {
					store = once
				}
				front, rt := newDelayedLinkFront(t, srv, 5e5, link.hold) // 4 Mbit/s
				client := newTestClient(t, front.URL, func(cfg *Config) {
					cfg.TransferSyntaxes, cfg.Transport = nil, rt // the link decides
				})
				p := &Puller{Client: client, Store: store}
				fetched, _, err := p.FetchStudy(context.Background(), study)
				if err != nil || fetched != missing {
					t.Fatalf("fetch: %d of %d missing fetched, %v", fetched, missing, err)
				}
				est := client.LinkEstimate()
				front.mu.Lock()
				retrieves := append([]string(nil), front.retrieves...)
				front.mu.Unlock()
				seriesRequests := 0
				for _, r := range retrieves {
					if strings.HasSuffix(r, "/series/"+series) {
						seriesRequests++
					}
				}
				if link.batch && (len(retrieves) >= missing || seriesRequests != 1) {
					t.Errorf("%d retrieves (%d of the series) for %d missing slices over %+v: want fewer requests than slices, one series request\n%s",
						len(retrieves), seriesRequests, missing, est, strings.Join(retrieves, "\n"))
				}
				if len(retrieves) != link.wantRq || (!link.batch && seriesRequests != 0) {
					t.Errorf("%d retrieves (%d of the series) over %+v, want %d\n%s",
						len(retrieves), seriesRequests, est, link.wantRq, strings.Join(retrieves, "\n"))
				}

				insts, err := c.StudyInstances(study)
				if err != nil || len(insts) != n {
					t.Fatalf("cached: %d instances, %v; want %d", len(insts), err, n)
				}
				for _, in := range insts {
					st, err := c.OpenStored(in.SOPInstanceUID)
					if err != nil {
						t.Fatal(err)
					}
					b := make([]byte, st.Size())
					_, err = st.ReadAt(b, 0)
					st.Close()
					if err != nil {
						t.Fatal(err)
					}
					switch {
					case cachedBefore[in.SOPInstanceUID]:
						if !bytes.Equal(b, stored[in.SOPInstanceUID]) {
							t.Errorf("%s, cached before, changed", in.SOPInstanceUID)
						}
					case syntaxOf(t, b) != SyntaxJPEGLSLossless:
						t.Errorf("%s arrived in %s over a slow link, want JPEG-LS", in.SOPInstanceUID, syntaxOf(t, b))
					case !reflect.DeepEqual(pixels(t, b, "cached "+in.SOPInstanceUID), pixels(t, stored[in.SOPInstanceUID], "stored")):
						t.Errorf("%s: pixels differ from the archive's", in.SOPInstanceUID)
					}
				}
				if kind == "store" {
					once.mu.Lock()
					defer once.mu.Unlock()
					for sop, k := range once.stored {
						if k != 1 || cachedBefore[sop] {
							t.Errorf("%s handed to the store %d times (cached before: %v)", sop, k, cachedBefore[sop])
						}
					}
					if len(once.stored) != missing {
						t.Errorf("%d instances handed to the store, want the %d missing: %v", len(once.stored), missing, fmt.Sprint(once.stored))
					}
				}
			})
		}
	}
}

// TestFetchInstanceJumpsAPartlyCachedSeries: over a link whose estimate
// (kept from an earlier sync) makes the puller bring a partly cached series
// with one series request, that request is held at a gate in front of a
// real Orthanc while the reader scrolls onto a missing slice: the slice is
// durable while the request is held, and once the request goes on, the pull
// ends ready with every slice handed to the store exactly once (the series
// stream drops the slice fetched meanwhile, as it drops the cached ones).
func TestFetchInstanceJumpsAPartlyCachedSeries(t *testing.T) {
	srv := orthanctest.New(t, orthanctest.Options{})
	const study = "1.2.826.0.1.3680043.10.1107.17.10"
	const series = study + ".1"
	const n = 12
	files, err := cachetest.WriteCTSeries(cachetest.CTSeries{
		Dir: t.TempDir(), StudyUID: study, SeriesUID: series, SeriesNumber: 1, Slices: n, Size: 256, Seed: 7,
	})
	if err != nil {
		t.Fatal(err)
	}
	var data [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		data = append(data, b)
	}
	uploadAll(t, srv, data)
	c, err := cache.OpenTemp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < n; i += 2 { // slices 1, 3, 5, ... cached
		if _, err := c.Import(bytes.NewReader(data[i]), files[i]); err != nil {
			t.Fatal(err)
		}
	}
	store := &onceStore{c: c, stored: map[string]int{}}

	gate := make(chan struct{})
	held := make(chan struct{}, 1)
	var seriesRequests int
	var mu gosync.Mutex
	target, _ := url.Parse(srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/series/"+series) && strings.Contains(r.Header.Get("Accept"), "multipart/related") {
			mu.Lock()
			seriesRequests++
			mu.Unlock()
			select {
			case held <- struct{}{}:
			default:
			}
			<-gate
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	// What an earlier sync measured: 8 Mbit/s and 600 ms to answer a
	// retrieve, so six missing slices cost more in requests than six cached
	// ones (132 KB each) take again.
	statsPath := filepath.Join(t.TempDir(), "links.json")
	stats, err := OpenLinkStats(statsPath)
	if err != nil {
		t.Fatal(err)
	}
	client := newTestClient(t, front.URL+"/dicom-web", func(cfg *Config) { cfg.TransferSyntaxes, cfg.LinkStats = nil, stats })
	now := time.Now().UTC()
	if err := stats.put(client.BaseURL(), LinkEstimate{StoredMbps: 8, RTTMillis: 600, RequestMillis: 600, StoredAt: now, At: now}); err != nil {
		t.Fatal(err)
	}
	client.UseLinkStats(stats)
	p := &Puller{Client: client, Store: store}
	type outcome struct {
		n   int
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		n, _, err := p.FetchStudy(context.Background(), study)
		done <- outcome{n, err}
	}()
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		close(gate)
		t.Fatal("the pull never asked for the series")
	}
	sop := fmt.Sprintf("%s.%d", series, 8) // missing (even Instance Numbers are)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = p.FetchInstance(ctx, study, series, sop)
	has, herr := c.HasInstance(sop)
	select {
	case <-done:
		t.Error("the pull ended while its series request was held")
	default:
	}
	close(gate)
	if err != nil || herr != nil || !has {
		t.Errorf("FetchInstance: %v; durable %v (%v)", err, has, herr)
	}
	out := <-done
	if out.err != nil {
		t.Fatal(out.err)
	}
	if insts, err := c.StudyInstances(study); err != nil || len(insts) != n {
		t.Fatalf("cached: %d instances, %v; want %d", len(insts), err, n)
	}
	mu.Lock()
	if seriesRequests != 1 {
		t.Errorf("%d series requests, want 1", seriesRequests)
	}
	mu.Unlock()
	store.mu.Lock()
	defer store.mu.Unlock()
	for s, k := range store.stored {
		if k != 1 {
			t.Errorf("%s handed to the store %d times", s, k)
		}
	}
	if len(store.stored) != n/2 || store.stored[sop] != 1 {
		t.Errorf("handed to the store: %v; want the %d missing slices once each, %s among them", store.stored, n/2, sop)
	}
}
