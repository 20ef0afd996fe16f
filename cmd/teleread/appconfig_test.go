package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"teleread/sync/orthanctest"
)

// TestAppReadsConfiguredArchive runs the app binary with only TELEREAD_CONFIG
// naming a running Orthanc (and the sample studies at hand for a demo
// archive): the reader's studies arrive in the cache from that Orthanc, as
// `studies --json` lists them, no demo archive is started (no folder for it,
// no Orthanc among the app's processes), a report signed while the app runs
// in the app's window (X key events: open the first study, Ctrl+Enter, Enter)
// is delivered to that Orthanc by the app, and `worklist --json` marks the
// unreported studies overdue by the configured turnaround from the archive's
// assignment time (StudyDate, 2026-01-01; 1 minute).
func TestAppReadsConfiguredArchive(t *testing.T) {
	requireCorpus(t)
	if os.Getenv("DISPLAY") == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no DISPLAY: run under xvfb-run")
		}
		t.Skip("no DISPLAY")
	}
	srv := orthanctest.New(t, orthanctest.Options{})
	a, b := seedArchive(t, srv)
	conf := filepath.Join(t.TempDir(), "config.json")
	raw, _ := json.Marshal(map[string]any{"archive": srv.DICOMwebURL, "reader": "Reader^A",
		"turnaround_minutes": 1, "assigned_attribute": "StudyDate"})
	if err := os.WriteFile(conf, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	samples, err := filepath.Abs(filepath.Join("..", "..", "testdata", "samples"))
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	app := exec.Command(binPath, "--home", home, "app", "--samples", samples, "--sync-interval", "2s")
	app.Env = append(os.Environ(), "TELEREAD_CONFIG="+conf, "HOME="+t.TempDir(), "LANG=en_US.UTF-8")
	out, err := os.Create(filepath.Join(t.TempDir(), "app.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	app.Stdout, app.Stderr = out, out
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { app.Process.Kill(); app.Wait() }()

	var got map[string]bool
	deadline := time.Now().Add(120 * time.Second)
	for {
		var studies []struct{ StudyInstanceUID string }
		json.Unmarshal([]byte(teleread(t, home, "studies", "--json").stdout), &studies)
		got = map[string]bool{}
		for _, s := range studies {
			got[s.StudyInstanceUID] = true
		}
		all := true
		for _, uid := range a {
			all = all && got[uid]
		}
		if all {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(out.Name())
			t.Fatalf("the app did not bring Reader^A's studies %v from the configured archive; cache holds %v\n%s", a, got, log)
		}
		time.Sleep(500 * time.Millisecond)
	}
	for _, uid := range b {
		if got[uid] {
			t.Errorf("Reader^B's study %s fetched", uid)
		}
	}
	if _, err := os.Stat(filepath.Join(home, "demo-archive")); !os.IsNotExist(err) {
		t.Errorf("a demo archive was started beside the configured one (%v)", err)
	}
	if kids := childCommands(app.Process.Pid); len(kids) > 0 {
		t.Errorf("the app runs child processes %v; want none (no demo archive)", kids)
	}

	// A report signed in the app's window is delivered by the app. The
	// drafts are written through the CLI (typing into a report field would
	// need its place on screen); opening a study, Ctrl+Enter and Enter are
	// real X key events to the app's window, as a reader's would be.
	withConfig := func(args ...string) result {
		cmd := exec.Command(binPath, append([]string{"--home", home}, args...)...)
		cmd.Env = append(os.Environ(), "TELEREAD_CONFIG="+conf)
		out, err := cmd.Output()
		r := result{stdout: string(out)}
		if ee, ok := err.(*exec.ExitError); ok {
			r.code, r.stderr = ee.ExitCode(), string(ee.Stderr)
		}
		return r
	}
	for _, uid := range a {
		if r := withConfig("report", "--study", uid, "--findings", "Normal.", "--impression", "Normal study."); r.code != 0 {
			t.Fatalf("report (draft) %s: %d %s", uid, r.code, r.stderr)
		}
	}
	signed := signInAppWindow(t, srv, a, out.Name())
	if archiveSRs(t, srv, signed) != 1 {
		t.Errorf("the archive holds %d SRs for the study signed in the app; want 1", archiveSRs(t, srv, signed))
	}
	for _, uid := range a {
		if n := archiveSRs(t, srv, uid); uid != signed && n != 0 {
			t.Errorf("the archive holds %d SRs for %s, a study nobody signed", n, uid)
		}
	}

	var items []struct {
		StudyInstanceUID, Role, Due, AssignedBy string
		Overdue                                 bool
	}
	r := withConfig("worklist", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &items); err != nil {
		t.Fatalf("worklist --json: %v\n%s", err, r.stdout)
	}
	wantDue := time.Date(2026, 1, 1, 0, 1, 0, 0, time.Local)
	for _, it := range items {
		if it.Role != "assigned" {
			continue
		}
		due, err := time.Parse(time.RFC3339, it.Due)
		if err != nil || !due.Equal(wantDue) || it.AssignedBy != "archive" {
			t.Errorf("worklist: %s due %q (assigned by %s); want %v from the archive's StudyDate", it.StudyInstanceUID, it.Due, it.AssignedBy, wantDue)
		}
		// The reported study met its turnaround; the others are overdue.
		if it.Overdue == (it.StudyInstanceUID == signed) {
			t.Errorf("worklist: %s overdue %v", it.StudyInstanceUID, it.Overdue)
		}
	}
}

// childCommands lists the command names of pid's child processes.
func childCommands(pid int) []string {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []string
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at the last ')'.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		j := strings.IndexByte(s, '(')
		if i < 0 || j < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, s[j+1:i])
		}
	}
	return out
}

