package orthanctest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

const corpus = "../../testdata/corpus/files"

func corpusFile(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(corpus, name)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus file: %v", err)
		}
		t.Skipf("corpus file: %v", err)
	}
	return p
}

func TestServerLifecycle(t *testing.T) {
	tests := []struct {
		name  string
		users map[string]string
	}{
		{"open", nil},
		{"basic auth", map[string]string{"reader": "s3cret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := New(t, Options{Users: tt.users})
			path := corpusFile(t, "ct_small_explicit_le.dcm")
			want, _ := os.ReadFile(path)
			inst := s.MustUploadFiles(t, path)[0]
			got, err := s.InstanceFile(inst.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("stored file differs from the upload (%d vs %d bytes)", len(got), len(want))
			}
			// Unauthenticated requests are refused when users are set.
			resp, err := http.Get(s.URL + "/system")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			wantStatus := http.StatusOK
			if tt.users != nil {
				wantStatus = http.StatusUnauthorized
			}
			if resp.StatusCode != wantStatus {
				t.Errorf("GET /system without credentials: %d, want %d", resp.StatusCode, wantStatus)
			}

			// Kill and restart keep the storage.
			s.Kill()
			if s.Running() {
				t.Fatal("still running after Kill")
			}
			if _, err := s.Get("/system"); err == nil {
				t.Fatal("answers after Kill")
			}
			if err := s.Restart(); err != nil {
				t.Fatal(err)
			}
			b, err := s.Get("/instances")
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			if err := json.Unmarshal(b, &ids); err != nil || len(ids) != 1 || ids[0] != inst.ID {
				t.Fatalf("instances after restart: %s (%v)", b, err)
			}
			s.Stop()
			if s.Running() {
				t.Fatal("still running after Stop")
			}
		})
	}
}

func TestStartManyConcurrently(t *testing.T) {
	if _, _, err := Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	const n = 3
	servers := make(chan *Server, n)
	for i := 0; i < n; i++ {
		go func() {
			s, err := Start(t.TempDir(), Options{})
			if err != nil {
				t.Error(err)
			}
			servers <- s
		}()
	}
	ports := map[int]bool{}
	for i := 0; i < n; i++ {
		s := <-servers
		if s == nil {
			continue
		}
		defer s.Stop()
		if ports[s.Port] {
			t.Errorf("port %d given twice", s.Port)
		}
		ports[s.Port] = true
	}
}
