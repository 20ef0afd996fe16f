package sync

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"teleread/internal/allocs"
)

// A stand-in archive for what Orthanc cannot be made to do: broken and
// hostile answers. Each case must give a clear error naming the request,
// never a panic, and never hand a broken part to the sink as whole.

const studyPath = "/dicom-web/studies/1.2.3.4"

func multipartBody(boundary string, parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		fmt.Fprintf(&b, "--%s\r\nContent-Type: application/dicom\r\n\r\n%s\r\n", boundary, p)
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return b.String()
}

// collect is a sink that keeps the parts it read to their end.
type collect struct {
	whole []string
}

func (c *collect) sink(p io.Reader) error {
	b, err := io.ReadAll(p)
	if err != nil {
		return err
	}
	c.whole = append(c.whole, string(b))
	return nil
}

func TestRetrieveFaults(t *testing.T) {
	const bnd = "BOUNDARY42"
	ctMultipart := `multipart/related; type="application/dicom"; boundary=` + bnd
	full := multipartBody(bnd, "part-one", "part-two")
	// Where a cut falls: inside the second part; after its data; after
	// "\r\n--BOUNDARY42" without the final "--"; after a delimiter line
	// that opens a third part that never comes.
	cutInPart := full[:strings.Index(full, "part-two")+4]
	cutAfterData := full[:strings.Index(full, "part-two")+len("part-two")]
	cutAtBoundary := full[:strings.LastIndex(full, "--\r\n")]
	cutAfterDelimiter := strings.TrimSuffix(full, "--"+bnd+"--\r\n") + "--" + bnd + "\r\n"

	tests := []struct {
		name      string
		handler   http.HandlerFunc
		wantParts []string // parts the sink saw whole
		wantErr   error    // sentinel, or nil for success
		wantCode  int      // HTTPError status when not 0
		wantTries int32    // requests the server saw; 0: don't check
	}{
		{name: "whole", handler: serve(200, ctMultipart, full), wantParts: []string{"part-one", "part-two"}, wantTries: 1},
		{name: "final boundary without CRLF", handler: serve(200, ctMultipart, strings.TrimSuffix(full, "\r\n")), wantParts: []string{"part-one", "part-two"}},
		{name: "cut inside a part", handler: serve(200, ctMultipart, cutInPart), wantParts: []string{"part-one"}, wantErr: ErrTruncated},
		{name: "cut after part data", handler: serve(200, ctMultipart, cutAfterData), wantParts: []string{"part-one"}, wantErr: ErrTruncated},
		{name: "cut at boundary", handler: serve(200, ctMultipart, cutAtBoundary), wantParts: []string{"part-one", "part-two"}, wantErr: ErrTruncated},
		{name: "cut after delimiter", handler: serve(200, ctMultipart, cutAfterDelimiter), wantParts: []string{"part-one", "part-two"}, wantErr: ErrTruncated},
		{name: "empty body", handler: serve(200, ctMultipart, ""), wantErr: ErrTruncated},
		{name: "connection dropped mid-stream", handler: dropAfter(ctMultipart, cutInPart), wantParts: []string{"part-one"}, wantErr: ErrTruncated},
		{name: "chunked stream cut", handler: chunkedCut(ctMultipart, cutInPart), wantParts: []string{"part-one"}, wantErr: ErrTruncated},
		{name: "part shorter than Content-Length", handler: serve(200, ctMultipart,
			"--"+bnd+"\r\nContent-Type: application/dicom\r\nContent-Length: 20\r\n\r\nshort\r\n--"+bnd+"--\r\n"), wantErr: ErrTruncated},
		{name: "part longer than Content-Length", handler: serve(200, ctMultipart,
			"--"+bnd+"\r\nContent-Type: application/dicom\r\nContent-Length: 2\r\n\r\nlonger\r\n--"+bnd+"--\r\n"), wantErr: ErrBadResponse},
		{name: "HTML error page with 200", handler: serve(200, "text/html", "<html><body><h1>Proxy error</h1></body></html>"), wantErr: ErrBadResponse},
		{name: "wrong content type", handler: serve(200, "application/octet-stream", full), wantErr: ErrBadResponse},
		{name: "multipart of JSON", handler: serve(200, `multipart/related; type="application/dicom+json"; boundary=`+bnd, full), wantErr: ErrBadResponse},
		{name: "no boundary", handler: serve(200, `multipart/related; type="application/dicom"`, full), wantErr: ErrBadResponse},
		{name: "part of wrong type", handler: serve(200, ctMultipart,
			"--"+bnd+"\r\nContent-Type: text/html\r\n\r\n<html>\r\n--"+bnd+"--\r\n"), wantErr: ErrBadResponse},
		{name: "garbage in multipart", handler: serve(200, ctMultipart,
			"--"+bnd+"\r\nContent-Type: application/dicom\r\n\r\nx\r\n--"+bnd+"\r\nno header end"), wantParts: []string{"x"}, wantErr: ErrBadResponse},
		{name: "cut inside part headers", handler: serve(200, ctMultipart,
			"--"+bnd+"\r\nContent-Type: application/dicom\r\n\r\nx\r\n--"+bnd+"\r\nContent-Type: appl"), wantParts: []string{"x"}, wantErr: ErrTruncated},
		{name: "cut after headers of last part", handler: serve(200, ctMultipart,
			"--"+bnd+"\r\nContent-Type: application/dicom\r\n\r\nx\r\n--"+bnd+"\r\nContent-Type: application/dicom\r\n"), wantParts: []string{"x"}, wantErr: ErrTruncated},
		{name: "epilogue after close", handler: serve(200, ctMultipart, full+"epilogue text\r\n"), wantParts: []string{"part-one", "part-two"}},
		{name: "no parts, only close", handler: serve(200, ctMultipart, "--"+bnd+"--\r\n")},
		{name: "HTML 500 page, always", handler: serve(500, "text/html", "<html><body><p>Internal <b>error</b></p></body></html>"), wantCode: 500, wantTries: 3},
		{name: "500 twice then success", handler: failFirst(2, 500, ctMultipart, full), wantParts: []string{"part-one", "part-two"}, wantTries: 3},
		{name: "503 then success", handler: failFirst(1, 503, ctMultipart, full), wantParts: []string{"part-one", "part-two"}, wantTries: 2},
		{name: "429 then success", handler: failFirst(1, 429, ctMultipart, full), wantParts: []string{"part-one", "part-two"}, wantTries: 2},
		{name: "truncated before first part then success", handler: truncFirst(ctMultipart, full), wantParts: []string{"part-one", "part-two"}, wantTries: 2},
		{name: "401 not retried", handler: serve(401, "text/plain", "Unauthorized"), wantCode: 401, wantTries: 1},
		{name: "404 not retried", handler: serve(404, "application/json", `{"Message":"Unknown resource"}`), wantCode: 404, wantTries: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tries atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tries.Add(1)
				if r.URL.Path != studyPath || !strings.Contains(r.Header.Get("Accept"), "transfer-syntax=*") {
					http.Error(w, "bad request "+r.URL.Path, 400)
					return
				}
				tt.handler(w, r)
			}))
			defer srv.Close()
			c := newTestClient(t, srv.URL+"/dicom-web", func(cfg *Config) { cfg.MaxRetries = 2 })
			var got collect
			n, err := c.RetrieveStudy(context.Background(), "1.2.3.4", got.sink)
			t.Logf("n=%d err=%v", n, err)
			if !equalStrings(got.whole, tt.wantParts) {
				t.Errorf("sink got whole parts %q, want %q", got.whole, tt.wantParts)
			}
			switch {
			case tt.wantErr == nil && tt.wantCode == 0:
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if n != len(tt.wantParts) {
					t.Errorf("n = %d, want %d", n, len(tt.wantParts))
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
			default:
				var he *HTTPError
				if !errors.As(err, &he) || he.StatusCode != tt.wantCode {
					t.Fatalf("error %v, want HTTP %d", err, tt.wantCode)
				}
				if strings.Contains(err.Error(), "<") {
					t.Errorf("error keeps HTML markup: %v", err)
				}
			}
			if err != nil && !strings.Contains(err.Error(), "GET "+studyPath) {
				t.Errorf("error does not name the request: %v", err)
			}
			if tt.wantTries != 0 && tries.Load() != tt.wantTries {
				t.Errorf("server saw %d requests, want %d", tries.Load(), tt.wantTries)
			}
		})
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func serve(code int, ct, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

// dropAfter sends body without a length and then closes the connection,
// as Orthanc does when a retrieve fails midway.
func dropAfter(ct, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nConnection: close\r\n\r\n%s", ct, body)
		buf.Flush()
	}
}

