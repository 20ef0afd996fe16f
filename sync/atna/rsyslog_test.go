package atna

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testPKI is a throwaway CA with a server certificate for 127.0.0.1 and a
// client certificate, made for one test.
type testPKI struct {
	dir                string
	caFile             string
	serverCert, server string // PEM files of the server's certificate and key
	client             tls.Certificate
	pool               *x509.CertPool
}

func newPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	p := &testPKI{dir: dir, pool: x509.NewCertPool()}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Teleread test audit CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	p.pool.AddCert(ca)
	p.caFile = writePEM(t, dir, "ca.pem", "CERTIFICATE", caDER)
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage, ips []net.IP) ([]byte, *ecdsa.PrivateKey) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IPAddresses: ips,
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, key
	}
	sDER, sKey := issue(2, "127.0.0.1", x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)})
	p.serverCert = writePEM(t, dir, "server.pem", "CERTIFICATE", sDER)
	sk, _ := x509.MarshalECPrivateKey(sKey)
	p.server = writePEM(t, dir, "server.key", "EC PRIVATE KEY", sk)
	cDER, cKey := issue(3, "teleread-workstation", x509.ExtKeyUsageClientAuth, nil)
	p.client = tls.Certificate{Certificate: [][]byte{cDER}, PrivateKey: cKey}
	return p
}

func writePEM(t *testing.T, dir, name, kind string, der []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// tlsConfig is what a workstation configured with the CA and its client
// certificate uses.
func (p *testPKI) tlsConfig() *tls.Config {
	return &tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{p.client}, MinVersion: tls.VersionTLS12}
}

// rsyslog is a real rsyslogd (Debian's, with rsyslog-gnutls) listening on a
// loopback port for RFC 5425 syslog over TLS, demanding a client certificate
// from the test CA, writing each message it parsed as one JSON line.
type rsyslog struct {
	addr     string
	received string
	cmd      *exec.Cmd
	log      bytes.Buffer
}

// received is one line of the rsyslog output: the RFC 5424 fields rsyslog
// parsed and the message.
type received struct {
	Version  string `json:"version"`
	Facility string `json:"facility"`
	Severity string `json:"severity"`
	App      string `json:"app"`
	MsgID    string `json:"msgid"`
	Host     string `json:"host"`
	Msg      string `json:"msg"`
}

// needRsyslog returns rsyslogd's path; a missing rsyslogd (or its TLS
// driver) fails the test under CI=true and skips it elsewhere.
func needRsyslog(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("rsyslogd")
	if err != nil {
		for _, p := range []string{"/usr/sbin/rsyslogd", "/sbin/rsyslogd"} {
			if _, serr := os.Stat(p); serr == nil {
				bin, err = p, nil
			}
		}
	}
	if err == nil {
		if m, _ := filepath.Glob("/usr/lib/*/rsyslog/lmnsd_gtls.so"); len(m) == 0 {
			err = fmt.Errorf("rsyslog's GnuTLS driver (Debian rsyslog-gnutls) is not installed")
		}
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("rsyslogd: %v (Debian packages rsyslog and rsyslog-gnutls)", err)
		}
		t.Skipf("rsyslogd: %v", err)
	}
	return bin
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRsyslog starts rsyslogd on port (0: a free one) and waits until it
// listens; it is stopped when the test ends.
func startRsyslog(t *testing.T, pki *testPKI, port int) *rsyslog {
	t.Helper()
	bin := needRsyslog(t)
	if port == 0 {
		port = freePort(t)
	}
	dir := t.TempDir()
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o700); err != nil {
		t.Fatal(err)
	}
	r := &rsyslog{addr: fmt.Sprintf("127.0.0.1:%d", port), received: filepath.Join(dir, "received.log")}
	conf := fmt.Sprintf(`global(workDirectory=%q maxMessageSize="64k"
  defaultNetstreamDriver="gtls"
  defaultNetstreamDriverCAFile=%q
  defaultNetstreamDriverCertFile=%q
  defaultNetstreamDriverKeyFile=%q)
module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="x509/certvalid")
template(name="atna" type="list" option.jsonf="on") {
  property(outname="version" name="protocol-version" format="jsonf")
  property(outname="facility" name="syslogfacility" format="jsonf")
  property(outname="severity" name="syslogseverity" format="jsonf")
  property(outname="app" name="app-name" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="host" name="hostname" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
}
input(type="imtcp" port="%d" address="127.0.0.1")
action(type="omfile" file=%q template="atna" flushOnTXEnd="on")
`, work, pki.caFile, pki.serverCert, pki.server, port, r.received)
	cf := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	r.cmd = exec.Command(bin, "-n", "-f", cf, "-i", filepath.Join(dir, "rsyslogd.pid"))
	r.cmd.Stdout, r.cmd.Stderr = &r.log, &r.log
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.stop)
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", r.addr, time.Second)
		if err == nil {
			c.Close()
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("rsyslogd did not listen on %s: %v\n%s", r.addr, err, r.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *rsyslog) stop() {
	if r.cmd.Process == nil || r.cmd.ProcessState != nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { r.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		r.cmd.Process.Kill()
		<-done
	}
}

// messages waits until rsyslog has written at least n messages (or 20 s
// pass) and returns what it wrote.
func (r *rsyslog) messages(t *testing.T, n int) []received {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var out []received
		if f, err := os.Open(r.received); err == nil {
			sc := bufio.NewScanner(f)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				var m received
				if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
					t.Fatalf("rsyslog output line %q: %v", sc.Text(), err)
				}
				out = append(out, m)
			}
			f.Close()
		}
		if len(out) >= n || time.Now().After(deadline) {
			return out
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// xml returns the AuditMessage a received message carries (after the byte
// order mark RFC 5424 puts before UTF-8 text).
func (m received) xml() []byte {
	return []byte(strings.TrimPrefix(m.Msg, "\uFEFF"))
}

func flush(t *testing.T, f *Forwarder, within time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	return f.Flush(ctx)
}
