package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"teleread/app/internal/worklist"
	"teleread/cache"
	tsync "teleread/sync"
	"teleread/sync/config"
	"teleread/sync/orthanctest"
)

// memKeyring stands in for the system keyring in the app's tests (the
// keyring itself is sync/config's to test).
type memKeyring struct {
	mu gosync.Mutex
	m  map[string]string
}

func (k *memKeyring) Get(key string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	s, ok := k.m[key]
	if !ok {
		return "", config.ErrNoSecret
	}
	return s, nil
}

func (k *memKeyring) Set(key, s string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m[key] = s
	return nil
}

func (k *memKeyring) Delete(key string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.m, key)
	return nil
}

func useMemKeyring(t *testing.T) *memKeyring {
	k := &memKeyring{m: map[string]string{}}
	old := config.Keyring
	config.Keyring = k
	t.Cleanup(func() { config.Keyring = old })
	return k
}

// liveApp is a workstation run the way Run runs it, on a test window, its UI
// callbacks queued for the test to run.
type liveApp struct {
	ws  *workstation
	q   *uiQueue
	now time.Time // what the workstation's clock says
	mu  gosync.Mutex
}

func startLiveApp(t *testing.T, home string) *liveApp {
	t.Helper()
	c, err := cache.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	la := &liveApp{q: &uiQueue{}, now: time.Now()}
	old := ui
	ui = la.q.push
	t.Cleanup(func() { ui = old })
	a := test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	cfg := Config{Cache: c, Home: home, Preferences: a.Preferences(), SamplesDir: samplesDir(t), SyncInterval: time.Hour,
		Now: func() time.Time { la.mu.Lock(); defer la.mu.Unlock(); return la.now }}
	if err := cfg.defaults(); err != nil {
		t.Fatal(err)
	}
	ws, err := newWorkstation(cfg, a, w)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ws.close)
	la.ws = ws
	ws.startSync()
	return la
}

