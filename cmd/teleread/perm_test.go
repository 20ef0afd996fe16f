package main

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"
)

// studyServer is a stand-in archive answering a study retrieve with one
// corpus file to requests that carry want as their Authorization (any, when
// want is ""); it records the Authorization of every request.
type studyServer struct {
	*httptest.Server
	requests atomic.Int32
	mu       gosync.Mutex
	auths    []string
}

func newStudyServer(t *testing.T, addr, want string) *studyServer {
	t.Helper()
	requireCorpus(t)
	body, err := os.ReadFile(filepath.Join(corpusDir, "files", "ct_small_explicit_le.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	s := &studyServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.mu.Lock()
		s.auths = append(s.auths, r.Header.Get("Authorization"))
		s.mu.Unlock()
		if want != "" && r.Header.Get("Authorization") != want {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		const b = "BOUNDARY42"
		w.Header().Set("Content-Type", `multipart/related; type="application/dicom"; boundary=`+b)
		fmt.Fprintf(w, "--%s\r\nContent-Type: application/dicom\r\n\r\n", b)
		w.Write(body)
		fmt.Fprintf(w, "\r\n--%s--\r\n", b)
	}))
	if addr != "" {
		s.Listener.Close()
		l, err := listen(addr)
		if err != nil {
			t.Fatal(err)
		}
		s.Listener = l
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// seen returns the Authorization headers received.
func (s *studyServer) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.auths...)
}

const ctStudy = "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322"

// TestSecretFilesRefused: a token file or a config file that group or others
// may read is refused with an error naming it (it was only warned about, and
// a token file not at all), and nothing is sent; the same files 0600 work.
func TestSecretFilesRefused(t *testing.T) {
	tests := []struct {
		name     string
		file     string // "token" (--token-file) or "config" (TELEREAD_CONFIG with a token)
		mode     os.FileMode
		wantCode int
	}{
		{name: "token file 0600", file: "token", mode: 0o600},
		{name: "token file 0644", file: "token", mode: 0o644, wantCode: 1},
		{name: "token file 0640", file: "token", mode: 0o640, wantCode: 1},
		{name: "token file 0604", file: "token", mode: 0o604, wantCode: 1},
		{name: "config 0600", file: "config", mode: 0o600},
		{name: "config 0644", file: "config", mode: 0o644, wantCode: 1},
		{name: "config 0620", file: "config", mode: 0o620, wantCode: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newStudyServer(t, "", "Bearer tok-123")
			dir := t.TempDir()
			p := filepath.Join(dir, tt.file)
			args := []string{"open", "--no-app", srv.URL + "/dicom-web/studies/" + ctStudy}
			var env []string
			if tt.file == "token" {
				os.WriteFile(p, []byte("tok-123\n"), 0o600)
				args = append(args, "--token-file", p)
			} else {
				os.WriteFile(p, []byte(`{"archive": "`+srv.URL+`/dicom-web", "token": "tok-123"}`), 0o600)
				env = append(env, "TELEREAD_CONFIG="+p)
			}
			if err := os.Chmod(p, tt.mode); err != nil {
				t.Fatal(err)
			}
			r := telereadEnv(t, t.TempDir(), env, args...)
			if r.code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s%s", r.code, tt.wantCode, r.stdout, r.stderr)
			}
			if tt.wantCode != 0 {
				if !strings.Contains(r.stderr, p) || !strings.Contains(r.stderr, "chmod 600") {
					t.Errorf("stderr %q: want the file named and chmod 600 advised", r.stderr)
				}
				if n := srv.requests.Load(); n != 0 {
					t.Errorf("%d requests sent with a refused file", n)
				}
			}
		})
	}
}

func listen(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }

