package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"teleread/cache"
	tsync "teleread/sync"
	"teleread/sync/orthanctest"
)

// configuredArchive starts a private Orthanc behind HTTP basic authentication,
// holding one study assigned to reader (a copy of a sample), and writes a
// configuration file naming it with its credentials. It returns the server,
// the assigned study and the file.
func configuredArchive(t *testing.T, reader, sample string) (*orthanctest.Server, string, string) {
	t.Helper()
	srv := orthanctest.New(t, orthanctest.Options{Users: map[string]string{"radiologist": "s3cret"}})
	src := filepath.Join(samplesDir(t), sample)
	srv.MustUploadFiles(t, src)
	assigned, err := srv.CopyStudy(studyUIDOf(t, src), map[string]string{"NameOfPhysiciansReadingStudy": reader, "StudyDate": "20261127"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(map[string]any{"archive": srv.DICOMwebURL, "reader": reader, "user": "radiologist", "password": "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, assigned, path
}

// runConfiguredApp runs the workstation on the cache in home the way main
// does (the configuration loaded from TELEREAD_CONFIG, the sample studies
// there for a demo archive) until its worklist holds want, ready, and
// returns the worklist screen's rows (study UID: whether it is an assignment,
// as opposed to a study merely in the cache) and the archive the status bar
// names.
func runConfiguredApp(t *testing.T, home, want string) (rows map[string]bool, archive string) {
	t.Helper()
	c, err := cache.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	q := &uiQueue{}
	old := ui
	ui = q.push
	defer func() { ui = old }()
	a := test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	cfg := Config{Cache: c, Home: home, Preferences: a.Preferences(), SamplesDir: samplesDir(t), SyncInterval: time.Hour}
	if err := cfg.defaults(); err != nil {
		t.Fatal(err)
	}
	ws, err := newWorkstation(cfg, a, w)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.close()
	ws.startSync()
	deadline := time.Now().Add(90 * time.Second)
	for {
		q.runPending()
		rows = map[string]bool{}
		ready := false
		for _, r := range ws.worklist.view.All {
			rows[r.UID] = !r.AssignedAt.IsZero()
			ready = ready || (r.UID == want && r.State == tsync.StateReady)
		}
		if ready && ws.lastStatus.Archive != "" {
			return rows, ws.lastStatus.Archive
		}
		if time.Now().After(deadline) {
			t.Fatalf("the worklist never showed %s: rows %v, archive %q, last message %q",
				want, rows, ws.lastStatus.Archive, ws.status.message.Text)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAppSyncsFromConfiguredArchive: with TELEREAD_CONFIG naming an archive
// (a real Orthanc that wants the configured credentials) the app's worklist
// comes from that archive, and no demo archive starts although the sample
// studies are there to seed one.
func TestAppSyncsFromConfiguredArchive(t *testing.T) {
	const reader = "Doe^Jane"
	srv, assigned, path := configuredArchive(t, reader, "ct_small_explicit_le.dcm")
	t.Setenv("TELEREAD_CONFIG", path)
	home := t.TempDir()
	rows, archive := runConfiguredApp(t, home, assigned)
	if archive != srv.DICOMwebURL {
		t.Errorf("the status bar names archive %q; want the configured %q", archive, srv.DICOMwebURL)
	}
	orig := studyUIDOf(t, filepath.Join(samplesDir(t), "ct_small_explicit_le.dcm"))
	for uid := range rows {
		if uid != assigned && uid != orig { // the assigned study and its original as a prior
			t.Errorf("worklist row %s is not from the configured archive", uid)
		}
	}
	if _, err := os.Stat(filepath.Join(home, "demo-archive")); !os.IsNotExist(err) {
		t.Errorf("a demo archive was started beside the configured one (%v)", err)
	}
}

// TestSwitchingArchivesDropsOldWorklist: after the configuration names another
// archive, the first archive's rows are gone from the worklist (its studies
// stay readable in the cache) and the new archive's study is there.
func TestSwitchingArchivesDropsOldWorklist(t *testing.T) {
	const reader = "Doe^Jane"
	_, first, path1 := configuredArchive(t, reader, "ct_small_explicit_le.dcm")
	srv2, second, path2 := configuredArchive(t, reader, "mr_small_explicit_le.dcm")
	home := t.TempDir()

	t.Setenv("TELEREAD_CONFIG", path1)
	runConfiguredApp(t, home, first)

	t.Setenv("TELEREAD_CONFIG", path2)
	rows, archive := runConfiguredApp(t, home, second)
	if archive != srv2.DICOMwebURL {
		t.Errorf("the status bar names archive %q; want %q", archive, srv2.DICOMwebURL)
	}
	// The old study may still be listed as a study in the cache (it is
	// readable), never as an assignment.
	if rows[first] {
		t.Errorf("the first archive's study %s is still assigned on the worklist after switching: %v", first, rows)
	}
	if !rows[second] {
		t.Errorf("the second archive's study %s is not an assignment: %v", second, rows)
	}
	c, err := cache.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if n, err := c.StudyInstanceCount(first); err != nil || n == 0 {
		t.Errorf("the first archive's study is no longer readable from the cache: %d instances, %v", n, err)
	}
	if _, err := c.WorkItemByUID(first); err == nil {
		t.Errorf("the first archive's worklist row is still in the cache")
	}
}
