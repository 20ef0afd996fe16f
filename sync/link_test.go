package sync

import (
	"bytes"
	"context"
	"io"
	"net"
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

// TestChooseLink is the link policy: configured syntaxes win; loopback and a
// fast measured link get the stored bytes; a slow measured link and an
// unmeasured one get the compressed list; a transcoded measure can show a link
// fast, never slow (the archive's transcoder may be what held it back).
func TestChooseLink(t *testing.T) {
	const fast = 300
	tests := []struct {
		name       string
		configured bool
		loopback   bool
		est        LinkEstimate
		want       LinkChoice
	}{
		{"configured beats loopback", true, true, LinkEstimate{}, LinkConfigured},
		{"configured beats a fast link", true, false, LinkEstimate{StoredMbps: 900}, LinkConfigured},
		{"loopback, nothing measured", false, true, LinkEstimate{}, LinkFast},
		{"loopback measured slow", false, true, LinkEstimate{StoredMbps: 5}, LinkFast},
		{"nothing measured", false, false, LinkEstimate{}, LinkUnknown},
		{"only a round trip", false, false, LinkEstimate{RTTMillis: 40}, LinkUnknown},
		{"stored 50 Mbit/s", false, false, LinkEstimate{StoredMbps: 50}, LinkSlow},
		{"stored 200 Mbit/s", false, false, LinkEstimate{StoredMbps: 200}, LinkSlow},
		{"stored at the threshold", false, false, LinkEstimate{StoredMbps: 300}, LinkFast},
		{"stored 940 Mbit/s", false, false, LinkEstimate{StoredMbps: 940}, LinkFast},
		{"transcoded slow says nothing", false, false, LinkEstimate{TranscodedMbps: 70}, LinkUnknown},
		{"transcoded fast", false, false, LinkEstimate{TranscodedMbps: 400}, LinkFast},
		{"stored slow, transcoded fast", false, false, LinkEstimate{StoredMbps: 100, TranscodedMbps: 400}, LinkFast},
		{"stored slow, transcoded slow", false, false, LinkEstimate{StoredMbps: 100, TranscodedMbps: 90}, LinkSlow},
		// A loaded archive at 200 Mbit/s: JPEG-LS brought the pixels at 51.
		{"stored beats a slow transcoder", false, false, LinkEstimate{StoredMbps: 238, TranscodedMbps: 16, UncompressedMbps: 51}, LinkFast},
		// 50 Mbit/s: JPEG-LS brought the pixels at 160.
		{"compressed beats the link", false, false, LinkEstimate{StoredMbps: 49, TranscodedMbps: 49, UncompressedMbps: 160}, LinkSlow},
		{"stored equal to compressed", false, false, LinkEstimate{StoredMbps: 120, UncompressedMbps: 120}, LinkFast},
		{"compressed pixels but no stored measure", false, false, LinkEstimate{TranscodedMbps: 20, UncompressedMbps: 60}, LinkUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ChooseLink(tt.configured, tt.loopback, tt.est, fast); got != tt.want {
				t.Errorf("ChooseLink = %v, want %v", got, tt.want)
			}
		})
	}
}

// throttle passes a response body on at rate bytes per second.
type throttle struct {
	r     io.ReadCloser
	rate  float64
	start time.Time
	n     int64
}

func (t *throttle) Read(p []byte) (int, error) {
	if t.start.IsZero() {
		t.start = time.Now()
	}
	k, err := t.r.Read(p[:min(len(p), 16<<10)])
	t.n += int64(k)
	if wait := time.Until(t.start.Add(time.Duration(float64(t.n) / t.rate * float64(time.Second)))); wait > 0 {
		time.Sleep(wait)
	}
	return k, err
}

func (t *throttle) Close() error { return t.r.Close() }

