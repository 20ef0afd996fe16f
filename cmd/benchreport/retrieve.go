package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	gosync "sync"
	"time"

	"teleread/cache"
	"teleread/cache/cachetest"
	"teleread/sync"
	"teleread/sync/orthanctest"
	"teleread/viewer/dataset"
)

// retrieveFloor is issue 5's floor: Teleread's throughput over curl's.
const retrieveFloor = 0.8

// acceptStored asks WADO-RS for the instances as stored (what Teleread asks).
const acceptStored = `multipart/related; type="application/dicom"; transfer-syntax=*`

// benchRetrieve starts a private Orthanc, uploads a generated CT study and
// times Teleread retrieving it into fresh caches beside curl fetching the
// same WADO-RS study URL into a file.
func benchRetrieve(b *bench) error {
	src, err := b.corpusFile("ct2_jpeg_lossless_sv1")
	if err != nil {
		return err
	}
	paths, err := cachetest.MakeSeries(src, filepath.Join(b.tmp, "retrieve-study"), b.instances)
	if err != nil {
		return err
	}
	study, series, err := studyOf(src)
	if err != nil {
		return err
	}
	if b.series > 1 {
		if err := splitSeries(paths, series, b.series); err != nil {
			return err
		}
	}
	var payload int64
	for _, p := range paths {
		payload += fileSize(p)
	}

	srv, err := orthanctest.Start(filepath.Join(b.tmp, "orthanc"), orthanctest.Options{})
	if err != nil {
		return err
	}
	defer srv.Stop()
	if err := uploadAll(srv, paths); err != nil {
		return err
	}
	fmt.Fprintf(b.out, "Study of %d instances in %d series made from %s (512x512 JPEG lossless, %d bytes each, %.1f MB in all),\n",
		len(paths), b.series, filepath.Base(src), fileSize(src), float64(payload)/1e6)
	fmt.Fprintf(b.out, "retrieved from a private Orthanc on loopback (%s) with WADO-RS, transfer-syntax=* (stored bytes).\n",
		orDefault(toolVersion("Orthanc", "--version"), "version unknown"))

	client, err := sync.New(sync.Config{BaseURL: srv.DICOMwebURL})
	if err != nil {
		return err
	}
	ctx := context.Background()
	n := len(paths)

	// A fresh cache for each run; opening it is not timed.
	var c *cache.Cache
	run := 0
	closeCache := func() {
		if c != nil {
			home := c.Home()
			c.Close()
			os.RemoveAll(home)
			c = nil
		}
	}
	defer closeCache()
	freshCache := func() error {
		closeCache()
		run++
		var err error
		c, err = cache.Open(filepath.Join(b.tmp, fmt.Sprintf("retrieve-cache-%d", run)))
		return err
	}

	// The puller: QIDO for the instance list, then series retrieved in
	// parallel, each part stored atomically, the study marked ready.
	puller, pullerErr := b.eachRun(freshCache, func() error {
		p := &sync.Puller{
			Client:   client,
			Store:    c,
			Reader:   "BENCH^READER",
			Worklist: &sync.Query{Match: []sync.Param{{Key: "StudyInstanceUID", Value: study}}},
		}
		res, err := p.Pull(ctx)
		if err != nil {
			return err
		}
		if res.Fetched != n || !slices.Contains(res.Ready, study) {
			return fmt.Errorf("puller fetched %d of %d instances, ready %v, failed %v", res.Fetched, n, res.Ready, res.Failed)
		}
		return nil
	})

	// One study retrieve, each part streamed into the cache.
	direct, directErr := b.eachRun(freshCache, func() error {
		got, err := client.RetrieveStudy(ctx, study, func(part io.Reader) error {
			_, err := c.Import(part, "study "+study)
			return err
		})
		if err == nil && got != n {
			err = fmt.Errorf("%d parts, want %d", got, n)
		}
		return err
	})
	closeCache()

	// The same retrieve with the parts discarded: the client alone.
	discard, discardErr := b.eachRun(nil, func() error {
		got, err := client.RetrieveStudy(ctx, study, func(part io.Reader) error {
			_, err := io.Copy(io.Discard, part)
			return err
		})
		if err == nil && got != n {
			err = fmt.Errorf("%d parts, want %d", got, n)
		}
		return err
	})

	// curl writing the same study URL into a file; its start-up is curl on
	// Orthanc's tiny /system answer.
	out := filepath.Join(b.tmp, "curl-study.multipart")
	url := srv.DICOMwebURL + "/studies/" + study
	curl, curlErr := b.timeCommand(command{"curl", []string{"-sf", "-H", "Accept: " + acceptStored, url, "-o", out}})
	var curlStart time.Duration
	curlStartErr := curlErr
	if curlErr == nil {
		curlStart, curlStartErr = b.timeCommand(command{"curl", []string{"-sf", srv.URL + "/system", "-o", filepath.Join(b.tmp, "curl-system.json")}})
	}
	curlBytes := fileSize(out)
	// curl then an fsync of its one file: the peer made durable, for scale.
	var curlSync time.Duration
	curlSyncErr := curlErr
	if curlErr == nil {
		curlSync, curlSyncErr = b.timeCommand(command{"sh", []string{"-c",
			`curl -sf -H "Accept: $1" "$2" -o "$3" && sync "$3"`, "sh", acceptStored, url, out}})
	}

	mb := float64(payload) / 1e6
	t := newPeerTable("curl", "floor 0.8x", mb, "MB", curl, curlErr, curlStart, curlStartErr)
	atFloor := func(ours, peer float64) string {
		if peer <= 0 {
			return ""
		}
		return verdict(ours/peer >= retrieveFloor)
	}
	perInstance := func(d time.Duration) string { return " (" + rate(float64(n), d, "inst") + ")" }
	t.row("puller into a fresh cache (durable, study ready)", puller, pullerErr, perInstance(puller), atFloor)
	t.row("RetrieveStudy + cache.Import per part (durable)", direct, directErr, perInstance(direct), nil)
	t.row("RetrieveStudy, parts discarded (client only)", discard, discardErr, perInstance(discard), nil)
	t.print(b.out)
	fmt.Fprintf(b.out, "  MB/s counts the instances' bytes (%.1f MB) for both; curl's file, with the multipart framing, had %.1f MB.\n", mb, float64(curlBytes)/1e6)
	if curlErr == nil {
		fmt.Fprintf(b.out, "  curl: %s per retrieve; its start-up (curl on the tiny /system answer) %s.\n", ms(curl), msOr(curlStart, curlStartErr))
	}
	fmt.Fprintln(b.out, "  The puller's figure includes its QIDO-RS queries, the study's state rows and a filesystem sync per group of 100 instances;")
	fmt.Fprintf(b.out, "  it retrieves series in parallel (%d series here). curl writes one file and fsyncs nothing;\n", b.series)
	if curlSyncErr == nil {
		fmt.Fprintf(b.out, "  curl followed by `sync FILE` (one fsync of its one file) took %s: %s.\n", ms(curlSync), rate(mb, curlSync, "MB"))
	} else {
		fmt.Fprintf(b.out, "  curl followed by `sync FILE`: %s.\n", na(curlSyncErr))
	}
	return nil
}

