package sync

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"

	"teleread/cache"
	"teleread/sync/orthanctest"
)

// TestPullIntoCacheSurvivesArchiveCrash runs the puller against the real cache
// (group commits, the no-listing fast path for a study it has nothing of) and
// kills Orthanc part-way through the study: the study is not ready, the
// cache verifies, and after a restart the next pull fetches exactly what is
// missing.
func TestPullIntoCacheSurvivesArchiveCrash(t *testing.T) {
	man := loadManifest(t)
	srv := orthanctest.New(t, orthanctest.Options{})
	study, files := syntheticStudy(t, man["ct2_jpeg_lossless_sv1"], 250, 7) // ~41 MB, more than socket buffers hold
	uploadAll(t, srv, files)

	c, err := cache.OpenTemp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A proxy in front of Orthanc cuts the study retrieve after 20 MB and
	// kills Orthanc then, so the crash always falls mid-study, whatever the
	// timing of staging and commits.
	var kill gosync.Once
	var cutting atomic.Bool
	cutting.Store(true)
	target, _ := url.Parse(srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(r *http.Response) error {
		// A study or series retrieve (multipart), not a QIDO or one instance.
		bulk := strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/related") && !strings.Contains(r.Request.URL.Path, "/instances/")
		if cutting.Load() && bulk {
			r.Body = &cutBody{r: r.Body, left: 20 << 20, cut: func() { kill.Do(srv.Kill) }}
		}
		return nil
	}
	front := httptest.NewServer(proxy)
	defer front.Close()
	client := newTestClient(t, front.URL+"/dicom-web", func(cfg *Config) { cfg.MaxRetries = 1 })
	wl := Query{Match: []Param{{"StudyInstanceUID", study}}}
	p := &Puller{Client: client, Store: c, Reader: "Reader^A", Worklist: &wl}
	ctx := context.Background()
	res, err := p.Pull(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := c.StudyInstanceCount(study)
	w, _ := c.WorkItemByUID(study)
	if len(res.Ready) != 0 || w.State == StateReady || got == 0 || got >= len(files) {
		t.Fatalf("after the crash: ready %v, state %s, %d of %d stored", res.Ready, w.State, got, len(files))
	}
	if probs, err := c.Verify(); err != nil || len(probs) != 0 {
		t.Fatalf("verify after the crash: %v %v", probs, err)
	}

	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	cutting.Store(false)
	res, err = p.Pull(ctx)
	if err != nil || len(res.Ready) != 1 {
		t.Fatalf("pull after restart: %+v, %v", res, err)
	}
	if res.Fetched != len(files)-got {
		t.Errorf("fetched %d after restart with %d of %d stored: something was fetched twice", res.Fetched, got, len(files))
	}
	if n, _ := c.StudyInstanceCount(study); n != len(files) {
		t.Errorf("%d instances stored, want %d", n, len(files))
	}
	if w, _ := c.WorkItemByUID(study); w.State != StateReady || w.Done != len(files) {
		t.Errorf("after restart: %+v", w)
	}
}

// TestPullStreamsBigParts sends every part down the path of instances too big
// to read whole (a long cine): staged while it streams, in order. The study is
// ready, every instance byte-identical to what was uploaded, the cache
// verifies.
func TestPullStreamsBigParts(t *testing.T) {
	stageInMemory = 32 << 10
	defer func() { stageInMemory = 16 << 20 }()
	man := loadManifest(t)
	srv := orthanctest.New(t, orthanctest.Options{})
	study, files := syntheticStudy(t, man["ct2_jpeg_lossless_sv1"], 30, 8)
	uploadAll(t, srv, files)
	c, err := cache.OpenTemp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	client := newTestClient(t, srv.DICOMwebURL, nil)
	p := &Puller{Client: client, Store: c, Reader: "Reader^A", Worklist: &Query{Match: []Param{{"StudyInstanceUID", study}}}}
	res, err := p.Pull(context.Background())
	if err != nil || res.Fetched != len(files) || len(res.Ready) != 1 {
		t.Fatalf("pull: %+v, %v", res, err)
	}
	want := map[string]bool{}
	for _, f := range files {
		want[sha(f)] = true
	}
	insts, err := c.AllInstances()
	if err != nil || len(insts) != len(files) {
		t.Fatalf("%d instances stored (%v), want %d", len(insts), err, len(files))
	}
	for _, in := range insts {
		data, err := storedBytes(c, in.SOPInstanceUID) // sealed on disk
		if err != nil || !want[sha(data)] {
			t.Errorf("%s: not one of the uploaded files (%v)", in.SOPInstanceUID, err)
		}
	}
	if probs, err := c.Verify(); err != nil || len(probs) != 0 {
		t.Errorf("verify: %v %v", probs, err)
	}
}

// cutBody ends a response body with an error after left bytes, calling cut.
type cutBody struct {
	r    io.ReadCloser
	left int64
	cut  func()
}

func (b *cutBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		b.cut()
		return 0, io.ErrUnexpectedEOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cutBody) Close() error { return b.r.Close() }

// BenchmarkPullIntoCache pulls a synthetic 300-instance study (as
// BenchmarkRetrieveStudy) into a fresh cache per iteration: what `make bench`
// times as "puller", here for profiling.
func BenchmarkPullIntoCache(b *testing.B) {
	man := loadManifest(b)
	srv := orthanctest.New(b, orthanctest.Options{})
	study, files := syntheticStudy(b, man["ct2_jpeg_lossless_sv1"], 300, 7)
	uploadAll(b, srv, files)
	var total int64
	for _, f := range files {
		total += int64(len(f))
	}
	client := newTestClient(b, srv.DICOMwebURL, nil)
	wl := Query{Match: []Param{{"StudyInstanceUID", study}}}
	b.SetBytes(total)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		c, err := cache.OpenTemp(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		p := &Puller{Client: client, Store: c, Reader: "Reader^A", Worklist: &wl}
		b.StartTimer()
		res, err := p.Pull(ctx)
		if err != nil || res.Fetched != len(files) {
			b.Fatalf("pull: %v, fetched %d", err, res.Fetched)
		}
		b.StopTimer()
		c.Close()
		b.StartTimer()
	}
}

// storedBytes returns a cached instance's bytes as the cache hands them out.
func storedBytes(c *cache.Cache, sop string) ([]byte, error) {
	st, err := c.OpenStored(sop)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	b := make([]byte, st.Size())
	_, err = st.ReadAt(b, 0)
	return b, err
}