// linkFront is a proxy in front of Orthanc that passes bodies at rate bytes
// per second (0: as fast as it can), holds each request for what hold says
// before passing it on (a round trip that tbf cannot add, or a slow archive),
// and records the Accept header and path of each retrieve. The client reaches it by a name that is
// not this machine's (archive.invalid), so that the policy must measure the
// link rather than trust loopback.
type linkFront struct {
	URL       string // the DICOMweb root as the client names it
	mu        gosync.Mutex
	accepts   []string
	retrieves []string // the paths of the retrieves, in order
}

func newLinkFront(t *testing.T, srv *orthanctest.Server, rate float64) (*linkFront, http.RoundTripper) {
	return newDelayedLinkFront(t, srv, rate, nil)
}

func newDelayedLinkFront(t *testing.T, srv *orthanctest.Server, rate float64, hold func(*http.Request) time.Duration) (*linkFront, http.RoundTripper) {
	target, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	lf := &linkFront{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.FlushInterval = -1
	proxy.ModifyResponse = func(r *http.Response) error {
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/related") {
			lf.mu.Lock()
			lf.accepts = append(lf.accepts, r.Request.Header.Get("Accept"))
			lf.retrieves = append(lf.retrieves, r.Request.URL.Path)
			lf.mu.Unlock()
		}
		if rate > 0 {
			r.Body = &throttle{r: r.Body, rate: rate}
		}
		return nil
	}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hold != nil {
			time.Sleep(hold(r))
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	addr := strings.TrimPrefix(front.URL, "http://")
	_, port, _ := net.SplitHostPort(addr)
	lf.URL = "http://archive.invalid:" + port + "/dicom-web"
	var d net.Dialer
	return lf, &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
		IdleConnTimeout: 800 * time.Millisecond,
	}
}

