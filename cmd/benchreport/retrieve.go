package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
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
	if err := settleDisk(); err != nil {
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

	// A fresh cache for each run; opening it is not timed. The caches (and
	// curl's files) are all removed at the end, not between runs: deleting
	// 50 MB makes the filesystem discard its blocks for a while after, and
	// the next timed run, whichever it is, would pay for it.
	var (
		c      *cache.Cache
		caches []string
	)
	closeCache := func() {
		if c != nil {
			c.Close()
			c = nil
		}
	}
	defer func() {
		closeCache()
		for _, home := range caches {
			os.RemoveAll(home)
		}
	}()
	freshCache := func() error {
		closeCache()
		home := filepath.Join(b.tmp, fmt.Sprintf("retrieve-cache-%d", len(caches)))
		caches = append(caches, home)
		var err error
		if c, err = cache.Open(home); err != nil {
			return err
		}
		return settleDisk()
	}

	// The puller: QIDO for the instance list, then series retrieved in
	// parallel, each part stored atomically, the study marked ready.
	pull := func() error {
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
	}
	// What `teleread open URL` runs for a shared study link: the puller's
	// FetchStudy (the same retrieve, staging and commits as a pull, without
	// the worklist query).
	openURL := func() error {
		p := &sync.Puller{Client: client, Store: c}
		got, _, err := p.FetchStudy(ctx, study)
		if err == nil && got != n {
			err = fmt.Errorf("open URL fetched %d of %d instances", got, n)
		}
		return err
	}
	// One study retrieve, each part streamed into the cache (what open URL
	// did before it went through the puller).
	direct := func() error {
		got, err := client.RetrieveStudy(ctx, study, func(part io.Reader) error {
			_, err := c.Import(part, "study "+study)
			return err
		})
		if err == nil && got != n {
			err = fmt.Errorf("%d parts, want %d", got, n)
		}
		return err
	}
	// The same retrieve with each part written to a plain new file of its
	// own by four writers, spread over 256 directories made beforehand as the
	// cache's are, and nothing else (no sync, no parsing, no index): what one
	// file per instance costs on this filesystem before any of the cache's
	// work.
	var plainDir string
	plainSetup := func() error {
		plainDir = filepath.Join(b.tmp, fmt.Sprintf("plain-%d", len(caches)))
		caches = append(caches, plainDir)
		for i := range 256 {
			if err := os.MkdirAll(filepath.Join(plainDir, fmt.Sprintf("%02x", i)), 0o700); err != nil {
				return err
			}
		}
		return settleDisk()
	}
	plainFiles := func() error { return writePlainFiles(ctx, client, study, plainDir, n) }
	// The same retrieve with the parts discarded: the client alone.
	discard := func() error {
		got, err := client.RetrieveStudy(ctx, study, func(part io.Reader) error {
			_, err := io.Copy(io.Discard, part)
			return err
		})
		if err == nil && got != n {
			err = fmt.Errorf("%d parts, want %d", got, n)
		}
		return err
	}
	// curl writing the same study URL into a file; its start-up is curl on
	// Orthanc's tiny /system answer; then curl followed by an fsync of its
	// one file: the peer made durable, for scale.
	url := srv.DICOMwebURL + "/studies/" + study
	var out string // curl's latest file: a new one each run (see freshCache)
	newOut := func() string {
		out = filepath.Join(b.tmp, fmt.Sprintf("curl-study-%d.multipart", len(caches)))
		caches = append(caches, out)
		return out
	}
	runCmd := func(args func() command) func() error {
		return func() error {
			c := args()
			if _, err := exec.LookPath(c.name); err != nil {
				return fmt.Errorf("%s %w", c.name, errNoTool)
			}
			_, err := c.runOnce()
			return err
		}
	}
	curlCmd := runCmd(func() command {
		return command{"curl", []string{"-sf", "-H", "Accept: " + acceptStored, url, "-o", newOut()}}
	})
	curlStartCmd := runCmd(func() command {
		return command{"curl", []string{"-sf", srv.URL + "/system", "-o", filepath.Join(b.tmp, "curl-system.json")}}
	})
	curlSyncCmd := runCmd(func() command {
		return command{"sh", []string{"-c", `curl -sf -H "Accept: $1" "$2" -o "$3" && sync "$3"`, "sh", acceptStored, url, newOut()}}
	})
	// Each round runs every measure once, curl right after the puller, so
	// that both see the same moment of the machine.
	rounds := max(b.runs, 7)
	ds, errs := interleaved(rounds, []timedOp{
		{freshCache, pull},
		{settleDisk, curlCmd},
		{freshCache, direct},
		{nil, discard},
		{nil, curlStartCmd},
		{settleDisk, curlSyncCmd},
		{plainSetup, plainFiles},
		{freshCache, openURL},
	})
	closeCache()
	puller, pullerErr := ds[0], errs[0]
	curl, curlErr := ds[1], errs[1]
	directD, directErr := ds[2], errs[2]
	discardD, discardErr := ds[3], errs[3]
	curlStart, curlStartErr := ds[4], errs[4]
	curlSync, curlSyncErr := ds[5], errs[5]
	plain, plainErr := ds[6], errs[6]
	openD, openErr := ds[7], errs[7]
	curlBytes := fileSize(out)

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
	t.row("open URL: Puller.FetchStudy into a fresh cache (durable)", openD, openErr, perInstance(openD), atFloor)
	t.row("RetrieveStudy + cache.Import per part (durable; open URL before)", directD, directErr, perInstance(directD), nil)
	t.row("RetrieveStudy, parts discarded (client only)", discardD, discardErr, perInstance(discardD), nil)
	t.row("RetrieveStudy, a plain file per part, 4 writers", plain, plainErr, perInstance(plain), nil)
	t.print(b.out)
	fmt.Fprintf(b.out, "  Medians of %d rounds, each running every measure once in turn (after one untimed round).\n", rounds)
	fmt.Fprintf(b.out, "  MB/s counts the instances' bytes (%.1f MB) for both; curl's file, with the multipart framing, had %.1f MB.\n", mb, float64(curlBytes)/1e6)
	if curlErr == nil {
		fmt.Fprintf(b.out, "  curl: %s per retrieve; its start-up (curl on the tiny /system answer) %s.\n", ms(curl), msOr(curlStart, curlStartErr))
	}
	fmt.Fprintln(b.out, "  The puller's figure includes its QIDO-RS queries, the study's state rows, one file per instance and the")
	fmt.Fprintf(b.out, "  filesystem syncs that make them durable; it retrieves series in parallel (%d series here). curl writes one\n", b.series)
	fmt.Fprintln(b.out, "  file and fsyncs nothing. The plain-file row is the floor of any one-file-per-instance store here.")
	if curlSyncErr == nil {
		fmt.Fprintf(b.out, "  curl followed by `sync FILE` (one fsync of its one file) took %s: %s", ms(curlSync), rate(mb, curlSync, "MB"))
		if pullerErr == nil && puller > 0 {
			fmt.Fprintf(b.out, "; the puller's rate over it: %.2fx", float64(curlSync)/float64(puller))
		}
		if openErr == nil && openD > 0 {
			fmt.Fprintf(b.out, "; open URL's: %.2fx", float64(curlSync)/float64(openD))
		}
		fmt.Fprintln(b.out, ".")
	} else {
		fmt.Fprintf(b.out, "  curl followed by `sync FILE`: %s.\n", na(curlSyncErr))
	}
	return nil
}

