package sync

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	gosync "sync"
	"testing"
	"time"

	"teleread/sync/orthanctest"

	"teleread/internal/corpustest"
)

// The tests share one private Orthanc, seeded once with corpus files.

var corpusDir = corpustest.Find()

// seedFiles are the corpus files uploaded to the shared archive: several
// studies of several patients, one to three instances each, in many transfer
// syntaxes (JPEG 2000, JPEG-LS, JPEG lossless and extended, RLE, deflated,
// big endian, a file without meta header).
var seedFiles = []string{
	"ct2_j2k_lossy", "ct2_jpeg_lossless_sv1", "ct2_jpegls_near_lossless", // one CT study, 3 instances
	"ct_small_explicit_le", "parametric_map_float32", // one study, CT + OT series
	"mr1_jpeg_extended_wg04", "mr_small_rle", // one MR study, 2 series
	"nm1_jpeg_extended_fixed", "mr2_j2k_lossy_rescale", "us1_j2k_lossless_ybr_rct", "cr_rg1_j2k_lossy_mono1_large",
	"sc_jpeg_baseline_mono8", "sc_jpeg_baseline_rgb", "sc_jpeg_baseline_ybr_full_422", "sc_rgb_rle", // Lestrade^G
	"xa_cine_jpeg_baseline", "us_rgb_planar1_big_endian", "image_deflate_sc", "cr_mono1_chest_nometa",
}

// corpusEntry is a corpus MANIFEST.json entry (internal/corpustest loads the
// corpus for every package's tests).
type corpusEntry = corpustest.Entry

var (
	archiveOnce gosync.Once
	archiveSrv  *orthanctest.Server
	archiveErr  error
	manifest    map[string]corpusEntry
)

func TestMain(m *testing.M) {
	code := m.Run()
	if archiveSrv != nil {
		archiveSrv.Stop()
		os.RemoveAll(archiveSrv.Dir)
	}
	os.Exit(code)
}

// requireDependency skips, or fails under CI=true, when err says something
// the test needs is missing.
func requireDependency(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") != "true" && (errors.Is(err, orthanctest.ErrNotInstalled) || errors.Is(err, os.ErrNotExist)) {
		t.Skip(err)
	}
	t.Fatal(err)
}

// missing skips a benchmark or test whose peer (a tool it compares with) is
// missing, or fails it under CI=true, where every dependency must be present:
// a benchmark that quietly skips measures nothing.
func missing(tb testing.TB, err error) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatal(err)
	}
	tb.Skip(err)
}

func loadManifest(t testing.TB) map[string]corpusEntry {
	t.Helper()
	if manifest != nil {
		return manifest
	}
	entries, err := corpustest.ReadManifest(corpusDir)
	requireDependency(t, err)
	manifest = map[string]corpusEntry{}
	for _, f := range entries {
		manifest[f.ID] = f
	}
	return manifest
}

func corpusPath(e corpusEntry) string { return filepath.Join(corpusDir, e.File) }

// sharedArchive returns the seeded Orthanc.
func sharedArchive(t testing.TB) *orthanctest.Server {
	t.Helper()
	man := loadManifest(t)
	archiveOnce.Do(func() {
		dir, err := os.MkdirTemp("", "teleread-sync-orthanc-")
		if err != nil {
			archiveErr = err
			return
		}
		archiveSrv, archiveErr = orthanctest.Start(dir, orthanctest.Options{})
		if archiveErr != nil {
			os.RemoveAll(dir)
			return
		}
		for _, id := range seedFiles {
			e, ok := man[id]
			if !ok {
				archiveErr = fmt.Errorf("corpus has no %s", id)
				return
			}
			if _, err := archiveSrv.UploadFile(corpusPath(e)); err != nil {
				archiveErr = err
				return
			}
		}
	})
	requireDependency(t, archiveErr)
	return archiveSrv
}

func newTestClient(t testing.TB, baseURL string, mod func(*Config)) *Client {
	t.Helper()
	// As stored, so that the tests can compare bytes with the archive's;
	// syntax_test.go covers the negotiated syntaxes.
	cfg := Config{BaseURL: baseURL, RetryBaseDelay: 5 * time.Millisecond, RetryMaxDelay: 50 * time.Millisecond,
		TransferSyntaxes: []string{SyntaxAsStored}}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// storedSHA256 returns the SHA-256 of each instance Orthanc stores for a
// study, by its own REST API (GET /instances/{id}/file).
func storedSHA256(t testing.TB, srv *orthanctest.Server, studyUID string) map[string]bool {
	t.Helper()
	ids := lookupStudy(t, srv, studyUID)
	out := map[string]bool{}
	for _, sid := range ids {
		b, err := srv.Get("/studies/" + sid + "/instances")
		if err != nil {
			t.Fatal(err)
		}
		var insts []struct{ ID string }
		if err := json.Unmarshal(b, &insts); err != nil {
			t.Fatal(err)
		}
		for _, in := range insts {
			f, err := srv.InstanceFile(in.ID)
			if err != nil {
				t.Fatal(err)
			}
			out[sha(f)] = true
		}
	}
	return out
}

// lookupStudy finds Orthanc's identifiers of a study UID.
func lookupStudy(t testing.TB, srv *orthanctest.Server, studyUID string) []string {
	t.Helper()
	b, err := srv.Get("/studies?expand")
	if err != nil {
		t.Fatal(err)
	}
	var studies []struct {
		ID            string
		MainDicomTags struct{ StudyInstanceUID string }
	}
	if err := json.Unmarshal(b, &studies); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range studies {
		if s.MainDicomTags.StudyInstanceUID == studyUID {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