// chunkedCut starts a chunked answer and breaks the connection inside it.
func chunkedCut(ct, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n", ct, len(body), body)
		buf.Flush()
	}
}

func failFirst(n int32, code int, ct, body string) http.HandlerFunc {
	var count atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		if count.Add(1) <= n {
			if code == 429 {
				w.Header().Set("Retry-After", "0")
			}
			http.Error(w, http.StatusText(code), code)
			return
		}
		serve(200, ct, body)(w, r)
	}
}

func truncFirst(ct, body string) http.HandlerFunc {
	var count atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		if count.Add(1) == 1 {
			dropAfter(ct, body[:10])(w, r)
			return
		}
		serve(200, ct, body)(w, r)
	}
}

// TestRetrieveSinkError checks a failing sink (a full disk) stops the
// retrieve with its own error, not a network one, and is not retried.
func TestRetrieveSinkError(t *testing.T) {
	const bnd = "b"
	var tries atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tries.Add(1)
		serve(200, `multipart/related; type="application/dicom"; boundary=`+bnd, multipartBody(bnd, "a", "b"))(w, r)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	diskFull := errors.New("disk full")
	n, err := c.RetrieveStudy(context.Background(), "1.2.3", func(p io.Reader) error { return diskFull })
	if !errors.Is(err, diskFull) || errors.Is(err, ErrTruncated) || n != 0 || tries.Load() != 1 {
		t.Fatalf("n=%d err=%v tries=%d; want the sink's error after 1 try", n, err, tries.Load())
	}
}

