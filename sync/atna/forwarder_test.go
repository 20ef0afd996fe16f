package atna

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"teleread/cache"
	"teleread/sync/atna/rsyslogtest"
)

const corpusFile = "../../testdata/corpus/files/ct_small_explicit_le.dcm"

// cachedStudy opens a cache in a new home and imports a corpus study into it
// (an import event in the audit trail); it returns the cache, the study UID
// and the patient's name, which no audit message may carry.
func cachedStudy(t *testing.T) (*cache.Cache, string, string) {
	t.Helper()
	if _, err := os.Stat(corpusFile); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	sum := c.ImportPaths([]string{corpusFile}, nil)
	if sum.AuditErr != nil {
		t.Fatal(sum.AuditErr)
	}
	list, err := c.Studies()
	if err != nil || len(list) != 1 {
		t.Fatalf("studies after import: %+v %v", list, err)
	}
	return c, list[0].StudyInstanceUID, list[0].PatientName
}

// TestForwardToRsyslog: the audit trail of real cache work (an import, the
// study opened, rendered, exported, de-identified, reported, purged, a
// sign-in) reaches a real rsyslog over TLS with client authentication, each
// event once and in order, as RFC 5424 messages with IHE's priority and
// MSGID whose XML follows the A.5.1 schema and carries the A.5.3 codes and
// the study's UID, and nowhere the patient's name.
func TestForwardToRsyslog(t *testing.T) {
	pki := rsyslogtest.NewPKI(t)
	srv := rsyslogtest.Start(t, pki, 0)
	c, study, patient := cachedStudy(t)
	for _, a := range []string{cache.AuditOpen, cache.AuditRender, cache.AuditExport, cache.AuditExportDeid, cache.AuditReportSign} {
		if err := c.Audit(a, study, "test "+a); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Purge(study, "test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Audit(cache.AuditSignIn, "", "test"); err != nil {
		t.Fatal(err)
	}
	evs, err := cache.ReadAudit(c.Home(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 8 {
		t.Fatalf("%d audit events, want 8: %+v", len(evs), evs)
	}

	f := Start(c.Home(), Config{Address: srv.Addr, TLS: pki.TLSConfig(), Source: Source{SiteID: "Test Reading Group"}})
	defer f.Close()
	if err := flush(t, f, 20*time.Second); err != nil {
		t.Fatalf("flush: %v\nrsyslog: %s", err, srv.Log.String())
	}
	got := srv.Messages(t, len(evs))
	if len(got) != len(evs) {
		t.Fatalf("rsyslog received %d messages, want %d\n%s", len(got), len(evs), srv.Log.String())
	}
	want := map[string]wantEvent{}
	for _, w := range wantEvents {
		want[w.action] = w
	}
	for i, m := range got {
		if m.Version != "1" || m.Facility != "10" || m.Severity != "5" || m.App != "teleread" || m.MsgID != "IHE+RFC-3881" {
			t.Errorf("message %d: version %s facility %s severity %s app %s msgid %s; want 1, 10, 5, teleread, IHE+RFC-3881",
				i, m.Version, m.Facility, m.Severity, m.App, m.MsgID)
		}
		ev := evs[i]
		w := want[ev.Action]
		w.study = ev.Study != ""
		checkEvent(t, m.XML(), w, ev.Study)
		if strings.Contains(m.Msg, patient) || strings.Contains(m.Msg, strings.ReplaceAll(patient, "^", " ")) {
			t.Errorf("message %d carries the patient's name", i)
		}
	}
	raw, _ := os.ReadFile(srv.Received)
	if strings.Contains(string(raw), patient) {
		t.Errorf("the audit repository received the patient's name")
	}

	// Later events are sent as they are appended, without a flush.
	if err := c.Audit(cache.AuditSignIn, "", "again"); err != nil {
		t.Fatal(err)
	}
	if got := srv.Messages(t, len(evs)+1); len(got) != len(evs)+1 {
		t.Errorf("an event appended later did not arrive: %d messages", len(got))
	}
}

// TestForwarderNeverBlocksAndCatchesUp: while the repository hangs (a port
// that accepts and never answers the TLS handshake) and then is down,
// appending to the audit trail goes on at its own pace and every line is
// kept; once a real rsyslog listens on that port each event arrives exactly
// once, and a forwarder started afterwards (the next process) sends nothing
// again.
func TestForwarderNeverBlocksAndCatchesUp(t *testing.T) {
	pki := rsyslogtest.NewPKI(t)
	rsyslogtest.Need(t)
	c, study, _ := cachedStudy(t)
	hang, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := hang.Addr().String()
	var held []net.Conn
	go func() {
		for {
			conn, err := hang.Accept()
			if err != nil {
				return
			}
			held = append(held, conn)
		}
	}()

	f := Start(c.Home(), Config{Address: addr, TLS: pki.TLSConfig(), Poll: 50 * time.Millisecond})
	const n = 40
	start := time.Now()
	for i := range n {
		t0 := time.Now()
		if err := c.Audit(cache.AuditOpen, study, fmt.Sprintf("event %d", i)); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(t0); d > 2*time.Second {
			t.Fatalf("appending event %d took %v while the repository hangs", i, d)
		}
	}
	appending := time.Since(start)
	if err := flush(t, f, 300*time.Millisecond); !errors.Is(err, ErrDelivery) && err != nil {
		t.Fatalf("flush to a hanging repository: %v", err)
	} else if err == nil {
		t.Fatal("flush to a hanging repository reported everything sent")
	}
	f.Close()
	hang.Close()
	for _, c := range held {
		c.Close()
	}
	evs, _ := cache.ReadAudit(c.Home(), time.Time{})
	if len(evs) != n+1 { // the import, then the n opens
		t.Fatalf("audit.log holds %d events, want %d", len(evs), n+1)
	}
	if _, err := cache.VerifyAudit(c.Home()); err != nil {
		t.Fatalf("audit.log after the outage: %v", err)
	}

	_, port, _ := net.SplitHostPort(addr)
	var p int
	fmt.Sscan(port, &p)
	srv := rsyslogtest.Start(t, pki, p)
	f = Start(c.Home(), Config{Address: addr, TLS: pki.TLSConfig()})
	if err := flush(t, f, 20*time.Second); err != nil {
		t.Fatalf("flush once the repository is up: %v\n%s", err, srv.Log.String())
	}
	f.Close()
	got := srv.Messages(t, len(evs))
	seen := map[string]int{}
	for _, m := range got {
		seen[m.Msg]++
	}
	if len(got) != len(evs) || len(seen) != len(evs) {
		t.Fatalf("repository received %d messages (%d distinct) after the outage, want each of %d once", len(got), len(seen), len(evs))
	}
	// The next process finds nothing left to send.
	f = Start(c.Home(), Config{Address: addr, TLS: pki.TLSConfig()})
	if err := flush(t, f, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	sent, _ := f.Sent()
	f.Close()
	time.Sleep(300 * time.Millisecond)
	if got := srv.Messages(t, 0); sent != 0 || len(got) != len(evs) {
		t.Errorf("a later forwarder sent %d events again (%d messages in all, want %d)", sent, len(got), len(evs))
	}
	t.Logf("%d events appended in %v while the repository hung", n, appending)
}

// TestForwarderRefusesUnknownServer: a repository whose certificate the
// configured CA did not sign gets nothing, and the events stay to be sent.
func TestForwarderRefusesUnknownServer(t *testing.T) {
	pki := rsyslogtest.NewPKI(t)
	srv := rsyslogtest.Start(t, pki, 0)
	c, study, _ := cachedStudy(t)
	other := rsyslogtest.NewPKI(t)
	f := Start(c.Home(), Config{Address: srv.Addr, TLS: other.TLSConfig()})
	defer f.Close()
	if err := flush(t, f, time.Second); err == nil {
		t.Fatal("events sent to a repository the CA does not vouch for")
	}
	if got := srv.Messages(t, 0); len(got) != 0 {
		t.Errorf("repository received %d messages", len(got))
	}
	if _, err := os.Stat(filepath.Join(c.Home(), "audit.sent")); err == nil {
		t.Errorf("forwarding position moved although nothing was sent")
	}
	_ = study
}
