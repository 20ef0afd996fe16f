package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"teleread/sync/atna/rsyslogtest"
)

// auditXML is what the tests read of an AuditMessage.
type auditXML struct {
	Event struct {
		Action string `xml:"EventActionCode,attr"`
		ID     struct {
			Code string `xml:"csd-code,attr"`
		} `xml:"EventID"`
	} `xml:"EventIdentification"`
	Objects []struct {
		ID string `xml:"ParticipantObjectID,attr"`
	} `xml:"ParticipantObjectIdentification"`
}

// writeAuditConfig writes a config file whose audit_syslog names addr with
// the test CA and client certificate, and returns its path.
func writeAuditConfig(t *testing.T, pki *rsyslogtest.PKI, addr string) string {
	t.Helper()
	conf := map[string]any{"audit_syslog": map[string]string{
		"address": addr, "ca_file": pki.CAFile, "cert_file": pki.ClientCert, "key_file": pki.ClientKey, "site_id": "Test Reading Group"}}
	b, _ := json.Marshal(conf)
	p := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAuditSyslogCLI: with audit_syslog configured, the events of `import`
// and `purge` reach a real rsyslog over TLS (client certificate from the
// configuration) before each command ends, as DICOM audit messages with
// Import (110107, C) and Instances Accessed (110103, D) for the study.
func TestAuditSyslogCLI(t *testing.T) {
	requireCorpus(t)
	pki := rsyslogtest.NewPKI(t)
	srv := rsyslogtest.Start(t, pki, 0)
	env := []string{"TELEREAD_CONFIG=" + writeAuditConfig(t, pki, srv.Addr)}
	home := t.TempDir()
	src := filepath.Join(corpusDir, "files", "ct_small_explicit_le.dcm")
	if r := telereadEnv(t, home, env, "import", src); r.code != 0 {
		t.Fatalf("import: %s", r.stderr)
	}
	var info struct{ StudyInstanceUID string }
	json.Unmarshal([]byte(teleread(t, home, "info", "--json", src).stdout), &info)
	got := srv.Messages(t, 1)
	if len(got) != 1 {
		t.Fatalf("after import the repository has %d messages, want 1\n%s", len(got), srv.Log.String())
	}
	if r := telereadEnv(t, home, env, "purge", "--study", info.StudyInstanceUID); r.code != 0 {
		t.Fatalf("purge: %s", r.stderr)
	}
	got = srv.Messages(t, 2)
	want := []struct{ code, action string }{{"110107", "C"}, {"110103", "D"}}
	if len(got) != len(want) {
		t.Fatalf("repository has %d messages, want %d", len(got), len(want))
	}
	for i, m := range got {
		var a auditXML
		if err := xml.Unmarshal(m.XML(), &a); err != nil {
			t.Fatalf("message %d: %v: %q", i, err, m.Msg)
		}
		if a.Event.ID.Code != want[i].code || a.Event.Action != want[i].action || len(a.Objects) != 1 || a.Objects[0].ID != info.StudyInstanceUID {
			t.Errorf("message %d: EventID %s action %s objects %v; want %s %s for study %s", i, a.Event.ID.Code, a.Event.Action, a.Objects,
				want[i].code, want[i].action, info.StudyInstanceUID)
		}
	}
}

// TestAuditSyslogDownCLI: with the repository down, commands take no longer
// and the events stay in audit.log; `audit --send` delivers the backlog once
// the repository is up, each event once, and exits 0.
func TestAuditSyslogDownCLI(t *testing.T) {
	requireCorpus(t)
	pki := rsyslogtest.NewPKI(t)
	rsyslogtest.Need(t)
	port := rsyslogtest.FreePort(t)
	addr := net.JoinHostPort("127.0.0.1", fmt.Sprint(port))
	env := []string{"TELEREAD_CONFIG=" + writeAuditConfig(t, pki, addr)}
	home := t.TempDir()
	names := []string{"ct_small_explicit_le.dcm", "mr_small_explicit_le.dcm", "us_cine_jpeg_ybr422_30f.dcm"}
	for _, n := range names {
		start := time.Now()
		if r := telereadEnv(t, home, env, "import", filepath.Join(corpusDir, "files", n)); r.code != 0 {
			t.Fatalf("import with the repository down: %s", r.stderr)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("import took %v with the repository down", d)
		}
	}
	if r := telereadEnv(t, home, env, "audit", "--send"); r.code == 0 {
		t.Errorf("audit --send with the repository down exited 0: %s", r.stdout)
	}
	r := teleread(t, home, "audit", "--json")
	var evs []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &evs); err != nil || len(evs) != len(names) {
		t.Fatalf("audit.log holds %d events (%v), want %d", len(evs), err, len(names))
	}

	srv := rsyslogtest.Start(t, pki, port)
	if r := telereadEnv(t, home, env, "audit", "--send"); r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("%d events sent", len(names))) {
		t.Fatalf("audit --send: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := telereadEnv(t, home, env, "audit", "--send"); r.code != 0 || !strings.Contains(r.stdout, "0 events sent") {
		t.Errorf("second audit --send: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	if got := srv.Messages(t, len(names)); len(got) != len(names) {
		t.Errorf("repository received %d messages, want %d", len(got), len(names))
	}
}
