package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"teleread/cache"
	"teleread/cache/cachetest"
	"teleread/sync/orthanctest"
	"teleread/viewer"
	"teleread/viewer/dataset"
)

// seedArchive uploads corpus studies to a private Orthanc and assigns copies of
// them: five to Reader^A (dates after the originals, so each original is a prior
// of the same patient) and three to Reader^B. It returns A's and B's study UIDs.
func seedArchive(t *testing.T, srv *orthanctest.Server) (a, b []string) {
	t.Helper()
	files := []string{"ct_small_explicit_le.dcm", "mr_small_explicit_le.dcm", "ct2_jpeg_lossless_sv1.dcm",
		"us_cine_jpeg_ybr422_30f.dcm", "mr_prostate_tcia_rescale.dcm", "pet_tcia_icon.dcm"}
	var originals []string
	for _, f := range files {
		if _, err := srv.UploadFile(filepath.Join(corpusDir, "files", f)); err != nil {
			t.Fatal(err)
		}
		var info struct{ StudyInstanceUID string }
		r := teleread(t, t.TempDir(), "info", "--json", filepath.Join(corpusDir, "files", f))
		json.Unmarshal([]byte(r.stdout), &info)
		originals = append(originals, info.StudyInstanceUID)
	}
	for i := range 5 {
		uid, err := srv.CopyStudy(originals[i], map[string]string{"NameOfPhysiciansReadingStudy": "Reader^A", "StudyDate": "20260101"})
		if err != nil {
			t.Fatal(err)
		}
		a = append(a, uid)
	}
	for _, i := range []int{0, 5, 5} {
		uid, err := srv.CopyStudy(originals[i], map[string]string{"NameOfPhysiciansReadingStudy": "Reader^B", "StudyDate": "20260102"})
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, uid)
	}
	return a, b
}