// TestLinkPolicyOrthanc pulls a study stored uncompressed (four 512x512
// 8-bit images) from a real Orthanc with the transfer syntaxes left to the
// link policy, into a real cache:
//   - on loopback, the puller asks for the stored bytes: every cached file
//     is the archive's stored copy byte for byte, in its stored syntax (Orthanc
//     transcoded nothing);
//   - behind a link throttled to 16 Mbit/s, the puller measures the link
//     (one instance as stored), finds it slow, and the study arrives in
//     JPEG-LS lossless, pixel for pixel the stored one; the estimate is kept
//     in the home's links.json, and a new client reads it back;
//   - behind the same link unthrottled, with a threshold the loopback proxy
//     surely exceeds, the measured link is fast: the stored bytes.
func TestLinkPolicyOrthanc(t *testing.T) {
	man := loadManifest(t)
	srv := orthanctest.New(t, orthanctest.Options{})
	const n = 4
	e := man["sc_voi_lut_sequence"]
	study := e.Info.StudyInstanceUID
	paths, err := cachetest.MakeSeries(corpusPath(e), t.TempDir(), n)
	if err != nil {
		t.Fatal(err)
	}
	srv.MustUploadFiles(t, paths...)
	var files [][]byte
	stored := map[string][]byte{}
	for _, p := range paths {
		f, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
		stored[sopOf(t, f)] = f
	}

	pull := func(t *testing.T, base string, rt http.RoundTripper, fastMbps float64, stats *LinkStats) (*Client, *cache.Cache) {
		t.Helper()
		client := newTestClient(t, base, func(cfg *Config) {
			cfg.TransferSyntaxes = nil // the link decides
			cfg.Transport = rt
			cfg.LinkFastMbps = fastMbps
			cfg.LinkStats = stats
		})
		c, err := cache.OpenTemp(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		p := &Puller{Client: client, Store: c}
		if _, _, err := p.FetchStudy(context.Background(), study); err != nil {
			t.Fatalf("fetch study: %v", err)
		}
		return client, c
	}
	cached := func(t *testing.T, c *cache.Cache) map[string][]byte {
		t.Helper()
		insts, err := c.StudyInstances(study)
		if err != nil || len(insts) != n {
			t.Fatalf("cached instances: %d, %v; want %d", len(insts), err, n)
		}
		out := map[string][]byte{}
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
			out[in.SOPInstanceUID] = b
		}
		return out
	}
	storedSyntax := syntaxOf(t, files[0])
	if storedSyntax != "1.2.840.10008.1.2.1" {
		t.Fatalf("the study is stored in %s, want explicit VR little endian", storedSyntax)
	}

	t.Run("loopback", func(t *testing.T) {
		client, c := pull(t, srv.DICOMwebURL, nil, 0, nil)
		if got := client.LinkChoice(); got != LinkFast {
			t.Errorf("choice %v on loopback, want %v", got, LinkFast)
		}
		for sop, b := range cached(t, c) {
			if ts := syntaxOf(t, b); ts != storedSyntax {
				t.Errorf("%s cached in %s, stored in %s: the archive transcoded it", sop, ts, storedSyntax)
			}
			if !bytes.Equal(b, stored[sop]) {
				t.Errorf("%s: not the stored bytes", sop)
			}
		}
	})

	t.Run("throttled", func(t *testing.T) {
		front, rt := newLinkFront(t, srv, 2e6) // 16 Mbit/s
		statsPath := filepath.Join(t.TempDir(), "links.json")
		stats, err := OpenLinkStats(statsPath)
		if err != nil {
			t.Fatal(err)
		}
		client, c := pull(t, front.URL, rt, 0, stats)
		est := client.LinkEstimate()
		if est.StoredMbps <= 0 || est.StoredMbps > 40 {
			t.Errorf("measured %v over a 16 Mbit/s link", est)
		}
		if got := client.LinkChoice(); got != LinkSlow {
			t.Errorf("choice %v over a 16 Mbit/s link, want %v", got, LinkSlow)
		}
		if est.UncompressedMbps <= 0 {
			t.Errorf("the JPEG-LS retrieve was not measured: %+v", est)
		}
		for sop, b := range cached(t, c) {
			if ts := syntaxOf(t, b); ts != SyntaxJPEGLSLossless {
				t.Errorf("%s cached in %s over a slow link, want JPEG-LS lossless", sop, ts)
				continue
			}
			if !reflect.DeepEqual(pixels(t, b, "cached "+sop), pixels(t, stored[sop], "stored "+sop)) {
				t.Errorf("%s: JPEG-LS pixels differ from the stored ones", sop)
			}
		}
		front.mu.Lock()
		accepts := front.accepts
		front.mu.Unlock()
		// The probe (one instance as stored), then the series in JPEG-LS.
		if len(accepts) < 2 || !strings.HasSuffix(accepts[0], "transfer-syntax=*; q=0.1") ||
			!strings.HasSuffix(accepts[len(accepts)-1], "transfer-syntax="+SyntaxJPEGLSLossless+"; q=0.9") {
			t.Errorf("Accept headers %q: want the probe as stored, then JPEG-LS", accepts)
		}
		again, err := OpenLinkStats(statsPath)
		if err != nil {
			t.Fatal(err)
		}
		if got := again.Get(client.BaseURL()); got.StoredMbps != est.StoredMbps {
			t.Errorf("links.json holds %+v, want the measured %+v", got, est)
		}
		next := newTestClient(t, front.URL, func(cfg *Config) {
			cfg.TransferSyntaxes, cfg.Transport, cfg.LinkStats = nil, rt, again
		})
		if next.NeedsLinkProbe() || next.LinkChoice() != LinkSlow {
			t.Errorf("a new client with the kept estimate: probe %v, choice %v; want no probe, slow", next.NeedsLinkProbe(), next.LinkChoice())
		}
	})

	t.Run("fast", func(t *testing.T) {
		front, rt := newLinkFront(t, srv, 0)
		client, c := pull(t, front.URL, rt, 20, nil)
		if got := client.LinkChoice(); got != LinkFast {
			t.Errorf("choice %v (%v) over an unthrottled link with a 20 Mbit/s threshold, want %v", got, client.LinkEstimate(), LinkFast)
		}
		for sop, b := range cached(t, c) {
			if !bytes.Equal(b, stored[sop]) {
				t.Errorf("%s: not the stored bytes over a fast link (%s)", sop, syntaxOf(t, b))
			}
		}
	})
}