// waitRow runs the UI queue until the worklist holds uid ready (and the
// status bar names archive, when not "").
func (la *liveApp) waitRow(t *testing.T, uid, archive string) worklist.Row {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		la.q.runPending()
		for _, r := range la.ws.worklist.view.All {
			if r.UID == uid && r.State == tsync.StateReady && (archive == "" || la.ws.lastStatus.Archive == archive) {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the worklist never showed %s ready from %q: archive %q, last message %q",
				uid, archive, la.ws.lastStatus.Archive, la.ws.status.message.Text)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitFor runs the UI queue until cond holds.
func (la *liveApp) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for la.q.runPending(); !cond(); la.q.runPending() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: never; status %q", what, la.ws.status.message.Text)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (la *liveApp) cell(uid string, col int) string {
	for _, r := range la.ws.worklist.view.All {
		if r.UID == uid {
			return r.Cell(col, la.ws.cfg.Now(), la.ws.worklist.target)
		}
	}
	return ""
}

func writeConfig(t *testing.T, path string, v map[string]any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSettingsTakeEffectWithoutRestart: the Settings form names another
// archive with its password; on Save the configuration file changes (the
// password not in it, in the keyring), and the running app syncs from the
// new archive without a restart, with the new turnaround targets.
func TestSettingsTakeEffectWithoutRestart(t *testing.T) {
	kr := useMemKeyring(t)
	const reader = "Doe^Jane"
	srv1, first, path := configuredArchive(t, reader, "ct_small_explicit_le.dcm")
	srv2 := orthanctest.New(t, orthanctest.Options{Users: map[string]string{"second": "an0ther-s3cret"}})
	src := filepath.Join(samplesDir(t), "mr_small_explicit_le.dcm")
	srv2.MustUploadFiles(t, src)
	second, err := srv2.CopyStudy(studyUIDOf(t, src), map[string]string{"NameOfPhysiciansReadingStudy": reader, "StudyDate": "20261127"})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("TELEREAD_CONFIG", path)
	la := startLiveApp(t, t.TempDir())
	la.waitRow(t, first, srv1.DICOMwebURL)

	base, err := config.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f := newSettingsForm(base)
	f.url.SetText(srv2.DICOMwebURL)
	f.user.SetText("second")
	f.secret.SetText("an0ther-s3cret")
	f.routine.SetText("1")
	conf, err := f.apply(base)
	if err != nil {
		t.Fatal(err)
	}
	la.ws.saveSettings(path, conf)
	la.waitRow(t, second, srv2.DICOMwebURL)
	if got := la.ws.worklist.target.For(tsync.PriorityRoutine); got != time.Minute {
		t.Errorf("the worklist's ROUTINE target is %v after Settings set 1 min", got)
	}

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "an0ther-s3cret") || strings.Contains(string(b), "s3cret\"") {
		t.Errorf("the configuration file holds a password in clear:\n%s", b)
	}
	if !strings.Contains(string(b), srv2.DICOMwebURL) {
		t.Errorf("the configuration file does not name the new archive:\n%s", b)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("configuration file mode %v (%v); want 0600", st.Mode().Perm(), err)
	}
	if got, err := kr.Get(conf.SecretKey(config.SecretPassword)); err != nil || got != "an0ther-s3cret" {
		t.Errorf("the keyring holds %q (%v) for the new archive", got, err)
	}
}

// TestWorklistOverdueByTurnaroundPerPriority: with turnaround targets per
// priority in the configuration and the archive's assignment time in a study
// attribute, a STAT study assigned 9 minutes ago with a 1-minute target is
// overdue, a ROUTINE one assigned as long ago with a 10-hour target is not,
// until the clock passes its due time.
func TestWorklistOverdueByTurnaroundPerPriority(t *testing.T) {
	useMemKeyring(t)
	const reader = "Doe^Jane"
	srv := orthanctest.New(t, orthanctest.Options{})
	at := time.Now().Add(-9 * time.Minute)
	assign := func(sample, priority string) string {
		src := filepath.Join(samplesDir(t), sample)
		srv.MustUploadFiles(t, src)
		uid, err := srv.CopyStudy(studyUIDOf(t, src), map[string]string{"NameOfPhysiciansReadingStudy": reader,
			"StudyDate": at.Format("20060102"), "StudyTime": at.Format("150405"), "RequestedProcedurePriority": priority})
		if err != nil {
			t.Fatal(err)
		}
		return uid
	}
	stat := assign("ct_small_explicit_le.dcm", "STAT")
	routine := assign("mr_small_explicit_le.dcm", "ROUTINE")
	path := filepath.Join(t.TempDir(), "config.json")
	writeConfig(t, path, map[string]any{"archive": srv.DICOMwebURL, "reader": reader,
		"assigned_attribute": "StudyDate+StudyTime", "turnaround_minutes": map[string]int{"STAT": 1, "HIGH": 60, "ROUTINE": 600}})
	t.Setenv("TELEREAD_CONFIG", path)
	la := startLiveApp(t, t.TempDir())
	la.waitRow(t, stat, srv.DICOMwebURL)
	la.waitRow(t, routine, srv.DICOMwebURL)

	if c := la.cell(stat, worklist.ColDue); !strings.HasPrefix(c, "⚠") || !strings.Contains(c, "late") {
		t.Errorf("STAT study assigned 9 min ago, 1-min target: due cell %q; want the overdue mark", c)
	}
	if c := la.cell(stat, worklist.ColSince); !strings.HasPrefix(c, "⚠ 0h 09m") && !strings.HasPrefix(c, "⚠ 0h 08m") {
		t.Errorf("STAT study: assigned cell %q; want about 9 minutes (the archive's time, not the first sight) with the mark", c)
	}
	if c := la.cell(routine, worklist.ColDue); strings.HasPrefix(c, "⚠") || c == "—" {
		t.Errorf("ROUTINE study assigned 9 min ago, 10-hour target: due cell %q; want a due time without the mark", c)
	}
	// Time passes: past its due time the ROUTINE study is overdue too.
	la.mu.Lock()
	la.now = la.now.Add(10 * time.Hour)
	la.mu.Unlock()
	if c := la.cell(routine, worklist.ColDue); !strings.HasPrefix(c, "⚠") {
		t.Errorf("ROUTINE study 10 h later: due cell %q; want the overdue mark", c)
	}
}

// TestReportSignedInAppReachesConfiguredArchive: with TELEREAD_CONFIG naming
// an archive, a report signed in the app's report panel is delivered by the
// sync service to that archive (exactly one SR there), and the panel says so.
func TestReportSignedInAppReachesConfiguredArchive(t *testing.T) {
	useMemKeyring(t)
	srv, assigned, path := configuredArchive(t, "Doe^Jane", "ct_small_explicit_le.dcm")
	t.Setenv("TELEREAD_CONFIG", path)
	la := startLiveApp(t, t.TempDir())
	la.waitRow(t, assigned, srv.DICOMwebURL)
	la.ws.openStudy(assigned)
	settleOpen(t, la.ws, la.q)
	p := la.ws.viewer.report
	p.findings.SetText("No acute finding.")
	p.impression.SetText("Normal study.")
	p.sign()
	srs := func() int {
		b, err := srv.Get("/dicom-web/studies/" + assigned + "/instances?Modality=SR")
		var list []any
		if err == nil && len(b) > 0 {
			json.Unmarshal(b, &list)
		}
		return len(list)
	}
	deadline := time.Now().Add(60 * time.Second)
	for srs() != 1 {
		la.q.runPending()
		if time.Now().After(deadline) {
			t.Fatalf("the signed report did not reach the configured archive; status %q, delivery %q",
				la.ws.status.message.Text, p.delivery.Text)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The panel reads the outbox again (off the UI goroutine) and says so.
	la.waitFor(t, "the report panel says the report was delivered", func() bool {
		return strings.Contains(p.delivery.Text, "delivered to the archive")
	})
}

// TestMigratePreferences: settings an earlier version kept in the Fyne
// preferences (the password sealed) move into the configuration file once,
// the password into the keyring; the preferences are emptied, and a second
// start changes nothing.
func TestMigratePreferences(t *testing.T) {
	kr := useMemKeyring(t)
	home := t.TempDir()
	prefs := test.NewTempApp(t).Preferences()
	sealed, err := newSecretBox(home).seal("old-pref-s3cret")
	if err != nil {
		t.Fatal(err)
	}
	prefs.SetString(prefArchiveURL, "https://pacs.example.org/dicom-web")
	prefs.SetString(prefAuthKind, "basic")
	prefs.SetString(prefAuthUser, "ann")
	prefs.SetString(prefAuthSecret, sealed)
	prefs.SetString(prefReaderName, "Smith^Ann")
	prefs.SetInt(prefPriors, 3)
	prefs.SetInt(prefTurnaroundMin, 120)
	path := filepath.Join(t.TempDir(), "teleread", "config.json")

	if _, err := migratePreferences(prefs, home, path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "old-pref-s3cret") {
		t.Errorf("the migrated file holds the password:\n%s", b)
	}
	c, err := config.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Archive != "https://pacs.example.org/dicom-web" || c.AuthKind() != "basic" || c.User != "ann" || c.Reader != "Smith^Ann" ||
		c.PriorsPerStudy() != 3 || c.Password != "old-pref-s3cret" {
		t.Errorf("migrated configuration: archive %q auth %s user %q reader %q priors %d, password kept %v",
			c.Archive, c.AuthKind(), c.User, c.Reader, c.PriorsPerStudy(), c.Password == "old-pref-s3cret")
	}
	if got := c.Turnaround(); got.For(tsync.PriorityRoutine) != 2*time.Hour || got.For(tsync.PrioritySTAT) != 30*time.Minute {
		t.Errorf("migrated turnaround %+v; want 120 min, STAT a quarter", got)
	}
	if prefs.String(prefArchiveURL) != "" || prefs.String(prefAuthSecret) != "" || !prefs.Bool(prefMigrated) {
		t.Error("the old preferences were not emptied and marked migrated")
	}
	if len(kr.m) != 1 {
		t.Errorf("keyring holds %d secrets; want the password", len(kr.m))
	}
	// Once: the file edited since is not overwritten by a second start.
	prefs.SetString(prefArchiveURL, "https://stale.example.org")
	if err := config.Save(path, config.Config{Archive: "https://new.example.org/dicom-web"}); err != nil {
		t.Fatal(err)
	}
	if _, err := migratePreferences(prefs, home, path); err != nil {
		t.Fatal(err)
	}
	if c, _ := config.LoadFile(path); c.Archive != "https://new.example.org/dicom-web" {
		t.Errorf("a second start migrated again: archive %q", c.Archive)
	}
}
