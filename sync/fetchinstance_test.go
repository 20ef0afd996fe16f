package sync

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"teleread/cache"
	"teleread/cache/cachetest"
	"teleread/sync/orthanctest"
)

// TestFetchInstanceJumpsTheQueue holds the pull's series retrieve at a gate
// in front of a real Orthanc and asks for one slice meanwhile: the slice
// must be durable while the series retrieve is still held, and the pull,
// once let go, must still end with the study ready and every instance
// counted once.
func TestFetchInstanceJumpsTheQueue(t *testing.T) {
	srv := orthanctest.New(t, orthanctest.Options{})
	const study = "1.2.826.0.1.3680043.10.1107.17.5"
	const n = 10
	files, err := cachetest.WriteCTSeries(cachetest.CTSeries{
		Dir: t.TempDir(), StudyUID: study, SeriesUID: study + ".1", SeriesNumber: 1, Slices: n, Size: 64, Seed: 5,
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

	gate := make(chan struct{})
	held := make(chan struct{}, 1)
	target, _ := url.Parse(srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bulk := strings.Contains(r.Header.Get("Accept"), "multipart/related") && !strings.Contains(r.URL.Path, "/instances/")
		if bulk {
			select {
			case held <- struct{}{}:
			default:
			}
			<-gate
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()

	c, err := cache.OpenTemp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	client := newTestClient(t, front.URL+"/dicom-web", func(cfg *Config) { cfg.TransferSyntaxes = []string{SyntaxAsStored} })
	p := &Puller{Client: client, Store: c, Reader: "Reader^A", Worklist: &Query{Match: []Param{{"StudyInstanceUID", study}}}}
	type outcome struct {
		res *PullResult
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := p.Pull(context.Background())
		done <- outcome{res, err}
	}()
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		close(gate)
		t.Fatal("the pull never asked for the series")
	}
	sop := fmt.Sprintf("%s.1.%d", study, 7)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = p.FetchInstance(ctx, study, study+".1", sop)
	has, herr := c.HasInstance(sop)
	select {
	case <-done:
		t.Error("the pull ended while its retrieve was held")
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
	if out.res.Fetched != n || len(out.res.Ready) != 1 {
		t.Fatalf("fetched %d of %d, ready %v, failed %v", out.res.Fetched, n, out.res.Ready, out.res.Failed)
	}
}
