package main

import (
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// QIDO answers of hostileArchive.
const (
	qidoOne   = iota // one study assigned to Doe^Jane
	qidoHuge         // a 250 MB array of small studies
	qidoPages        // every page full, whatever the offset: no end
)

// hostileArchive answers QIDO as qido says and every retrieve with one
// endless part of zeros.
func hostileArchive(qido int) http.HandlerFunc {
	const study = `{"0020000D":{"vr":"UI","Value":["1.2.3.%d"]},"00081060":{"vr":"PN","Value":[{"Alphabetic":"Doe^Jane"}]},"00201208":{"vr":"IS","Value":[1]},"00201206":{"vr":"IS","Value":[1]}}`
	return func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/studies") && qido == qidoPages:
			w.Header().Set("Content-Type", "application/dicom+json")
			offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
			limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
			io.WriteString(w, "[")
			for i := range limit {
				if i > 0 {
					io.WriteString(w, ",")
				}
				fmt.Fprintf(w, study, offset+i)
			}
			io.WriteString(w, "]")
		case strings.HasSuffix(r.URL.Path, "/studies") && qido == qidoHuge:
			w.Header().Set("Content-Type", "application/dicom+json")
			io.WriteString(w, "[")
			for i := 0; i < 1500000; i++ {
				if i > 0 {
					io.WriteString(w, ",")
				}
				if _, err := fmt.Fprintf(w, study, i); err != nil {
					return
				}
			}
			io.WriteString(w, "]")
		case strings.HasSuffix(r.URL.Path, "/studies") || strings.HasSuffix(r.URL.Path, "/series") || strings.HasSuffix(r.URL.Path, "/instances"):
			w.Header().Set("Content-Type", "application/dicom+json")
			one := strings.TrimSuffix(fmt.Sprintf(study, 1), "}") +
				`,"0020000E":{"vr":"UI","Value":["1.2.3.1.1"]},"00080018":{"vr":"UI","Value":["1.2.3.1.1.1"]},"00201209":{"vr":"IS","Value":[1]}}`
			io.WriteString(w, "["+one+"]")
		default:
			w.Header().Set("Content-Type", `multipart/related; type="application/dicom"; boundary=b`)
			io.WriteString(w, "--b\r\nContent-Type: application/dicom\r\n\r\n")
			buf := make([]byte, 1<<20)
			for {
				if _, err := w.Write(buf); err != nil {
					return
				}
			}
		}
	}
}

// TestHostileArchiveSyncCLI: `sync --once` against an archive that sends a
// 250 MB QIDO answer (5.9 GB before), pages of assigned studies that never
// end (paged forever before, then cut at 10,000 as if that were the whole
// worklist) or an endless part (8 GB of tmp/ in 33 s before) fails with the
// reason naming the request and the limit, leaves nothing staged, and its
// peak RSS stays under 300 MB.
func TestHostileArchiveSyncCLI(t *testing.T) {
	for _, tt := range []struct {
		name string
		qido int
		want string
	}{
		{"250 MB QIDO answer", qidoHuge, "JSON answer over"},
		{"endless worklist pages", qidoPages, "GET /studies: too many results: more than 10000 results (max_results)"},
		{"endless part", qidoOne, "not a DICOM file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(hostileArchive(tt.qido))
			defer srv.Close()
			home := t.TempDir()
			r := teleread(t, home, "sync", "--once", "--archive", srv.URL, "--reader", "Doe^Jane", "--priors", "0")
			out := r.stdout + r.stderr
			if r.code == 0 || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d, output %q; want a failure saying %q", r.code, out, tt.want)
			}
			if r.maxRSSKiB > maxHostileRSSKiB {
				t.Errorf("peak RSS %d MiB, want under %d", r.maxRSSKiB>>10, maxHostileRSSKiB>>10)
			}
			t.Logf("peak RSS %d MiB", r.maxRSSKiB>>10)
			var staged int64
			filepath.WalkDir(home, func(p string, d fs.DirEntry, err error) error {
				if d != nil && !d.IsDir() && strings.HasSuffix(p, ".part") {
					if fi, err := d.Info(); err == nil {
						staged += fi.Size()
					}
				}
				return nil
			})
			if staged != 0 {
				t.Errorf("%d bytes left staged", staged)
			}
		})
	}
}
