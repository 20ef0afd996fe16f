package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"teleread/cache"
	"teleread/sync/orthanctest"

	"database/sql"
	_ "modernc.org/sqlite"
)

// cachedStudy is one row of `studies --json`.
type cachedStudy struct {
	StudyInstanceUID, PatientName, PatientID, AccessionNumber string
	NumberOfInstances                                         int
}

func listStudies(t *testing.T, home string) map[string]cachedStudy {
	t.Helper()
	var list []cachedStudy
	r := teleread(t, home, "studies", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatalf("studies --json: %v: %s %s", err, r.stdout, r.stderr)
	}
	out := map[string]cachedStudy{}
	for _, s := range list {
		out[s.StudyInstanceUID] = s
	}
	return out
}

// findInHome returns where under home the values occur, byte for byte, as
// `grep -a -r` would find them.
func findInHome(t *testing.T, home string, values ...string) []string {
	t.Helper()
	var found []string
	filepath.WalkDir(home, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, v := range values {
			if v != "" && bytes.Contains(b, []byte(v)) {
				found = append(found, fmt.Sprintf("%q in %s", v, strings.TrimPrefix(p, home)))
			}
		}
		return nil
	})
	return found
}

func auditActions(t *testing.T, home, study string) []string {
	t.Helper()
	evs, err := cache.ReadAudit(home, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		if e.Study == study {
			out = append(out, e.Action)
		}
	}
	return out
}

