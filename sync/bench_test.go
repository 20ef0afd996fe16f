package sync

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	gosync "sync"
	"testing"

	"teleread/sync/orthanctest"
)

// sameLengthUID returns a UID as long as old, ending in a component made
// from tag and i (no leading zero), so byte-replacing it keeps the file's
// element lengths valid.
func sameLengthUID(old string, tag, i int) string {
	suffix := fmt.Sprintf("%d%04d%05d", tag, i%10000, i)
	if len(suffix) > len(old)-2 {
		panic("UID too short")
	}
	return old[:len(old)-len(suffix)-1] + "." + suffix
}

// syntheticStudy makes n instances of one new study from a corpus file by
// replacing its study, series and SOP Instance UIDs with new ones of the
// same length.
func syntheticStudy(t testing.TB, e corpusEntry, n, tag int) (study string, files [][]byte) {
	tmpl, err := os.ReadFile(corpusPath(e))
	requireDependency(t, err)
	study = sameLengthUID(e.Info.StudyInstanceUID, tag, 0)
	series := sameLengthUID(e.Info.SeriesInstanceUID, tag, 1)
	base := bytes.ReplaceAll(tmpl, []byte(e.Info.StudyInstanceUID), []byte(study))
	base = bytes.ReplaceAll(base, []byte(e.Info.SeriesInstanceUID), []byte(series))
	for i := 0; i < n; i++ {
		sop := sameLengthUID(e.Info.SOPInstanceUID, tag, i+2)
		files = append(files, bytes.ReplaceAll(base, []byte(e.Info.SOPInstanceUID), []byte(sop)))
	}
	return study, files
}

func uploadAll(t testing.TB, srv *orthanctest.Server, files [][]byte) {
	var wg gosync.WaitGroup
	errs := make(chan error, len(files))
	sem := make(chan struct{}, 4)
	for _, f := range files {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := srv.Upload(f); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// BenchmarkRetrieveStudy retrieves a synthetic study (default 300 instances
// made from the corpus' JPEG-lossless CT; TELEREAD_BENCH_INSTANCES changes
// the count) from a local Orthanc with WADO-RS transfer-syntax=*, with this
// client ("client") and with curl writing the same URL to a file ("curl").
func BenchmarkRetrieveStudy(b *testing.B) {
	n := 300
	if v, err := strconv.Atoi(os.Getenv("TELEREAD_BENCH_INSTANCES")); err == nil && v > 0 {
		n = v
	}
	man := loadManifest(b)
	srv := orthanctest.New(b, orthanctest.Options{})
	study, files := syntheticStudy(b, man["ct2_jpeg_lossless_sv1"], n, 7)
	uploadAll(b, srv, files)
	var total int64
	for _, f := range files {
		total += int64(len(f))
	}
	ctx := context.Background()

	b.Run("client", func(b *testing.B) {
		c := newTestClient(b, srv.DICOMwebURL, nil)
		b.SetBytes(total)
		for b.Loop() {
			var got int64
			parts, err := c.RetrieveStudy(ctx, study, func(p io.Reader) error {
				m, err := io.Copy(io.Discard, p)
				got += m
				return err
			})
			if err != nil || parts != n || got != total {
				b.Fatalf("%d parts, %d bytes, err %v; want %d, %d", parts, got, err, n, total)
			}
		}
	})
	b.Run("client-to-files", func(b *testing.B) {
		c := newTestClient(b, srv.DICOMwebURL, nil)
		dir := b.TempDir()
		b.SetBytes(total)
		for b.Loop() {
			i := 0
			_, err := c.RetrieveStudy(ctx, study, func(p io.Reader) error {
				i++
				f, err := os.Create(filepath.Join(dir, strconv.Itoa(i)+".dcm"))
				if err != nil {
					return err
				}
				_, err = io.Copy(f, p)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("curl-to-file", func(b *testing.B) {
		curl, err := exec.LookPath("curl")
		if err != nil {
			missing(b, fmt.Errorf("curl, the peer this compares with: %w", err))
		}
		out := filepath.Join(b.TempDir(), "study.multipart")
		if os.Getenv("TELEREAD_BENCH_CURL_DEVNULL") != "" {
			out = os.DevNull
		}
		b.SetBytes(total)
		for b.Loop() {
			cmd := exec.Command(curl, "-sf", "-o", out,
				"-H", `Accept: `+acceptFor([]string{SyntaxAsStored}), srv.DICOMwebURL+"/studies/"+study)
			if msg, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("curl: %v %s", err, msg)
			}
		}
	})
}
