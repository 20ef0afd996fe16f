package sync

import (
	"context"
	"encoding/binary"
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

	"teleread/viewer/dataset/hostiletest"
)

// endlessZeros writes zeros until the client goes away.
type endlessZeros struct{}

func (endlessZeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// implicitElement encodes one element in implicit VR little endian.
func implicitElement(group, elem uint16, v string) []byte {
	if len(v)%2 == 1 {
		v += "\x00"
	}
	b := binary.LittleEndian.AppendUint16(nil, group)
	b = binary.LittleEndian.AppendUint16(b, elem)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

// TestRetrieveEndlessPart: an archive that sends one endless part filled 8
// GB of tmp/ in 33 s. The part is cut off at MaxPartBytes, whether or not it
// announced a length, and the error says so; with a Content-Length, at it.
// The error names the instance when the part's first bytes (its meta header,
// else its data set) or its Content-Location say which it was, so that the
// sync that cuts it off can leave it alone from then on.
func TestRetrieveEndlessPart(t *testing.T) {
	const sop = "2.25.140000000000000000000000000000001002" // hostiletest's instance 2
	img := hostiletest.Image{Rows: "2", Cols: "2", Pixel: make([]byte, 8)}
	withMediaSOP := append(append(make([]byte, 128), "DICM"...), hostiletest.Encode(
		hostiletest.Str(0x0002, 0x0003, "UI", "1.2.3.4.5"),
		hostiletest.Str(0x0002, 0x0010, "UI", hostiletest.ExplicitVRLittleEndian))...)
	implicit := append(hostiletest.Meta("1.2.840.10008.1.2"), implicitElement(0x0008, 0x0016, hostiletest.SOPClass)...)
	implicit = append(implicit, implicitElement(0x0008, 0x0018, "1.2.3.4.6")...)
	bigEndian := append(hostiletest.Meta("1.2.840.10008.1.2.2"), implicitElement(0x0008, 0x0018, "1.2.3.4.7")...)
	tests := []struct {
		name    string
		header  string
		start   []byte // the part's first bytes, before the endless zeros
		max     int64
		want    string
		wantSOP string
	}{
		{"no length, ceiling", "", nil, 4 << 20, "longer than 4194304 bytes (max_part_mb): cut off", ""},
		{"announced 1000 bytes", "Content-Length: 1000\r\n", nil, 4 << 20, "longer than its Content-Length 1000: cut off", ""},
		{"a file, its data set names it", "", img.File(2), 4 << 20, "longer than 4194304 bytes (max_part_mb): cut off", sop},
		{"a file, its meta header names it", "", withMediaSOP, 4 << 20, "cut off", "1.2.3.4.5"},
		{"implicit VR data set", "", implicit, 4 << 20, "cut off", "1.2.3.4.6"},
		{"big-endian data set not read", "", bigEndian, 4 << 20, "cut off", ""},
		{"Content-Location", "Content-Location: http://pacs/dicom-web/studies/1.2.3/series/1.2.4/instances/1.2.3.4.8\r\n", nil, 4 << 20, "cut off", "1.2.3.4.8"},
		{"Content-Location not a UID", "Content-Location: http://pacs/instances/x%2F..\r\n", nil, 4 << 20, "cut off", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", `multipart/related; type="application/dicom"; boundary=b`)
				io.WriteString(w, "--b\r\nContent-Type: application/dicom\r\n"+tt.header+"\r\n")
				w.Write(tt.start)
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
			if !errors.Is(err, ErrBadResponse) || !errors.Is(err, ErrCutOff) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want ErrBadResponse and ErrCutOff saying %q", err, tt.want)
			}
			var ce *CutOffError
			if !errors.As(err, &ce) || ce.SOPInstanceUID != tt.wantSOP {
				t.Errorf("got %v, want a *CutOffError naming instance %q", err, tt.wantSOP)
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