func TestRetrieveStall(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", `multipart/related; type="application/dicom"; boundary=b`)
		io.WriteString(w, "--b\r\nContent-Type: application/dicom\r\n\r\nabc")
		w.(http.Flusher).Flush()
		<-release
	}))
	defer srv.Close()
	defer close(release)
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.StallTimeout = 200 * time.Millisecond; cfg.MaxRetries = -1 })
	var got collect
	_, err := c.RetrieveStudy(context.Background(), "1.2.3", got.sink)
	if !errors.Is(err, ErrStalled) || len(got.whole) != 0 {
		t.Fatalf("err %v, parts %q; want ErrStalled and no part", err, got.whole)
	}
}

func TestQIDOFaults(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		wantErr error
		wantLen int
	}{
		{"ok", serve(200, "application/dicom+json", `[{"0020000D":{"vr":"UI","Value":["1.2.3"]},"00201208":{"vr":"IS","Value":[3]}}]`), nil, 1},
		{"no content", serve(204, "application/dicom+json", ""), nil, 0},
		{"garbage JSON", serve(200, "application/dicom+json", `[{"0020000D":{"vr":"UI","Value":["1.2.3"]}`), ErrBadResponse, 0},
		{"not an array", serve(200, "application/dicom+json", `{"0020000D":{"vr":"UI"}}`), ErrBadResponse, 0},
		{"bad tag key", serve(200, "application/dicom+json", `[{"StudyUID":{"vr":"UI","Value":["1"]}}]`), ErrBadResponse, 0},
		{"bad vr", serve(200, "application/dicom+json", `[{"0020000D":{"vr":"u","Value":["1"]}}]`), ErrBadResponse, 0},
		{"object as value", serve(200, "application/dicom+json", `[{"0020000D":{"vr":"UI","Value":[{"a":1}]}}]`), ErrBadResponse, 0},
		{"bad base64", serve(200, "application/dicom+json", `[{"7FE00010":{"vr":"OB","InlineBinary":"@@@"}}]`), ErrBadResponse, 0},
		{"HTML page", serve(200, "text/html", "<html>login</html>"), ErrBadResponse, 0},
		{"empty 200", serve(200, "application/dicom+json", ""), ErrBadResponse, 0},
		{"cut JSON", dropAfter("application/dicom+json", `[{"0020000D":`), ErrBadResponse, 0},
		{"chunked JSON cut", chunkedCut("application/dicom+json", `[{"0020000D":`), ErrTruncated, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			c := newTestClient(t, srv.URL+"/dicom-web", func(cfg *Config) { cfg.MaxRetries = -1 })
			got, err := c.SearchStudies(context.Background(), Query{Match: []Param{{"PatientName", "A*"}}})
			if tt.wantErr == nil {
				if err != nil || len(got) != tt.wantLen {
					t.Fatalf("got %d results, err %v", len(got), err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), "GET /dicom-web/studies?PatientName=A*") {
				t.Errorf("error does not name the request: %v", err)
			}
		})
	}
}

