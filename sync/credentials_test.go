package sync

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	gosync "sync"
	"testing"
)

// TestCredentialsNeedHTTPSOrLoopback: a client with credentials refuses a
// plain http archive (or OAuth2 token endpoint) that is not this machine,
// unless the configuration says AllowInsecureHTTPDANGEROUS; https, loopback
// http and no credentials at all are fine.
func TestCredentialsNeedHTTPSOrLoopback(t *testing.T) {
	bearer := BearerToken{Token: "tok"}
	tests := []struct {
		name    string
		base    string
		auth    Auth
		allow   bool
		wantErr bool
	}{
		{name: "https", base: "https://pacs.example.org/dicom-web", auth: bearer},
		{name: "http 127.0.0.1", base: "http://127.0.0.1:8042/dicom-web", auth: bearer},
		{name: "http 127.0.0.2", base: "http://127.0.0.2:8042/dicom-web", auth: bearer},
		{name: "http localhost", base: "http://localhost:8042/dicom-web", auth: BasicAuth{User: "u", Password: "p"}},
		{name: "http [::1]", base: "http://[::1]:8042/dicom-web", auth: bearer},
		{name: "http remote, no credentials", base: "http://pacs.example.org/dicom-web"},
		{name: "http remote bearer", base: "http://pacs.example.org/dicom-web", auth: bearer, wantErr: true},
		{name: "http remote basic", base: "http://10.0.0.5:8042/dicom-web", auth: BasicAuth{User: "u", Password: "p"}, wantErr: true},
		{name: "http remote, user in URL", base: "http://u:p@pacs.example.org/dicom-web", wantErr: true},
		{name: "http localhost.example.org", base: "http://localhost.example.org/dicom-web", auth: bearer, wantErr: true},
		{name: "http remote, allowed", base: "http://pacs.example.org/dicom-web", auth: bearer, allow: true},
		{name: "oauth2 token endpoint over http", base: "https://pacs.example.org/dicom-web",
			auth: &OAuth2ClientCredentials{TokenURL: "http://login.example.org/token", ClientID: "c", ClientSecret: "s"}, wantErr: true},
		{name: "oauth2 token endpoint over https", base: "https://pacs.example.org/dicom-web",
			auth: &OAuth2ClientCredentials{TokenURL: "https://login.example.org/token", ClientID: "c", ClientSecret: "s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Config{BaseURL: tt.base, Auth: tt.auth, AllowInsecureHTTPDANGEROUS: tt.allow})
			if got := errors.Is(err, ErrInsecureCredentials); got != tt.wantErr {
				t.Errorf("New(%s) = %v; want ErrInsecureCredentials: %v", tt.base, err, tt.wantErr)
			}
		})
	}
}

// recorder is a stand-in server on its own loopback address that records
// the Authorization header and form body of every request.
type recorder struct {
	*httptest.Server
	mu   gosync.Mutex
	seen []string
}

func newRecorder(t *testing.T, addr string, h http.HandlerFunc) *recorder {
	t.Helper()
	r := &recorder{}
	r.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.seen = append(r.seen, req.Header.Get("Authorization")+" "+string(body))
		r.mu.Unlock()
		h(w, req)
	}))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen %s: %v (this test needs the 127.0.0.0/8 loopback range)", addr, err)
	}
	r.Listener.Close()
	r.Listener = l
	r.Start()
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

// TestRedirectKeepsCredentials: an archive (or an OAuth2 token endpoint)
// that redirects to another host does not make the client send its
// credentials there; the request fails naming the redirect.
func TestRedirectKeepsCredentials(t *testing.T) {
	other := newRecorder(t, "127.0.0.2:0", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/dicom+json")
		io.WriteString(w, "[]")
	})
	redirect := func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}
	archive := newRecorder(t, "127.0.0.1:0", redirect)
	tokens := newRecorder(t, "127.0.0.1:0", redirect)
	tests := []struct {
		name string
		auth Auth
	}{
		{name: "bearer", auth: BearerToken{Token: "tok-secret"}},
		{name: "basic", auth: BasicAuth{User: "ann", Password: "pw-secret"}},
		{name: "oauth2", auth: &OAuth2ClientCredentials{TokenURL: tokens.URL + "/token", ClientID: "teleread", ClientSecret: "client-secret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, archive.URL+"/dicom-web", func(cfg *Config) { cfg.Auth = tt.auth; cfg.MaxRetries = -1 })
			_, err := c.SearchStudies(context.Background(), Query{})
			if err == nil {
				t.Errorf("search through a redirect to another host succeeded")
			}
			for _, s := range other.requests() {
				t.Errorf("the other host received %q", s)
			}
		})
	}
	if len(archive.requests()) == 0 || len(tokens.requests()) == 0 {
		t.Errorf("archive saw %d requests, token endpoint %d: the test did not exercise both", len(archive.requests()), len(tokens.requests()))
	}
}