// TestSyncOnceCLI: `sync --once` as Reader^A leaves exactly A's studies and their
// priors in the cache, byte-identical to what the archive stores; offline, it
// says so and exits non-zero while the cached studies still render. Each
// retrieved study is in the audit trail.
func TestSyncOnceCLI(t *testing.T) {
	requireCorpus(t)
	srv := orthanctest.New(t, orthanctest.Options{})
	a, b := seedArchive(t, srv)
	home := t.TempDir()
	r := teleread(t, home, "sync", "--once", "--archive", srv.DICOMwebURL, "--reader", "Reader^A", "--priors", "1")
	if r.code != 0 {
		t.Fatalf("sync --once: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// The archive is this machine: the link policy asks for the stored
	// bytes, and the sync says so.
	if !strings.Contains(r.stdout, "link: ") || !strings.Contains(r.stdout, "(fast link: stored bytes)") {
		t.Errorf("sync --once on loopback does not say it asked for the stored bytes:\n%s", r.stdout)
	}
	var studies []struct {
		StudyInstanceUID  string
		NumberOfInstances int
	}
	json.Unmarshal([]byte(teleread(t, home, "studies", "--json").stdout), &studies)
	got := map[string]bool{}
	for _, s := range studies {
		got[s.StudyInstanceUID] = true
	}
	for _, uid := range a {
		if !got[uid] {
			t.Errorf("assigned study %s missing", uid)
		}
	}
	for _, uid := range b {
		if got[uid] {
			t.Errorf("Reader^B's study %s fetched", uid)
		}
	}
	if len(studies) != 10 { // five assigned, five priors (the originals)
		t.Errorf("%d studies in the cache, want 10", len(studies))
	}
	instances := 0
	for _, s := range studies {
		instances += s.NumberOfInstances
	}
	sameAsArchive(t, srv, home, instances)
	// Encrypted at rest: no patient name, ID or accession number of the
	// studies retrieved can be read off the disk.
	phi := identifying(t, corpusPaths([]string{"ct_small_explicit_le.dcm", "mr_small_explicit_le.dcm", "ct2_jpeg_lossless_sv1.dcm",
		"us_cine_jpeg_ybr422_30f.dcm", "mr_prostate_tcia_rescale.dcm"}))
	if found := grepFinds(t, phi, filepath.Join(home, "files"), filepath.Join(home, "tmp")); found != "" {
		t.Errorf("identifying values readable in the cache after sync:\n%s", found)
	}
	if v := teleread(t, home, "verify"); v.code != 0 {
		t.Errorf("verify: %s", v.stdout)
	}
	// Each study retrieved is in the audit trail as sync-retrieve.
	var evs []struct{ Action, Study string }
	json.Unmarshal([]byte(teleread(t, home, "audit", "--json").stdout), &evs)
	retrieved := map[string]bool{}
	for _, e := range evs {
		if e.Action == "sync-retrieve" {
			retrieved[e.Study] = true
		}
	}
	for _, s := range studies {
		if !retrieved[s.StudyInstanceUID] {
			t.Errorf("study %s retrieved without a sync-retrieve line in audit.log", s.StudyInstanceUID)
		}
	}

	srv.Kill()
	off := teleread(t, home, "sync", "--once", "--archive", srv.DICOMwebURL, "--reader", "Reader^A")
	if off.code == 0 || !strings.Contains(off.stderr, "OFFLINE") {
		t.Errorf("offline sync: exit %d, stderr %q", off.code, off.stderr)
	}
	var inst []string
	filepath.WalkDir(filepath.Join(home, "files"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			inst = append(inst, p)
		}
		return nil
	})
	if len(inst) == 0 {
		t.Fatal("no cached files")
	}
	out := filepath.Join(t.TempDir(), "x.png")
	if rr := teleread(t, home, "render", inst[0], "-o", out); rr.code != 0 {
		t.Errorf("render while offline: %s", rr.stderr)
	}
}

// sameAsArchive checks that the cache at home holds want files and that each
// is the archive's stored copy of the same SOP Instance (as the file itself
// names it): byte-identical when it came in the stored transfer syntax,
// pixel-identical (every frame decoded by the viewer, both sides) when the
// archive transcoded it for the negotiated syntax. A file the archive has no
// instance for, or a cache with fewer or more files than want, fails, so the
// check can never pass by comparing nothing.
func sameAsArchive(t *testing.T, srv *orthanctest.Server, home string, want int) {
	t.Helper()
	compared := 0
	c, err := cache.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = filepath.WalkDir(filepath.Join(home, "files"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		// Sealed on disk: compared as the cache hands it out.
		st, _, err := c.OpenStoredPath(p)
		if err != nil {
			return err
		}
		local := make([]byte, st.Size())
		_, err = st.ReadAt(local, 0)
		st.Close()
		if err != nil {
			return err
		}
		f, err := dataset.ParseBytes(local, p)
		if err != nil {
			return err
		}
		sop := f.String(dataset.SOPInstanceUID)
		if name := strings.TrimSuffix(filepath.Base(p), ".dcm"); name != sop {
			t.Errorf("%s holds SOP Instance %s", p, sop)
		}
		body, err := srv.Post("/tools/lookup", []byte(sop))
		if err != nil {
			return err
		}
		var ids []struct{ ID, Type string }
		if err := json.Unmarshal(body, &ids); err != nil {
			return fmt.Errorf("lookup %s: %w", sop, err)
		}
		var found []string
		for _, id := range ids {
			if id.Type == "Instance" {
				found = append(found, id.ID)
			}
		}
		if len(found) != 1 {
			t.Errorf("%s: the archive has %d instances of it, want 1 to compare with", sop, len(found))
			return nil
		}
		remote, err := srv.InstanceFile(found[0])
		if err != nil {
			return err
		}
		rf, err := dataset.ParseBytes(remote, "archive copy of "+sop)
		if err != nil {
			return err
		}
		if rf.TransferSyntax == f.TransferSyntax {
			if sha(local) != sha(remote) {
				t.Errorf("%s differs from the archive's copy (both %s)", sop, f.TransferSyntax)
			}
		} else if lp, rp := decodedPixels(t, f), decodedPixels(t, rf); !reflect.DeepEqual(lp, rp) {
			t.Errorf("%s: pixels in %s differ from the archive's copy in %s", sop, f.TransferSyntax, rf.TransferSyntax)
		}
		compared++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if compared != want {
		t.Errorf("compared %d cached files with the archive's copies, want %d", compared, want)
	}
}

// decodedPixels decodes every frame of f with the viewer.
func decodedPixels(t *testing.T, f *dataset.File) [][]any {
	t.Helper()
	im, err := viewer.NewImage(f)
	if err != nil {
		t.Fatalf("%s: %v", f.String(dataset.SOPInstanceUID), err)
	}
	var out [][]any
	for i := range im.NumFrames() {
		fr, err := im.Frame(i)
		if err != nil {
			t.Fatalf("%s frame %d: %v", f.String(dataset.SOPInstanceUID), i, err)
		}
		out = append(out, []any{fr.Rows, fr.Cols, fr.Samples, fr.Signed, fr.U8, fr.I8, fr.U16, fr.I16, fr.U32, fr.I32, fr.F32, fr.F64})
	}
	return out
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// slowBody hands a retrieve's body on in 256 KiB steps, pausing between
// them, so that a study takes long enough to kill the puller in its middle.
type slowBody struct {
	r    io.ReadCloser
	left int
}

func (b *slowBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		time.Sleep(10 * time.Millisecond)
		b.left = 256 << 10
	}
	n, err := b.r.Read(p[:min(len(p), b.left)])
	b.left -= n
	return n, err
}

func (b *slowBody) Close() error { return b.r.Close() }

// TestKilledSyncResumes: `teleread sync` killed with SIGKILL in each window of
// a commit in the middle of a large study (staged, placed, indexed: through
// the stall seam, the third commit of the study) leaves a cache that
// verifies, with no temporary file once it is opened again; the next `sync
// --once` fetches exactly the instances not yet indexed (one at a time, no
// study or series retrieve again), and the study is then complete and
// byte-identical to the archive's.
func TestKilledSyncResumes(t *testing.T) {
	requireCorpus(t)
	srv := orthanctest.New(t, orthanctest.Options{})
	const total = 120 // about 20 MB
	paths, err := cachetest.MakeSeries(filepath.Join(corpusDir, "files", "ct2_jpeg_lossless_sv1.dcm"), t.TempDir(), total)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if _, err := srv.UploadFile(p); err != nil {
			t.Fatal(err)
		}
	}
	var info struct{ StudyInstanceUID string }
	json.Unmarshal([]byte(teleread(t, t.TempDir(), "info", "--json", paths[0]).stdout), &info)
	study, err := srv.CopyStudy(info.StudyInstanceUID, map[string]string{"NameOfPhysiciansReadingStudy": "Reader^K"})
	if err != nil {
		t.Fatal(err)
	}

	// The archive seen through a proxy that slows retrieves down (so that
	// the study arrives in many commits) and counts what is asked of it.
	var bulkGets, instanceGets atomic.Int32
	target, _ := url.Parse(srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var slow atomic.Bool
	proxy.ModifyResponse = func(r *http.Response) error {
		p := r.Request.URL.Path
		switch {
		case strings.Contains(p, "/instances/"):
			instanceGets.Add(1)
		case strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/related"):
			// A study or series retrieve.
			bulkGets.Add(1)
			if slow.Load() {
				r.Body = &slowBody{r: r.Body}
			}
		}
		return nil
	}
	front := httptest.NewServer(proxy)
	defer front.Close()
	archive := front.URL + "/dicom-web"

	for _, step := range []string{cache.StepImportStaged, cache.StepImportPlaced, cache.StepImportIndexed} {
		t.Run(step, func(t *testing.T) {
			home := t.TempDir()
			slow.Store(true)
			killAt(t, home, step+":3", "sync", "--once", "--archive", archive, "--reader", "Reader^K", "--priors", "0")
			checkAfterCrash(t, home)
			stored := cachedInstances(t, home)[study]
			if stored == 0 || stored >= total {
				t.Fatalf("%d of %d instances stored when killed: not in the middle", stored, total)
			}
			t.Logf("killed with %d of %d instances stored", stored, total)
			// The part that arrived cannot be signed as the study.
			if r := teleread(t, home, "report", "--study", study, "--findings", "No acute finding.", "--sign"); r.code != 1 ||
				!strings.Contains(r.stderr, fmt.Sprintf("%d of %d instances are not in the cache", total-stored, total)) {
				t.Errorf("report --sign on the interrupted study: exit %d, %q; want exit 1 naming the %d missing", r.code, r.stderr, total-stored)
			}

			slow.Store(false)
			bulkGets.Store(0)
			instanceGets.Store(0)
			r := teleread(t, home, "sync", "--once", "--archive", archive, "--reader", "Reader^K", "--priors", "0")
			if r.code != 0 {
				t.Fatalf("second sync --once: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			if n := cachedInstances(t, home)[study]; n != total {
				t.Errorf("%d instances after the second sync, want %d", n, total)
			}
			if got, want := int(instanceGets.Load()), total-stored; got != want || bulkGets.Load() != 0 {
				t.Errorf("second sync fetched %d instances and %d studies or series, want the %d missing instances only", got, bulkGets.Load(), want)
			}
			checkAfterCrash(t, home)
			// Compared before signing: the signed report is a cached file the
			// archive has not received yet.
			sameAsArchive(t, srv, home, total)
			if r := teleread(t, home, "report", "--study", study, "--sign"); r.code != 0 {
				t.Errorf("report --sign on the completed study: exit %d, %q", r.code, r.stderr)
			}
		})
	}
}

// TestSyncDurableTrace traces `teleread sync --once` of a study: every
// retrieved instance's data synced before its rename into the cache, the
// rename synced before the index write naming it (see durable_test.go).
func TestSyncDurableTrace(t *testing.T) {
	requireCorpus(t)
	requireStrace(t)
	srv := orthanctest.New(t, orthanctest.Options{})
	const total = 40
	paths, err := cachetest.MakeSeries(filepath.Join(corpusDir, "files", "mr_small_explicit_le.dcm"), t.TempDir(), total)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if _, err := srv.UploadFile(p); err != nil {
			t.Fatal(err)
		}
	}
	var info struct{ StudyInstanceUID string }
	json.Unmarshal([]byte(teleread(t, t.TempDir(), "info", "--json", paths[0]).stdout), &info)
	if _, err := srv.CopyStudy(info.StudyInstanceUID, map[string]string{"NameOfPhysiciansReadingStudy": "Reader^T"}); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	r, calls := tracedTeleread(t, home, "sync", "--once", "--archive", srv.DICOMwebURL, "--reader", "Reader^T", "--priors", "0")
	if r.code != 0 {
		t.Fatalf("sync --once: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if n := checkPlacedDurably(t, calls, home); n != total {
		t.Errorf("%d files renamed into the cache, want %d", n, total)
	}
}