func TestStoreFaults(t *testing.T) {
	const sop = "1.2.3.4.5"
	referenced := `{"00081199":{"vr":"SQ","Value":[{"00081150":{"vr":"UI","Value":["1.2.840.10008.5.1.4.1.1.88.11"]},"00081155":{"vr":"UI","Value":["` + sop + `"]}}]}}`
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		wantStored bool
		wantErr    error
		wantCode   int
		wantFailed int
	}{
		{"stored", serve(200, "application/dicom+json", referenced), true, nil, 0, 0},
		{"200 with empty Referenced SOP Sequence", serve(200, "application/dicom+json", `{"00081199":{"vr":"SQ"}}`), false, nil, 0, 0},
		{"200 referencing another UID", serve(200, "application/dicom+json", strings.Replace(referenced, sop, "9.9.9", 1)), false, nil, 0, 0},
		{"409 with Failed SOP Sequence", serve(409, "application/dicom+json",
			`{"00081198":{"vr":"SQ","Value":[{"00081155":{"vr":"UI","Value":["`+sop+`"]},"00081197":{"vr":"US","Value":[272]}}]}}`), false, nil, 409, 1},
		{"both referenced and failed", serve(202, "application/dicom+json",
			`{"00081199":{"vr":"SQ","Value":[{"00081155":{"vr":"UI","Value":["`+sop+`"]}}]},"00081198":{"vr":"SQ","Value":[{"00081155":{"vr":"UI","Value":["`+sop+`"]}}]}}`), false, nil, 0, 1},
		{"truncated body", dropAfter("application/dicom+json", referenced[:40]), false, ErrBadResponse, 0, 0},
		{"HTML answer", serve(200, "text/html", "<html>ok</html>"), false, ErrBadResponse, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu gosync.Mutex
			var bodies [][]byte
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				bodies = append(bodies, b)
				mu.Unlock()
				if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), `multipart/related; type="application/dicom"; boundary=`) {
					http.Error(w, "bad request", 400)
					return
				}
				tt.handler(w, r)
			}))
			defer srv.Close()
			c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.MaxRetries = -1 })
			res, err := c.Store(context.Background(), "1.2.3", []byte("DICM-bytes"))
			if res.StoredUID(sop) != tt.wantStored {
				t.Errorf("StoredUID = %v, want %v (res %+v, err %v)", !tt.wantStored, tt.wantStored, res, err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err %v, want %v", err, tt.wantErr)
			}
			var he *HTTPError
			if tt.wantCode != 0 && (!errors.As(err, &he) || he.StatusCode != tt.wantCode) {
				t.Errorf("err %v, want HTTP %d", err, tt.wantCode)
			}
			if tt.wantErr == nil && tt.wantCode == 0 && err != nil {
				t.Errorf("unexpected error %v", err)
			}
			if tt.wantFailed != 0 && (res == nil || len(res.Failed) != tt.wantFailed) {
				t.Errorf("result %+v, want %d failed", res, tt.wantFailed)
			}
			if err != nil && !strings.Contains(err.Error(), "POST /studies/1.2.3") {
				t.Errorf("error does not name the request: %v", err)
			}
			if len(bodies) != 1 || !bytes.Contains(bodies[0], []byte("\r\nContent-Type: application/dicom\r\n\r\nDICM-bytes\r\n")) {
				t.Errorf("STOW body %q", bodies)
			}
		})
	}
}