// TestPurgeCLI: with four studies in the cache, one whose report a real
// Orthanc confirmed, one with a draft, one with a signed report not yet
// delivered and one with a consultation note kept locally, `purge` refuses
// the last three (exit 1, the reason and the study UID, never the patient),
// purges the first on --study, --delivered and --all alike, and afterwards
// nothing of its patient is anywhere under the home; the cache verifies and
// the audit trail holds the purge.
func TestPurgeCLI(t *testing.T) {
	requireCorpus(t)
	srv := orthanctest.New(t, orthanctest.Options{})
	names := []string{"ct_small_explicit_le.dcm", "mr_small_explicit_le.dcm", "us_cine_jpeg_ybr422_30f.dcm", "cr_mono1_chest_nometa.dcm"}
	var uids []string
	for _, n := range names {
		p := filepath.Join(corpusDir, "files", n)
		if _, err := srv.UploadFile(p); err != nil {
			t.Fatal(err)
		}
		var info struct{ StudyInstanceUID string }
		json.Unmarshal([]byte(teleread(t, t.TempDir(), "info", "--json", p).stdout), &info)
		uids = append(uids, info.StudyInstanceUID)
	}
	delivered, draft, pending, consult := uids[0], uids[1], uids[2], uids[3]

	for _, sel := range [][]string{{"--study", delivered}, {"--delivered"}, {"--all"}} {
		t.Run(strings.Join(sel, " "), func(t *testing.T) {
			home := t.TempDir()
			for _, n := range names {
				if r := teleread(t, home, "import", filepath.Join(corpusDir, "files", n)); r.code != 0 {
					t.Fatalf("import %s: %s", n, r.stderr)
				}
			}
			if r := teleread(t, home, "report", "--study", delivered, "--findings", "No acute finding.", "--reader", "Reader^A", "--sign"); r.code != 0 {
				t.Fatalf("sign: %s", r.stderr)
			}
			if r := teleread(t, home, "outbox", "--send", "--archive", srv.DICOMwebURL); r.code != 0 {
				t.Fatalf("outbox --send: %s %s", r.stdout, r.stderr)
			}
			if r := teleread(t, home, "report", "--study", draft, "--findings", "Still reading.", "--reader", "Reader^A"); r.code != 0 {
				t.Fatalf("draft: %s", r.stderr)
			}
			if r := teleread(t, home, "report", "--study", pending, "--findings", "Fracture.", "--reader", "Reader^A", "--sign"); r.code != 0 {
				t.Fatalf("sign: %s", r.stderr)
			}
			if r := teleread(t, home, "report", "--study", consult, "--consult", "--findings", "Agree.", "--reader", "Consultant^C", "--sign"); r.code != 0 {
				t.Fatalf("consult: %s", r.stderr)
			}
			before := listStudies(t, home)
			gone := before[delivered]
			if gone.PatientName == "" {
				t.Fatalf("study %s not listed: %v", delivered, before)
			}

			// Each refused study, asked for by itself.
			for uid, why := range map[string]string{draft: "draft", pending: "not yet delivered", consult: "never sent"} {
				r := teleread(t, home, "purge", "--study", uid)
				if r.code == 0 || !strings.Contains(r.stderr, uid) || !strings.Contains(r.stderr, why) {
					t.Errorf("purge --study %s: exit %d %q; want non-zero naming the study and %q", uid, r.code, r.stderr, why)
				}
				for _, v := range []string{before[uid].PatientName, before[uid].PatientID} {
					if v != "" && strings.Contains(r.stdout+r.stderr, v) {
						t.Errorf("purge --study %s names the patient: %s", uid, r.stderr)
					}
				}
			}
			// A dry run changes nothing.
			dry := teleread(t, home, append(append([]string{"purge"}, sel...), "--dry-run")...)
			if !strings.Contains(dry.stdout, "would purge "+delivered) || len(listStudies(t, home)) != 4 {
				t.Fatalf("dry run: %s %s; %d studies left", dry.stdout, dry.stderr, len(listStudies(t, home)))
			}

			r := teleread(t, home, append([]string{"purge"}, sel...)...)
			wantCode := 0
			if sel[0] == "--all" {
				wantCode = 1 // the three refused
			}
			if r.code != wantCode || !strings.Contains(r.stdout, "purged "+delivered) {
				t.Fatalf("purge %v: exit %d, want %d\n%s%s", sel, r.code, wantCode, r.stdout, r.stderr)
			}
			if sel[0] == "--all" {
				for _, uid := range []string{draft, pending, consult} {
					if !strings.Contains(r.stderr, uid) {
						t.Errorf("purge --all does not name refused study %s: %s", uid, r.stderr)
					}
				}
			}
			after := listStudies(t, home)
			if _, ok := after[delivered]; ok || len(after) != 3 {
				t.Errorf("studies after the purge: %v; want the three others", after)
			}
			if found := findInHome(t, home, gone.PatientName, gone.PatientID, gone.AccessionNumber); len(found) != 0 {
				t.Errorf("after the purge the home still holds %v", found)
			}
			if r := teleread(t, home, "verify"); r.code != 0 {
				t.Errorf("verify after the purge: %s %s", r.stdout, r.stderr)
			}
			if r := teleread(t, home, "audit", "--verify"); r.code != 0 {
				t.Errorf("audit --verify: %s", r.stderr)
			}
			if acts := auditActions(t, home, delivered); len(acts) == 0 || acts[len(acts)-1] != cache.AuditPurge {
				t.Errorf("audit trail of the purged study: %v, want it to end with purge", acts)
			}
			if r := teleread(t, home, "purge", "--study", delivered); r.code == 0 || !strings.Contains(r.stderr, "not in the cache") {
				t.Errorf("purging it again: exit %d %s", r.code, r.stderr)
			}
		})
	}
}

// TestPurgeKilled kills `purge` after each of its durable steps (SIGKILL
// through the stall seam). Whatever the step, the next commands see a cache
// that opens and verifies and never lists the study, and the next open
// finishes the purge: files gone, audited once it completes.
func TestPurgeKilled(t *testing.T) {
	requireCorpus(t)
	src := filepath.Join(corpusDir, "files", "us_cine_jpeg_ybr422_30f.dcm")
	for _, step := range []string{cache.StepPurgeMarked, cache.StepPurgeShredded, cache.StepPurgeFilesRemoved} {
		t.Run(step, func(t *testing.T) {
			home := t.TempDir()
			if r := teleread(t, home, "import", src, filepath.Join(corpusDir, "files", "ct_small_explicit_le.dcm")); r.code != 0 {
				t.Fatal(r.stderr)
			}
			var uid string
			for u, s := range listStudies(t, home) {
				if s.NumberOfInstances == 1 && strings.HasPrefix(u, "1.2.840.114340") {
					uid = u
				}
			}
			if uid == "" {
				t.Fatal("the ultrasound study is not cached")
			}
			files, _ := filepath.Glob(filepath.Join(home, "files", "*", "*"))
			killAt(t, home, step, "purge", "--study", uid)

			// What the crash left is never shown as a study.
			if _, ok := listStudies(t, home)[uid]; ok {
				t.Errorf("the half-purged study is listed after a kill at %s", step)
			}
			if r := teleread(t, home, "verify"); r.code != 0 {
				t.Errorf("verify after a kill at %s: %s %s", step, r.stdout, r.stderr)
			}
			// The opens above finished the purge.
			left, _ := filepath.Glob(filepath.Join(home, "files", "*", "*"))
			if len(left) != len(files)-1 {
				t.Errorf("%d files left of %d, want the purged study's one gone", len(left), len(files))
			}
			if n := purgeRows(t, home); n != 0 {
				t.Errorf("%d purges rows left after the next open", n)
			}
			acts := auditActions(t, home, uid)
			if len(acts) == 0 || acts[len(acts)-1] != cache.AuditPurge {
				t.Errorf("audit trail of the study: %v, want a purge at the end", acts)
			}
			if r := teleread(t, home, "audit", "--verify"); r.code != 0 {
				t.Errorf("audit --verify: %s", r.stderr)
			}
			if len(listStudies(t, home)) != 1 {
				t.Errorf("the other study is not listed any more")
			}
		})
	}
}