// TestCredentialsOnlyToArchive: stored and environment credentials go only
// to the configured archive's scheme, host and port; a link or URL naming
// another host (another port on the same host included) gets only the token
// of --token-file. TELEREAD_TOKEN used to reach any host a
// teleread://open?url= link named. Credentials are never sent over plain
// http to a host other than this machine. The archives are stand-ins on
// different loopback addresses that record the Authorization header seen.
func TestCredentialsOnlyToArchive(t *testing.T) {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("ann:pw-secret"))
	tests := []struct {
		name      string
		env       []string // {archive} is replaced by the archive's URL
		config    string   // config file (0600); {archive} replaced likewise
		target    string   // "archive", "same-host" (other port) or "other" (127.0.0.2)
		link      bool     // open it as teleread://open?url=...
		tokenFile string
		wantAuth  string
		wantCode  int
		wantErr   string
	}{
		{name: "env token, link to another host", env: []string{"TELEREAD_ARCHIVE={archive}", "TELEREAD_TOKEN=env-secret"}, target: "other", link: true},
		{name: "env token, URL of another port", env: []string{"TELEREAD_ARCHIVE={archive}", "TELEREAD_TOKEN=env-secret"}, target: "same-host"},
		{name: "env token, no archive configured", env: []string{"TELEREAD_TOKEN=env-secret"}, target: "other", link: true},
		{name: "env token, the archive", env: []string{"TELEREAD_ARCHIVE={archive}", "TELEREAD_TOKEN=env-secret"}, target: "archive", link: true, wantAuth: "Bearer env-secret"},
		{name: "env basic, another host", env: []string{"TELEREAD_ARCHIVE={archive}", "TELEREAD_USER=ann", "TELEREAD_PASSWORD=pw-secret"}, target: "other"},
		{name: "config basic, another host", config: `{"archive": "{archive}", "user": "ann", "password": "pw-secret"}`, target: "other", link: true},
		{name: "config basic, the archive", config: `{"archive": "{archive}", "user": "ann", "password": "pw-secret"}`, target: "archive", wantAuth: basic},
		{name: "config oauth2, another host", config: `{"archive": "{archive}", "oauth2": {"token_url": "{archive}/token", "client_id": "c", "client_secret": "s"}}`, target: "other"},
		{name: "--token-file, another host", env: []string{"TELEREAD_ARCHIVE={archive}", "TELEREAD_TOKEN=env-secret"}, target: "other", link: true,
			tokenFile: "file-token", wantAuth: "Bearer file-token"},
		{name: "plain http to a remote archive", config: `{"archive": "http://192.0.2.10/dicom-web", "token": "tok-secret"}`, target: "remote",
			wantCode: 1, wantErr: "plain http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			servers := map[string]*studyServer{
				"archive":   newStudyServer(t, "127.0.0.1:0", ""),
				"same-host": newStudyServer(t, "127.0.0.1:0", ""),
				"other":     newStudyServer(t, "127.0.0.2:0", ""),
			}
			archiveURL := servers["archive"].URL + "/dicom-web"
			var env []string
			for _, e := range tt.env {
				env = append(env, strings.ReplaceAll(e, "{archive}", archiveURL))
			}
			dir := t.TempDir()
			if tt.config != "" {
				p := filepath.Join(dir, "config.json")
				if err := os.WriteFile(p, []byte(strings.ReplaceAll(tt.config, "{archive}", archiveURL)), 0o600); err != nil {
					t.Fatal(err)
				}
				env = append(env, "TELEREAD_CONFIG="+p)
			}
			target := "http://192.0.2.10/dicom-web/studies/" + ctStudy
			if s := servers[tt.target]; s != nil {
				target = s.URL + "/dicom-web/studies/" + ctStudy
			}
			if tt.link {
				target = "teleread://open?url=" + url.QueryEscape(target)
			}
			args := []string{"open", "--no-app", target}
			if tt.tokenFile != "" {
				p := filepath.Join(dir, "token")
				if err := os.WriteFile(p, []byte(tt.tokenFile), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--token-file", p)
			}
			r := telereadEnv(t, t.TempDir(), env, args...)
			if r.code != tt.wantCode || !strings.Contains(r.stderr, tt.wantErr) {
				t.Fatalf("exit %d, want %d with %q\n%s%s", r.code, tt.wantCode, tt.wantErr, r.stdout, r.stderr)
			}
			for name, s := range servers {
				seen := s.seen()
				if name != tt.target {
					if len(seen) != 0 {
						t.Errorf("%s received %d requests (Authorization %q)", name, len(seen), seen)
					}
					continue
				}
				if len(seen) == 0 {
					t.Errorf("%s received no request", name)
				}
				for _, a := range seen {
					if a != tt.wantAuth {
						t.Errorf("%s received Authorization %q, want %q", name, a, tt.wantAuth)
					}
				}
			}
		})
	}
}