// settleDisk flushes what the set-up left dirty (Orthanc's copy of the
// uploaded study, the previous run's cache being deleted, curl's previous
// file) before a timed run: the durable runs' filesystem syncs would
// otherwise write it out, and be charged for it.
func settleDisk() error { return exec.Command("sync").Run() }

// writePlainFiles retrieves the study and writes each part to a new file in
// one of dir's 256 subdirectories, four at a time: no sync, no parsing, no
// index.
func writePlainFiles(ctx context.Context, client *sync.Client, study, dir string, want int) error {
	var (
		wg    gosync.WaitGroup
		mu    gosync.Mutex
		first error
	)
	slots := make(chan struct{}, 4)
	i := 0
	got, err := client.RetrieveStudy(ctx, study, func(part io.Reader) error {
		data, err := io.ReadAll(part)
		if err != nil {
			return err
		}
		i++
		name := filepath.Join(dir, fmt.Sprintf("%02x", (i*37)%256), fmt.Sprintf("%d.dcm", i))
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			if err := os.WriteFile(name, data, 0o600); err != nil {
				mu.Lock()
				first = cmp.Or(first, err)
				mu.Unlock()
			}
		}()
		return nil
	})
	wg.Wait()
	if err == nil && got != want {
		err = fmt.Errorf("%d parts, want %d", got, want)
	}
	return cmp.Or(err, first)
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
