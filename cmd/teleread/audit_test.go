package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"teleread/cache"
)

// TestAuditTrailCLI: import, render of a cached file, export (plain and
// de-identified), report sign, addendum and consultation note each append
// their line to HOME/audit.log with the study's UID and the OS user; no
// patient name or ID is in it; `audit --json --since` lists the events,
// `audit --verify` passes, and an edited, deleted or reordered line makes it
// exit 1 naming the first line that no longer follows.
func TestAuditTrailCLI(t *testing.T) {
	requireCorpus(t)
	home := t.TempDir()
	const study = "1.3.6.1.4.1.5962.1.2.4.20040826185059.5457"
	must := func(args ...string) {
		t.Helper()
		if r := teleread(t, home, args...); r.code != 0 {
			t.Fatalf("%v: %d\n%s%s", args, r.code, r.stdout, r.stderr)
		}
	}
	must("import", "-q", filepath.Join(corpusDir, "files", "mr_small_explicit_le.dcm"))
	c, err := cache.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	insts, err := c.StudyInstances(study)
	st, serr := c.StudyByUID(study)
	c.Close()
	if err != nil || serr != nil || len(insts) == 0 {
		t.Fatalf("cached study: %v %v", err, serr)
	}
	if st.PatientName == "" || st.PatientID == "" {
		t.Fatalf("the test file has no patient name or ID to look for: %+v", st)
	}
	out := t.TempDir()
	must("render", insts[0].Path, "--renderer", "cpu", "-o", filepath.Join(out, "a.png"))
	must("export", study, "-o", filepath.Join(out, "plain.zip"))
	must("export", "--deidentify", "--include-burned-in", study, "-o", filepath.Join(out, "deid.zip"))
	must("report", "--study", study, "--findings", "No acute finding.", "--impression", "Normal.", "--sign", "--reader", "Smith^Ann")
	must("report", "--study", study, "--addendum", "Compared with prior.", "--reader", "Smith^Ann")
	must("report", "--study", study, "--consult", "--findings", "Agree.", "--impression", "Normal.", "--sign", "--reader", "Jones^Bo")

	r := teleread(t, home, "audit", "--json", "--since", "1h")
	var evs []cache.AuditEvent
	if err := json.Unmarshal([]byte(r.stdout), &evs); err != nil || r.code != 0 {
		t.Fatalf("audit --json: %d %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	want := []string{cache.AuditImport, cache.AuditRender, cache.AuditExport, cache.AuditExportDeid,
		cache.AuditReportSign, cache.AuditReportAddendum, cache.AuditReportConsult}
	var got []string
	for _, e := range evs {
		got = append(got, e.Action)
		if e.Study != study || e.User == "" || e.Time.IsZero() {
			t.Errorf("event %+v: want study %s, a user and a time", e, study)
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("actions %q, want %q", got, want)
	}
	if r := teleread(t, home, "audit", "--json", "--since", "2999-01-01"); strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("audit --since 2999-01-01: %q, want []", r.stdout)
	}

	logPath := filepath.Join(home, "audit.log")
	orig, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, phi := range []string{st.PatientName, st.PatientID, strings.ReplaceAll(st.PatientName, "^", " ")} {
		if bytes.Contains(orig, []byte(phi)) {
			t.Errorf("audit.log holds the patient's %q", phi)
		}
	}
	if r := teleread(t, home, "audit", "--verify"); r.code != 0 || !strings.Contains(r.stdout, "7 lines") {
		t.Errorf("audit --verify on the untouched log: %d %s%s", r.code, r.stdout, r.stderr)
	}

	lines := bytes.SplitAfter(orig, []byte("\n"))[:len(want)]
	tests := []struct {
		name     string
		tamper   func(l [][]byte) [][]byte
		wantLine string
	}{
		{name: "edited", wantLine: "line 3:", tamper: func(l [][]byte) [][]byte {
			l[1] = bytes.Replace(l[1], []byte(`"render"`), []byte(`"import"`), 1)
			return l
		}},
		{name: "deleted", wantLine: "line 3:", tamper: func(l [][]byte) [][]byte { return append(l[:2:2], l[3:]...) }},
		{name: "reordered", wantLine: "line 4:", tamper: func(l [][]byte) [][]byte {
			l[3], l[4] = l[4], l[3]
			return l
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := append([][]byte(nil), lines...)
			for i := range l {
				l[i] = append([]byte(nil), l[i]...)
			}
			if err := os.WriteFile(logPath, bytes.Join(tt.tamper(l), nil), 0o600); err != nil {
				t.Fatal(err)
			}
			r := teleread(t, home, "audit", "--verify")
			if r.code != 1 || !strings.Contains(r.stderr, tt.wantLine) {
				t.Errorf("audit --verify: exit %d, stderr %q; want 1 naming %q", r.code, r.stderr, tt.wantLine)
			}
		})
	}
}
