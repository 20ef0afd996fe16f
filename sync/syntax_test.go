package sync

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"

	"teleread/sync/orthanctest"
	"teleread/viewer"
	"teleread/viewer/dataset"
)

// TestAcceptHeader checks the Accept header against PS3.18 §8.7: one
// multipart/related alternative per syntax, q-values falling with the
// preference, "*" last at 0.1, and the most preferred written last (the one
// Orthanc, which ignores q, takes).
func TestAcceptHeader(t *testing.T) {
	const mp = `multipart/related; type="application/dicom"; transfer-syntax=`
	tests := []struct {
		name string
		list []string
		want string
	}{
		{"stored only", []string{"*"}, mp + "*; q=0.1"},
		{"default", DefaultTransferSyntaxes, mp + "*; q=0.1, " + mp + "1.2.840.10008.1.2.4.201; q=0.7, " +
			mp + "1.2.840.10008.1.2.4.70; q=0.8, " + mp + "1.2.840.10008.1.2.4.80; q=0.9"},
		{"no stored", []string{"1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80"},
			mp + "1.2.840.10008.1.2.4.80; q=0.8, " + mp + "1.2.840.10008.1.2.4.70; q=0.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := acceptFor(tt.list); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestTransferSyntaxConfig checks that a bad preference list is refused
// when the client is made, and that the default asks for nothing lossy.
func TestTransferSyntaxConfig(t *testing.T) {
	for _, bad := range [][]string{{}, {"jpeg-ls"}, {"*", "*"}, {"1.2.840.10008.1.2.4.80", ""}} {
		if _, err := New(Config{BaseURL: "http://127.0.0.1:1/dicom-web", TransferSyntaxes: bad}); err == nil {
			t.Errorf("transfer syntaxes %q accepted", bad)
		}
	}
	lossy := []string{"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.81",
		"1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.203", "1.2.840.10008.1.2.4.202"}
	for _, ts := range DefaultTransferSyntaxes {
		for _, l := range lossy {
			if ts == l {
				t.Errorf("default list asks for lossy %s", ts)
			}
		}
	}
}

// retrieved is one instance as a retrieve delivered it.
type retrieved struct {
	sop, syntax string
	raw         []byte
}

func retrieveAll(t *testing.T, c *Client, study string) []retrieved {
	t.Helper()
	var mu gosync.Mutex
	var got []retrieved
	_, err := c.RetrieveStudy(context.Background(), study, func(part io.Reader) error {
		b, err := io.ReadAll(part)
		if err != nil {
			return err
		}
		f, err := dataset.ParseBytes(b, "part")
		if err != nil {
			return err
		}
		mu.Lock()
		got = append(got, retrieved{f.String(dataset.SOPInstanceUID), f.TransferSyntax, b})
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatalf("retrieve %s: %v", study, err)
	}
	return got
}

// pixels decodes every frame of a DICOM file with the viewer.
func pixels(t *testing.T, b []byte, name string) [][]any {
	t.Helper()
	f, err := dataset.ParseBytes(b, name)
	if err != nil {
		t.Fatal(err)
	}
	im, err := viewer.NewImage(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var out [][]any
	for i := range im.NumFrames() {
		fr, err := im.Frame(i)
		if err != nil {
			t.Fatalf("%s frame %d: %v", name, i, err)
		}
		out = append(out, []any{fr.Rows, fr.Cols, fr.Samples, fr.Signed, fr.U8, fr.I8, fr.U16, fr.I16, fr.U32, fr.I32, fr.F32, fr.F64})
	}
	return out
}

// storedCopy returns the archive's stored file of a SOP Instance.
func storedCopy(t *testing.T, srv *orthanctest.Server, sop string) []byte {
	t.Helper()
	body, err := srv.Post("/tools/lookup", []byte(sop))
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(body, []byte(`"ID" : "`))
	if i < 0 {
		t.Fatalf("lookup %s: %s", sop, body)
	}
	id := string(body[i+8:])
	id = id[:strings.IndexByte(id, '"')]
	b, err := srv.InstanceFile(id)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTransferSyntaxNegotiationOrthanc retrieves from a real Orthanc with
// the default preference list, configured (left to the link policy, a
// loopback archive would be asked for the stored bytes): a study stored uncompressed arrives in
// JPEG-LS lossless, pixel for pixel the stored one; a study Orthanc cannot
// transcode (it holds JPEG 2000) arrives as stored, byte for byte, and
// does not make the client give up JPEG-LS for the next study; an instance
// stored lossy (JPEG baseline), which Orthanc would re-encode in JPEG-LS,
// arrives as stored too.
func TestTransferSyntaxNegotiationOrthanc(t *testing.T) {
	srv := orthanctest.New(t, orthanctest.Options{})
	for _, name := range []string{"ct_small_explicit_le", "mr_small_explicit_le", "ct2_j2k_lossy", "ct2_jpeg_lossless_sv1", "sc_jpeg_baseline_mono8"} {
		srv.MustUploadFiles(t, filepath.Join(corpusDir, "files", name+".dcm"))
	}
	c := newTestClient(t, srv.DICOMwebURL, func(cfg *Config) { cfg.TransferSyntaxes = DefaultTransferSyntaxes })
	studies, err := c.SearchStudies(context.Background(), Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(studies) != 4 {
		t.Fatalf("%d studies in the archive, want 4", len(studies))
	}
	transcoded, asStored := 0, 0
	for _, s := range studies {
		for _, r := range retrieveAll(t, c, s.StudyUID()) {
			stored := storedCopy(t, srv, r.sop)
			sf, err := dataset.ParseBytes(stored, "stored")
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case sf.TransferSyntax == "1.2.840.10008.1.2.1" && r.syntax == SyntaxJPEGLSLossless:
				transcoded++
				if !reflect.DeepEqual(pixels(t, r.raw, "retrieved "+r.sop), pixels(t, stored, "stored "+r.sop)) {
					t.Errorf("%s: JPEG-LS pixels differ from the stored ones", r.sop)
				}
				if len(r.raw) >= len(stored) {
					t.Errorf("%s: %d bytes in JPEG-LS, %d stored: not compressed", r.sop, len(r.raw), len(stored))
				}
			case sf.TransferSyntax != "1.2.840.10008.1.2.1" && r.syntax == sf.TransferSyntax:
				asStored++
				if !bytes.Equal(r.raw, stored) {
					t.Errorf("%s: came as stored (%s) but not byte for byte", r.sop, r.syntax)
				}
			default:
				t.Errorf("%s: stored in %s, arrived in %s", r.sop, sf.TransferSyntax, r.syntax)
			}
		}
	}
	if transcoded != 2 || asStored != 3 {
		t.Errorf("%d instances transcoded to JPEG-LS (want 2), %d as stored (want 3)", transcoded, asStored)
	}
	if got := c.TransferSyntaxes(); !reflect.DeepEqual(got, DefaultTransferSyntaxes) {
		t.Errorf("after the retrieves the client offers %v, want %v", got, DefaultTransferSyntaxes)
	}
}

// TestTransferSyntaxFallback406 puts a stand-in beside the real Orthanc
// that answers 406 to any compressed syntax, as an archive without a
// transcoder does: the client falls back to the stored bytes and remembers
// it, so the next retrieve offers "*" straight away.
func TestTransferSyntaxFallback406(t *testing.T) {
	srv := orthanctest.New(t, orthanctest.Options{})
	srv.MustUploadFiles(t, filepath.Join(corpusDir, "files", "ct_small_explicit_le.dcm"))
	target, err := url.Parse(srv.DICOMwebURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	var refused atomic.Int32
	stand := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Accept"), "transfer-syntax=1.2.") {
			refused.Add(1)
			http.Error(w, "transfer syntax not supported", http.StatusNotAcceptable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer stand.Close()

	c := newTestClient(t, stand.URL+target.Path, func(cfg *Config) { cfg.TransferSyntaxes = DefaultTransferSyntaxes })
	studies, err := c.SearchStudies(context.Background(), Query{})
	if err != nil || len(studies) != 1 {
		t.Fatalf("search through the stand-in: %d studies, %v", len(studies), err)
	}
	study := studies[0].StudyUID()
	got := retrieveAll(t, c, study)
	if len(got) != 1 || !bytes.Equal(got[0].raw, storedCopy(t, srv, got[0].sop)) {
		t.Fatalf("after the fallback: %d instances, want the stored one byte for byte", len(got))
	}
	if n := refused.Load(); n != 3 {
		t.Errorf("%d requests refused before the fallback, want 3 (one per compressed syntax)", n)
	}
	if got := c.TransferSyntaxes(); !reflect.DeepEqual(got, []string{SyntaxAsStored}) {
		t.Errorf("client offers %v after the refusals, want [*]", got)
	}
	refused.Store(0)
	retrieveAll(t, c, study)
	if n := refused.Load(); n != 0 {
		t.Errorf("second retrieve: %d refusals, want none (the fallback is remembered)", n)
	}
}
