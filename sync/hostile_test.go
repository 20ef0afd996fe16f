package sync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// endlessZeros writes zeros until the client goes away.
type endlessZeros struct{}

func (endlessZeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestRetrieveEndlessPart: an archive that sends one endless part filled 8
// GB of tmp/ in 33 s. The part is cut off at MaxPartBytes, whether or not it
// announced a length, and the error says so; with a Content-Length, at it.
func TestRetrieveEndlessPart(t *testing.T) {
	tests := []struct {
		name   string
		header string
		max    int64
		want   string
	}{
		{"no length, ceiling", "", 4 << 20, "longer than 4194304 bytes (max_part_mb): cut off"},
		{"announced 1000 bytes", "Content-Length: 1000\r\n", 4 << 20, "longer than its Content-Length 1000: cut off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", `multipart/related; type="application/dicom"; boundary=b`)
				io.WriteString(w, "--b\r\nContent-Type: application/dicom\r\n"+tt.header+"\r\n")
				io.Copy(w, endlessZeros{})
			}))
			defer srv.Close()
			c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.MaxPartBytes = tt.max; cfg.MaxRetries = -1 })
			var read int64
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := c.RetrieveStudy(ctx, "1.2.3", func(p io.Reader) error {
				n, err := io.Copy(io.Discard, p)
				read += n
				return err
			})
			if !errors.Is(err, ErrBadResponse) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want ErrBadResponse saying %q", err, tt.want)
			}
			if read > tt.max+retrieveBuffer {
				t.Errorf("the sink read %d bytes, ceiling %d", read, tt.max)
			}
		})
	}
}

// smallStudies returns a JSON array of n small study objects starting at uid
// number from.
func smallStudies(from, n int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"0020000D":{"vr":"UI","Value":["1.2.%d"]}}`, from+i)
	}
	b.WriteByte(']')
	return b.String()
}

// TestQIDOEndlessPages: an archive that fills every page was paged through
// forever (402 pages, 40,100 studies after 20 s). SearchAll stops at
// MaxResults and says so.
func TestQIDOEndlessPages(t *testing.T) {
	var pages atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := pages.Add(1)
		w.Header().Set("Content-Type", "application/dicom+json")
		io.WriteString(w, smallStudies(int(n)*1000, 100))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.MaxResults = 250; cfg.MaxRetries = -1 })
	seen := 0
	err := c.SearchAll(context.Background(), "/studies", Query{}, 100, func(Object) error { seen++; return nil })
	if !errors.Is(err, ErrTooManyResults) || !strings.Contains(err.Error(), "GET /studies: too many results: more than 250 results (max_results)") {
		t.Fatalf("got %v, want ErrTooManyResults saying where it stopped", err)
	}
	if seen != 250 || pages.Load() != 3 {
		t.Errorf("%d results from %d pages, want 250 from 3", seen, pages.Load())
	}
}

// TestQIDOArchiveTruncates: an archive whose own maximum is below the page
// asked for sends a short page with a 299 Warning saying results were left
// out (PS3.18). Taking that short page for the last one made a partial
// worklist look complete; a one-page search so marked is refused.
func TestQIDOArchiveTruncates(t *testing.T) {
	const total, archiveMax = 75, 30
	warning := `299 archive: "The number of results exceeded the maximum supported by the server. Additional results can be requested."`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		n := min(archiveMax, max(0, total-offset))
		if offset+n < total {
			w.Header().Set("Warning", warning)
		}
		w.Header().Set("Content-Type", "application/dicom+json")
		io.WriteString(w, smallStudies(offset, n))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.MaxRetries = -1 })
	seen := map[string]bool{}
	err := c.SearchAll(context.Background(), "/studies", Query{}, 100, func(o Object) error {
		seen[o.StudyUID()] = true
		return nil
	})
	if err != nil || len(seen) != total {
		t.Errorf("paged search: %d distinct results, error %v; want all %d", len(seen), err, total)
	}
	_, err = c.SearchStudies(context.Background(), Query{})
	if !errors.Is(err, ErrTooManyResults) || !strings.Contains(err.Error(), "GET /studies") {
		t.Errorf("one-page search of a truncated answer: got %v, want ErrTooManyResults naming the request", err)
	}
}

// TestOversizedJSON: a 250 MB answer of small objects cost 5.9 GB. Answers
// over MaxJSONBytes (16 MiB by default) or with more objects than MaxResults
// are refused, and refusing them allocates a bounded amount.
func TestOversizedJSON(t *testing.T) {
	big := smallStudies(0, 500000) // about 22 MB
	fits := smallStudies(0, 20000) // under 1 MB, over the default MaxResults
	tests := []struct {
		name    string
		body    string
		wantErr error
		want    string
	}{
		{"over MaxJSONBytes", big, ErrBadResponse, "JSON answer over 16777216 bytes"},
		{"over MaxResults", fits, ErrTooManyResults, "more than 10000 in one answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/dicom+json")
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.MaxRetries = -1 })
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := c.SearchStudies(context.Background(), Query{})
			runtime.ReadMemStats(&after)
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %v saying %q", err, tt.wantErr, tt.want)
			}
			// Reading 16 MiB grows a buffer by doubling: about 32 MiB in all.
			if got := after.TotalAlloc - before.TotalAlloc; got > 48<<20*raceSlack {
				t.Errorf("allocated %d MiB refusing it", got>>20)
			}
		})
	}
}