// signInAppWindow signs a report in the app's window with X key events: the
// first worklist row is opened (Down, Enter) and its stored draft signed
// (Ctrl+Enter asks, Enter confirms). Keys sent before the window is ready are
// lost, so the sequence is repeated until one of studies has an SR in the
// archive; it is harmless once signed (the viewer has no use for Down and
// Enter, and a signed report without an addendum asks nothing). It returns
// the study signed.
func signInAppWindow(t *testing.T, srv *orthanctest.Server, studies []string, appLog string) string {
	t.Helper()
	if _, err := exec.LookPath("xdotool"); err != nil {
		t.Fatal("xdotool is not installed (Debian package xdotool): the app's window is driven by X input")
	}
	xdo := func(args ...string) (string, error) {
		b, err := exec.Command("xdotool", args...).Output()
		return strings.TrimSpace(string(b)), err
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		for _, uid := range studies {
			if archiveSRs(t, srv, uid) > 0 {
				return uid
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(appLog)
			t.Fatalf("no report signed in the app's window reached the archive within 90 s\n%s", log)
		}
		// Keys go to the window under the pointer (Xvfb has no window manager).
		ids, err := xdo("search", "--onlyvisible", "--name", "^Teleread$")
		if err != nil || ids == "" {
			time.Sleep(500 * time.Millisecond)
			continue
		}
		geo, _ := xdo("getwindowgeometry", "--shell", strings.Fields(ids)[0])
		v := map[string]int{}
		for _, line := range strings.Fields(geo) {
			if k, val, ok := strings.Cut(line, "="); ok {
				v[k], _ = strconv.Atoi(val)
			}
		}
		xdo("mousemove", strconv.Itoa(v["X"]+v["WIDTH"]/2), strconv.Itoa(v["Y"]+v["HEIGHT"]/2))
		for _, key := range []string{"Down", "Return", "ctrl+Return", "Return"} {
			time.Sleep(1500 * time.Millisecond)
			xdo("key", key)
		}
		time.Sleep(2 * time.Second)
	}
}