// TestStoreRetrySameBytes checks that a retried STOW sends the very same body.
func TestStoreRetrySameBytes(t *testing.T) {
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, r.Header.Get("Content-Type")+"|"+string(b))
		if len(bodies) < 3 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		serve(200, "application/dicom+json", `{"00081199":{"vr":"SQ","Value":[{"00081155":{"vr":"UI","Value":["1.2"]}}]}}`)(w, r)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	res, err := c.Store(context.Background(), "", []byte("x"), []byte("y"))
	if err != nil || !res.StoredUID("1.2") {
		t.Fatalf("res %+v err %v", res, err)
	}
	if len(bodies) != 3 || bodies[0] != bodies[1] || bodies[1] != bodies[2] {
		t.Errorf("bodies differ between tries: %q", bodies)
	}
}

func TestOAuth2ClientCredentials(t *testing.T) {
	var tokenRequests atomic.Int32
	var current atomic.Value
	var mux http.ServeMux
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Form.Get("grant_type") != "client_credentials" {
			http.Error(w, "bad grant", 400)
			return
		}
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.Form.Get("client_id"), r.Form.Get("client_secret")
		}
		if id != "teleread" || secret != "client-s3cret" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(401)
			io.WriteString(w, `{"error":"invalid_client"}`)
			return
		}
		n := tokenRequests.Add(1)
		tok := fmt.Sprintf("token-%d", n)
		current.Store(tok)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
	})
	mux.HandleFunc("/dicom-web/studies", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+fmt.Sprint(current.Load()) {
			http.Error(w, "expired", http.StatusUnauthorized)
			return
		}
		serve(200, "application/dicom+json", "[]")(w, r)
	})
	srv := httptest.NewServer(&mux)
	defer srv.Close()

	auth := &OAuth2ClientCredentials{TokenURL: srv.URL + "/token", ClientID: "teleread", ClientSecret: "client-s3cret", Scopes: []string{"dicomweb"}}
	c := newTestClient(t, srv.URL+"/dicom-web", func(cfg *Config) { cfg.Auth = auth })
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if _, err := c.SearchStudies(ctx, Query{}); err != nil {
			t.Fatal(err)
		}
	}
	if n := tokenRequests.Load(); n != 1 {
		t.Errorf("%d token requests for 3 searches, want 1 (token reuse)", n)
	}
	// The server revokes the token: the client fetches a new one once.
	current.Store("revoked")
	if _, err := c.SearchStudies(ctx, Query{}); err != nil {
		t.Fatal(err)
	}
	if n := tokenRequests.Load(); n != 2 {
		t.Errorf("%d token requests after a revocation, want 2", n)
	}

	bad := &OAuth2ClientCredentials{TokenURL: srv.URL + "/token", ClientID: "teleread", ClientSecret: "wrong-s3cret"}
	c = newTestClient(t, srv.URL+"/dicom-web", func(cfg *Config) { cfg.Auth = bad })
	_, err := c.SearchStudies(ctx, Query{})
	if err == nil || strings.Contains(err.Error(), "wrong-s3cret") || !strings.Contains(err.Error(), "GET /dicom-web/studies") {
		t.Errorf("bad client secret: %v", err)
	}
}