func purgeRows(t *testing.T, home string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(home, "index.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM purges`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSyncRetention: `sync --once` purges, beside eviction, a study nobody
// accessed for retention_days whose report the archive confirmed, and keeps
// one accessed since; retention_days 0 keeps both.
func TestSyncRetention(t *testing.T) {
	requireCorpus(t)
	srv := orthanctest.New(t, orthanctest.Options{})
	for _, days := range []int{7, 0} {
		t.Run(fmt.Sprintf("retention_days %d", days), func(t *testing.T) {
			home := t.TempDir()
			var uids []string
			for _, n := range []string{"ct_small_explicit_le.dcm", "mr_small_explicit_le.dcm"} {
				p := filepath.Join(corpusDir, "files", n)
				srv.UploadFile(p)
				teleread(t, home, "import", p)
				var info struct{ StudyInstanceUID string }
				json.Unmarshal([]byte(teleread(t, home, "info", "--json", p).stdout), &info)
				uids = append(uids, info.StudyInstanceUID)
				if r := teleread(t, home, "report", "--study", info.StudyInstanceUID, "--findings", "Normal.", "--reader", "Reader^A", "--sign"); r.code != 0 {
					t.Fatal(r.stderr)
				}
			}
			if r := teleread(t, home, "outbox", "--send", "--archive", srv.DICOMwebURL); r.code != 0 {
				t.Fatal(r.stderr)
			}
			// Eight days pass; then the second study is rendered.
			db, err := sql.Open("sqlite", "file:"+filepath.Join(home, "index.db"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`UPDATE studies SET last_access_at = ?`, time.Now().Add(-8*24*time.Hour).UTC().Format(time.RFC3339Nano)); err != nil {
				t.Fatal(err)
			}
			db.Close()
			stored, _ := filepath.Glob(filepath.Join(home, "files", "*", "*"))
			var second string
			for _, f := range stored {
				if strings.Contains(filepath.Base(f), "5962.1.1.4") {
					second = f
				}
			}
			if second == "" {
				t.Fatalf("the MR file is not among %v", stored)
			}
			if r := teleread(t, home, "render", second, "-o", filepath.Join(t.TempDir(), "mr.png")); r.code != 0 {
				t.Fatal(r.stderr)
			}
			conf := filepath.Join(t.TempDir(), "config.json")
			os.WriteFile(conf, []byte(fmt.Sprintf(`{"retention_days": %d}`, days)), 0o600)
			r := telereadEnv(t, home, []string{"TELEREAD_CONFIG=" + conf}, "sync", "--once", "--archive", srv.DICOMwebURL, "--reader", "Nobody^Here")
			left := listStudies(t, home)
			_, firstLeft := left[uids[0]]
			_, secondLeft := left[uids[1]]
			if !secondLeft {
				t.Errorf("the study rendered since was purged:\n%s", r.stdout)
			}
			if purged := strings.Contains(r.stdout, "purged "+uids[0]); purged != (days > 0) || firstLeft == (days > 0) {
				t.Errorf("retention_days %d: first study purged %v, still listed %v\n%s%s", days, purged, firstLeft, r.stdout, r.stderr)
			}
		})
	}
}