// studyOf returns the Study and Series Instance UIDs of a DICOM file.
func studyOf(path string) (study, series string, err error) {
	f, err := dataset.Open(path)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	study, series = f.String(dataset.StudyInstanceUID), f.String(dataset.SeriesInstanceUID)
	if study == "" || series == "" {
		return "", "", fmt.Errorf("%s: no Study or Series Instance UID", filepath.Base(path))
	}
	return study, series, nil
}

// splitSeries spreads the files over k series by giving each group a Series
// Instance UID of the same length as the original (so no length changes).
func splitSeries(paths []string, series string, k int) error {
	if len(series) < 8 || k > 9999 {
		return fmt.Errorf("cannot split series %q in %d", series, k)
	}
	for i, p := range paths {
		s := i * k / len(paths)
		if s == 0 {
			continue
		}
		uid := series[:len(series)-5] + fmt.Sprintf("%05d", 10000+s)
		if series[len(series)-6] == '.' && uid[len(uid)-5] == '0' {
			return fmt.Errorf("cannot vary series UID %q", series)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(p, bytes.ReplaceAll(data, []byte(series), []byte(uid)), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// uploadAll stores the files in Orthanc, four at a time.
func uploadAll(srv *orthanctest.Server, paths []string) error {
	var (
		wg   gosync.WaitGroup
		mu   gosync.Mutex
		errs []error
	)
	sem := make(chan struct{}, 4)
	for _, p := range paths {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := srv.UploadFile(p); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