func sopOf(t *testing.T, b []byte) string {
	t.Helper()
	f, err := dataset.ParseBytes(b, "instance")
	if err != nil {
		t.Fatal(err)
	}
	return f.String(dataset.SOPInstanceUID)
}

func syntaxOf(t *testing.T, b []byte) string {
	t.Helper()
	f, err := dataset.ParseBytes(b, "instance")
	if err != nil {
		t.Fatal(err)
	}
	return f.TransferSyntax
}

// TestPixelSize reads the uncompressed pixel size from the start of every
// explicit VR little endian file of the corpus (every compressed syntax is
// one), against the header values pydicom recorded in the manifest.
func TestPixelSize(t *testing.T) {
	checked := 0
	for id, e := range loadManifest(t) {
		switch e.DICOM.TransferSyntaxUID {
		case "", "1.2.840.10008.1.2", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99":
			continue // implicit VR, big endian, deflated: never what a compressed retrieve brings
		}
		if e.Broken || e.DICOM.Rows == 0 {
			continue
		}
		b, err := os.ReadFile(corpusPath(e))
		if err != nil {
			t.Fatal(err)
		}
		frames := 1
		if e.DICOM.NumberOfFrames != nil && *e.DICOM.NumberOfFrames > 0 {
			frames = *e.DICOM.NumberOfFrames
		}
		want := int64(e.DICOM.Rows) * int64(e.DICOM.Columns) * int64(max(1, e.DICOM.SamplesPerPixel)) * int64((e.DICOM.BitsAllocated+7)/8) * int64(frames)
		if got := pixelSize(b[:min(len(b), headScan)]); got != want {
			t.Errorf("%s: pixelSize %d, want %d", id, got, want)
		}
		checked++
	}
	if checked < 20 {
		t.Errorf("only %d corpus files checked", checked)
	}
}

// TestLinkSummary is the status line's words for the link: the throughput,
// the round trip and the syntax the next retrieve asks for first.
func TestLinkSummary(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name       string
		base       string
		configured []string
		est        LinkEstimate
		want       string
	}{
		{"loopback, nothing measured", "http://127.0.0.1:8042/dicom-web", nil, LinkEstimate{}, "link not measured yet, stored bytes"},
		{"home line", "http://archive.invalid/dicom-web", nil, LinkEstimate{StoredMbps: 48.4, RTTMillis: 31.2, StoredAt: now, At: now}, "48 Mbit/s, round trip 31 ms, JPEG-LS lossless"},
		{"LAN", "http://archive.invalid/dicom-web", nil, LinkEstimate{StoredMbps: 941, RTTMillis: 0.62, StoredAt: now, At: now}, "941 Mbit/s, round trip 0.6 ms, stored bytes"},
		{"not measured yet", "http://archive.invalid/dicom-web", nil, LinkEstimate{}, "link not measured yet, JPEG-LS lossless"},
		{"configured", "http://archive.invalid/dicom-web", []string{SyntaxJPEGLosslessSV1, SyntaxAsStored}, LinkEstimate{StoredMbps: 941, StoredAt: now, At: now}, "941 Mbit/s, JPEG lossless"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestClient(t, tc.base, func(cfg *Config) { cfg.TransferSyntaxes = tc.configured })
			c.link.est = tc.est
			if got := c.LinkSummary(); got != tc.want {
				t.Errorf("LinkSummary() = %q, want %q", got, tc.want)
			}
		})
	}
}