func TestQueryEncode(t *testing.T) {
	tests := []struct {
		name    string
		q       Query
		want    string
		wantErr bool
	}{
		{"wildcards and PN raw", Query{Match: []Param{{"PatientName", "Doe^J*"}, {"StudyDate", "20200101-20201231"}}}, "PatientName=Doe^J*&StudyDate=20200101-20201231", false},
		{"uid list raw", Query{Match: []Param{{"StudyInstanceUID", "1.2,1.3"}}}, "StudyInstanceUID=1.2,1.3", false},
		{"question mark wildcard", Query{Match: []Param{{"PatientID", "A?C"}}}, "PatientID=A?C", false},
		{"breaking bytes escaped", Query{Match: []Param{{"PatientName", "A&B=C #1+%"}}}, "PatientName=A%26B=C%20%231%2B%25", false},
		{"non-ASCII escaped", Query{Match: []Param{{"PatientName", "Müller"}}}, "PatientName=M%C3%BCller", false},
		{"paging and fields", Query{IncludeFields: []string{"00081060", "ModalitiesInStudy"}, Limit: 10, Offset: 20, Fuzzy: true},
			"includefield=00081060&includefield=ModalitiesInStudy&fuzzymatching=true&limit=10&offset=20", false},
		{"sequence path key", Query{Match: []Param{{"RequestAttributesSequence.AccessionNumber", "A1"}}}, "RequestAttributesSequence.AccessionNumber=A1", false},
		{"key injection", Query{Match: []Param{{"PatientID=1&limit", "2"}}}, "", true},
		{"bad includefield", Query{IncludeFields: []string{"all fields"}}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.q.Encode()
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("Encode() = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestInvalidUIDsRefused(t *testing.T) {
	c := newTestClient(t, "http://127.0.0.1:1/dicom-web", nil)
	ctx := context.Background()
	for _, uid := range []string{"", "../../system", "1.2.3/series", "1..2", ".1.2", "1.2.", "1.2.a", strings.Repeat("1", 65)} {
		if _, err := c.RetrieveStudy(ctx, uid, func(io.Reader) error { return nil }); !errors.Is(err, ErrInvalidUID) {
			t.Errorf("RetrieveStudy(%q): %v, want ErrInvalidUID", uid, err)
		}
	}
}

func TestNewRedactsCredentials(t *testing.T) {
	for _, u := range []string{"ftp://user:pw-secret@host/x", "http://user:pw-secret@", "://user:pw-secret@host"} {
		_, err := New(Config{BaseURL: u})
		if err == nil || strings.Contains(err.Error(), "pw-secret") {
			t.Errorf("New(%q): %v", redactURL(u), err)
		}
	}
	if _, err := New(Config{BaseURL: "https://pacs.example/dicom-web", CAFile: "/nonexistent/ca.pem"}); err == nil {
		t.Error("missing CA file accepted")
	}
}

// FuzzDecodeObjects feeds arbitrary bytes to the DICOM JSON reader. Beyond
// never panicking: allocation stays in proportion to the input; every error
// is ErrBadResponse or ErrTooManyResults (callers branch on them); the size
// limit is exact (the input at its own length is read, one byte less is
// refused); no value is longer than the input; the accessors agree with the
// attributes; and what decodes writes back to DICOM JSON that decodes to the
// same objects.
func FuzzDecodeObjects(f *testing.F) {
	f.Add([]byte(`[{"0020000D":{"vr":"UI","Value":["1.2.3"]},"00100010":{"vr":"PN","Value":[{"Alphabetic":"A^B"}]},"00081199":{"vr":"SQ","Value":[{"00081155":{"vr":"UI","Value":[null]}}]}}]`))
	f.Add([]byte(`[{"00201208":{"vr":"IS","Value":[1e400]}}]`))
	f.Add([]byte(`[{"00081199":{"vr":"SQ","Value":[{"00081150":{"vr":"UI","Value":["1.2.840.10008.5.1.4.1.1.88.11"]},"00081155":{"vr":"UI","Value":["2.25.1"]},"00081196":{"vr":"US","Value":[45056]}}]},"7FE00010":{"vr":"OB","InlineBinary":"AAEC"},"00420011":{"vr":"OB","BulkDataURI":"http://x/b"},"00100010":{"vr":"PN","Value":[null,{"Ideographic":"\u5c71\u7530"}]}}]`))
	f.Add([]byte(`[{"0020000d":{"vr":"UI","Value":["1.2"]}},{}]`))
	f.Add([]byte(`[{"PATIENT1":{"vr":"PN"}}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		// The promise: decoding allocates in proportion to the answer (a
		// bounded multiple of its bytes), whatever it declares.
		var objs []Object
		var err error
		bound := uint64(64*len(b)+1<<20) * raceSlack
		if got, over := allocs.Bytes(bound, func() { objs, err = decodeObjects(bytes.NewReader(b), 1<<20, 1000) }); over {
			t.Fatalf("%d bytes allocated decoding %d bytes (bound %d)", got, len(b), bound)
		}
		if err != nil {
			if !errors.Is(err, ErrBadResponse) && !errors.Is(err, ErrTooManyResults) {
				t.Fatalf("error %v is neither ErrBadResponse nor ErrTooManyResults", err)
			}
			return
		}
		exact, err := decodeObjects(bytes.NewReader(b), int64(len(b)), 1000)
		if err != nil || !reflect.DeepEqual(exact, objs) {
			t.Fatalf("at a limit of its own length (%d): %v", len(b), err)
		}
		if _, err := decodeObjects(bytes.NewReader(b), int64(len(b)-1), 1000); !errors.Is(err, ErrBadResponse) {
			t.Fatalf("at a limit one byte short: %v, want ErrBadResponse", err)
		}
		for _, o := range objs {
			checkObject(t, o, len(b))
		}
		enc, err := json.Marshal(encodeObjects(objs))
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		again, err := decodeObjects(bytes.NewReader(enc), int64(len(enc)), 1000)
		if err != nil {
			t.Fatalf("re-encoded objects do not decode: %v\n%s", err, enc)
		}
		if !reflect.DeepEqual(again, objs) {
			t.Fatalf("round trip changed the objects:\n%s", enc)
		}
	})
}

// checkObject checks an object's accessors against its attributes, and that
// nothing in it is longer than the input it came from.
func checkObject(t *testing.T, o Object, inputLen int) {
	t.Helper()
	for tag, a := range o {
		if !isTag(tag) || strings.ToUpper(tag) != tag {
			t.Fatalf("key %q is not an upper-case tag", tag)
		}
		if len(a.VR) != 2 {
			t.Fatalf("%s: vr %q", tag, a.VR)
		}
		if len(a.InlineBinary) > inputLen || len(a.BulkDataURI) > inputLen {
			t.Fatalf("%s: binary value longer than the input", tag)
		}
		vals := o.Strings(tag)
		if len(a.PersonNames) > 0 && len(vals) != len(a.PersonNames) || len(a.PersonNames) == 0 && len(vals) != len(a.Values) {
			t.Fatalf("%s: Strings gives %d values for %d values and %d names", tag, len(vals), len(a.Values), len(a.PersonNames))
		}
		for _, v := range vals {
			if len(v) > inputLen {
				t.Fatalf("%s: value of %d bytes from %d bytes of input", tag, len(v), inputLen)
			}
		}
		first := ""
		if len(vals) > 0 {
			first = vals[0]
		}
		if got := o.String(tag); got != first {
			t.Fatalf("%s: String %q, first of Strings %q", tag, got, first)
		}
		if n, ok := o.Int(tag); ok {
			if f, err := strconv.ParseFloat(strings.TrimSpace(first), 64); err != nil || f != float64(n) {
				t.Fatalf("%s: Int %d from %q", tag, n, first)
			}
		}
		if got := o.Items(tag); len(got) != len(a.Items) {
			t.Fatalf("%s: Items gives %d of %d", tag, len(got), len(a.Items))
		}
		for _, it := range a.Items {
			checkObject(t, it, inputLen)
		}
	}
	res := parseStoreResult(o)
	if len(res.Stored) != len(o.Items(TagReferencedSOPSequence)) || len(res.Failed) != len(o.Items(TagFailedSOPSequence)) {
		t.Fatalf("store result %d stored, %d failed from %d and %d items", len(res.Stored), len(res.Failed),
			len(o.Items(TagReferencedSOPSequence)), len(o.Items(TagFailedSOPSequence)))
	}
}

// encodeObjects writes objects back in the DICOM JSON model (PS3.18 F.2):
// every value as a JSON string (a number read from the JSON is kept in its
// decimal form, which reads back the same), null values as empty strings.
func encodeObjects(objs []Object) []map[string]any {
	out := make([]map[string]any, len(objs))
	for i, o := range objs {
		m := map[string]any{}
		for tag, a := range o {
			attr := map[string]any{"vr": a.VR}
			var vals []any
			switch {
			case len(a.Items) > 0:
				for _, it := range encodeObjects(a.Items) {
					vals = append(vals, it)
				}
			case len(a.PersonNames) > 0:
				for _, p := range a.PersonNames {
					pn := map[string]string{}
					for k, v := range map[string]string{"Alphabetic": p.Alphabetic, "Ideographic": p.Ideographic, "Phonetic": p.Phonetic} {
						if v != "" {
							pn[k] = v
						}
					}
					vals = append(vals, pn)
				}
			default:
				for _, v := range a.Values {
					vals = append(vals, v)
				}
			}
			if vals != nil {
				attr["Value"] = vals
			}
			if a.InlineBinary != nil {
				attr["InlineBinary"] = base64.StdEncoding.EncodeToString(a.InlineBinary)
			}
			if a.BulkDataURI != "" {
				attr["BulkDataURI"] = a.BulkDataURI
			}
			m[tag] = attr
		}
		out[i] = m
	}
	return out
}

// TestCloseWatcherChunking feeds bodies in every chunk size so the close
// delimiter is found (or not) wherever reads split it.
func TestCloseWatcherChunking(t *testing.T) {
	const bnd = "BND"
	tests := []struct {
		body string
		want bool
	}{
		{multipartBody(bnd, "a", "bb"), true},
		{"--BND--", true},
		{multipartBody(bnd, "a"), true},
		{strings.TrimSuffix(multipartBody(bnd, "a"), "--\r\n"), false},
		{"--BND\r\n\r\nx--BND--\r\n", false}, // not at a line start
		{"--BND\r\n\r\nx\r\n--BND-", false},
	}
	for _, tt := range tests {
		for size := 1; size <= len(tt.body); size++ {
			w := newCloseWatcher(&chunkReader{s: tt.body, size: size}, bnd)
			if _, err := io.Copy(io.Discard, w); err != nil {
				t.Fatal(err)
			}
			if w.closed != tt.want {
				t.Errorf("body %q in chunks of %d: closed %v, want %v", tt.body, size, w.closed, tt.want)
			}
		}
	}
}

type chunkReader struct {
	s    string
	size int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if c.s == "" {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.size)], c.s)
	c.s = c.s[n:]
	return n, nil
}
