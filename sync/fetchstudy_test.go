package sync

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"teleread/cache"
	"teleread/sync/orthanctest"
)

// TestFetchStudyOrthanc fetches one study by its UID (what `open URL`
// does) from a real Orthanc, directly and through a stand-in that refuses
// every search as a link granting WADO-RS alone would (404): both ways every
// instance is durable in the cache; without the search the study comes in
// one study retrieve. A study the archive does not have is ErrNotFound.
func TestFetchStudyOrthanc(t *testing.T) {
	man := loadManifest(t)
	srv := orthanctest.New(t, orthanctest.Options{})
	const n = 6
	study, files := syntheticStudy(t, man["ct2_jpeg_lossless_sv1"], n, 41)
	uploadAll(t, srv, files)

	target, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var searches, retrieves atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Accept"), "json") {
			searches.Add(1)
			http.NotFound(w, r)
			return
		}
		retrieves.Add(1)
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()

	tests := []struct {
		name string
		base string
	}{
		{"with QIDO-RS", srv.DICOMwebURL},
		{"WADO-RS alone", front.URL + "/dicom-web"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := cache.OpenTemp(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			p := &Puller{Client: newTestClient(t, tt.base, nil), Store: c}
			got, bytes, err := p.FetchStudy(context.Background(), study)
			if err != nil {
				t.Fatalf("fetch study: %v", err)
			}
			if stored, _ := c.StudyInstanceCount(study); got != n || stored != n || bytes <= 0 {
				t.Errorf("fetched %d instances (%d bytes), %d in the cache; want %d", got, bytes, stored, n)
			}
		})
	}
	if searches.Load() == 0 || retrieves.Load() != 1 {
		t.Errorf("through the stand-in: %d searches refused, %d retrieves; want the study in one retrieve", searches.Load(), retrieves.Load())
	}

	c, err := cache.OpenTemp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p := &Puller{Client: newTestClient(t, srv.DICOMwebURL, nil), Store: c}
	if _, _, err := p.FetchStudy(context.Background(), "1.2.3.4.5.6.7.8.9"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a study the archive lacks: %v, want ErrNotFound", err)
	}
}
