package sync

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"teleread/cache"
	"teleread/cache/cachetest"
	"teleread/sync/orthanctest"
)

// TestServiceFetchInstance asks the service for one instance of a real
// Orthanc's study that no worklist assigns: before Run connects and after it
// returns there is no archive to ask (ErrOffline); while it runs the instance
// becomes durable at once.
func TestServiceFetchInstance(t *testing.T) {
	srv := orthanctest.New(t, orthanctest.Options{})
	const study = "1.2.826.0.1.3680043.10.1107.17.11"
	files, err := cachetest.WriteCTSeries(cachetest.CTSeries{
		Dir: t.TempDir(), StudyUID: study, SeriesUID: study + ".1", SeriesNumber: 1, Slices: 3, Size: 32, Seed: 11,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.MustUploadFiles(t, files...)
	c, err := cache.OpenTemp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var log eventLog
	svc := &Service{Cache: c, Interval: time.Hour, OnEvent: log.add,
		Connect: func(context.Context) (*Link, error) {
			return &Link{Client: newTestClient(t, srv.DICOMwebURL, nil), Reader: "Nobody^Assigned"}, nil
		}}
	sop := fmt.Sprintf("%s.1.%d", study, 2)
	ctx := context.Background()
	if err := svc.FetchInstance(ctx, study, study+".1", sop); !errors.Is(err, ErrOffline) {
		t.Errorf("before Run: %v; want ErrOffline", err)
	}

	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(rctx) }()
	waitUntil(t, 30*time.Second, "the service to connect", func() bool {
		for _, e := range log.snapshot() {
			if e.Kind == Connected && e.Err == nil {
				return true
			}
		}
		return false
	})
	if err := svc.FetchInstance(ctx, study, study+".1", sop); err != nil {
		t.Errorf("while running: %v", err)
	}
	if has, err := c.HasInstance(sop); err != nil || !has {
		t.Errorf("after FetchInstance the instance is durable: %v (%v)", has, err)
	}
	if n, err := c.StudyInstances(study); err != nil || len(n) != 1 {
		t.Errorf("the cache holds %d instances of the study (%v); want only the one asked for", len(n), err)
	}

	cancel()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if err := svc.FetchInstance(ctx, study, study+".1", fmt.Sprintf("%s.1.%d", study, 3)); !errors.Is(err, ErrOffline) {
		t.Errorf("after Run returned: %v; want ErrOffline", err)
	}
}
