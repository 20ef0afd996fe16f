package sync

import (
	"context"
	gosync "sync"
	"testing"

	"teleread/cache"
	"teleread/sync/orthanctest"
)

// TestPullIntoCacheSurvivesArchiveCrash runs the puller against the real cache
// (group commits, the no-listing fast path for a study it has nothing of) and
// kills Orthanc once the first group is durable: the study is not ready, the
// cache verifies, and after a restart the next pull fetches exactly what is
// missing.
func TestPullIntoCacheSurvivesArchiveCrash(t *testing.T) {
	man := loadManifest(t)
	srv := orthanctest.New(t, orthanctest.Options{})
	study, files := syntheticStudy(t, man["ct_small_explicit_le"], 2*batchSize+50, 7)
	uploadAll(t, srv, files)

	c, err := cache.OpenTemp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var kill gosync.Once
	client := newTestClient(t, srv.DICOMwebURL, func(cfg *Config) { cfg.MaxRetries = 1 })
	wl := Query{Match: []Param{{"StudyInstanceUID", study}}}
	p := &Puller{Client: client, Store: c, Reader: "Reader^A", Worklist: &wl, OnEvent: func(e Event) {
		if e.Kind == StudyProgress && e.Done > 0 {
			kill.Do(srv.Kill)
		}
	}}
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
	p.OnEvent = nil
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
