package sync

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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
		{"no length, ceiling", "", 4 << 20, "longer than 4194304 bytes (MaxPartBytes): cut off"},
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
