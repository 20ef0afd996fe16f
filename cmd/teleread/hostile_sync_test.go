package main

import (
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"teleread/viewer/dataset/hostiletest"
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

// cutOffArchive serves one study of one series holding two instances made by
// hostiletest: the first whole, the second a DICOM start followed by zeros
// that never end. It counts the bytes it sent of the second.
type cutOffArchive struct {
	good, bad []byte
	badSent   atomic.Int64
}

func newCutOffArchive() *cutOffArchive {
	img := hostiletest.Image{Rows: "2", Cols: "2", Pixel: make([]byte, 8)}
	return &cutOffArchive{good: img.File(1), bad: img.File(2)}
}

func (a *cutOffArchive) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	study, series := hostiletest.StudyUID, hostiletest.SeriesUID
	sop := func(n int) string { return fmt.Sprintf("2.25.14000000000000000000000000000000%04d", 1000+n) }
	obj := fmt.Sprintf(`{"0020000D":{"vr":"UI","Value":[%q]},"0020000E":{"vr":"UI","Value":[%q]},`+
		`"00081060":{"vr":"PN","Value":[{"Alphabetic":"Doe^Jane"}]},"00201206":{"vr":"IS","Value":[1]},`+
		`"00201208":{"vr":"IS","Value":[2]},"00201209":{"vr":"IS","Value":[2]}`, study, series)
	p := r.URL.Path
	switch {
	case strings.HasSuffix(p, "/studies"), strings.HasSuffix(p, "/series"):
		w.Header().Set("Content-Type", "application/dicom+json")
		io.WriteString(w, "["+obj+"}]")
		return
	case strings.HasSuffix(p, "/instances"):
		w.Header().Set("Content-Type", "application/dicom+json")
		io.WriteString(w, fmt.Sprintf(`[%s,"00080018":{"vr":"UI","Value":[%q]}},%s,"00080018":{"vr":"UI","Value":[%q]}}]`, obj, sop(1), obj, sop(2)))
		return
	}
	w.Header().Set("Content-Type", `multipart/related; type="application/dicom"; boundary=b`)
	part := "--b\r\nContent-Type: application/dicom\r\n\r\n"
	if !strings.HasSuffix(p, "/instances/"+sop(2)) {
		io.WriteString(w, part)
		w.Write(a.good)
		if strings.HasSuffix(p, "/instances/"+sop(1)) {
			io.WriteString(w, "\r\n--b--\r\n")
			return
		}
		io.WriteString(w, "\r\n")
	}
	io.WriteString(w, part)
	n, _ := w.Write(a.bad)
	a.badSent.Add(int64(n))
	buf := make([]byte, 64<<10)
	for {
		n, err := w.Write(buf)
		a.badSent.Add(int64(n))
		if err != nil {
			return
		}
	}
}

// TestCutOffRemembered: an archive whose part never ends was cut off at the
// ceiling and downloaded again on every sync (8 GB each time with the
// default ceiling), then twice (the study retrieve that cut it off did not
// know which instance it was; the next sync fetched one instance at a time to
// find out). Now the sync that cuts it off names the instance from the part's
// own first bytes and remembers it in the home: every later sync sends not
// one byte of it (the study stays incomplete, 1 of 2, and says why), until
// --retry-cut-off.
func TestCutOffRemembered(t *testing.T) {
	a := newCutOffArchive()
	srv := httptest.NewServer(a)
	defer srv.Close()
	home := t.TempDir()
	conf := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(conf, []byte(`{"max_part_mb": 2}`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"TELEREAD_CONFIG=" + conf}
	sync := func(extra ...string) (result, int64) {
		before := a.badSent.Load()
		r := telereadEnv(t, home, env, append([]string{"sync", "--once", "--archive", srv.URL, "--reader", "Doe^Jane", "--priors", "0"}, extra...)...)
		return r, a.badSent.Load() - before
	}
	steps := []struct {
		name     string
		extra    []string
		wantSent bool   // the endless part was downloaded (up to the ceiling); else not a byte of it
		want     string // in the output
	}{
		{"first sync: the study retrieve is cut off", nil, true, "longer than 2097152 bytes (max_part_mb): cut off"},
		{"second sync: left alone", nil, false, "not fetched again until"},
		{"third sync: still left alone", nil, false, "not fetched again until"},
		{"explicit retry", []string{"--retry-cut-off"}, true, "retrying 1 cut-off parts"},
	}
	for _, st := range steps {
		r, sent := sync(st.extra...)
		out := r.stdout + r.stderr
		if r.code == 0 || !strings.Contains(out, st.want) {
			t.Errorf("%s: exit %d, output %q; want a failure saying %q", st.name, r.code, out, st.want)
		}
		if st.wantSent && sent < 2<<20 || !st.wantSent && sent != 0 {
			t.Errorf("%s: %d bytes of the endless part sent, want downloaded %v (else none)", st.name, sent, st.wantSent)
		}
		t.Logf("%s: %d bytes of the endless part sent", st.name, sent)
	}
	r := teleread(t, home, "worklist", "--json")
	if !strings.Contains(r.stdout, "cut off") {
		t.Errorf("the worklist does not say why the study is incomplete: %s", r.stdout)
	}
}
