// Package rsyslogtest starts a real rsyslogd (Debian rsyslog with
// rsyslog-gnutls) for tests: an audit record repository taking RFC 5425
// syslog over TLS on a loopback port, with a throwaway CA, demanding a client
// certificate, writing what it parsed of each message as one JSON line.
package rsyslogtest

import (
	"bufio"
	"bytes"
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

// PKI is a throwaway CA with a server certificate for 127.0.0.1 and a
// client certificate, made for one test.
type PKI struct {
	CAFile                string // the CA certificate (PEM)
	ClientCert, ClientKey string // the client's certificate and key (PEM files, 0600)
	serverCert, server    string // the server's certificate and key
	client                tls.Certificate
	pool                  *x509.CertPool
}

// NewPKI makes the CA and the certificates in a temporary directory.
func NewPKI(t testing.TB) *PKI {
	t.Helper()
	dir := t.TempDir()
	p := &PKI{pool: x509.NewCertPool()}
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
	p.CAFile = writePEM(t, dir, "ca.pem", "CERTIFICATE", caDER)
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
	p.ClientCert = writePEM(t, dir, "client.pem", "CERTIFICATE", cDER)
	ck, _ := x509.MarshalECPrivateKey(cKey)
	p.ClientKey = writePEM(t, dir, "client.key", "EC PRIVATE KEY", ck)
	return p
}

func writePEM(t testing.TB, dir, name, kind string, der []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TLSConfig is what a workstation configured with the CA and its client
// certificate uses.
func (p *PKI) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{p.client}, MinVersion: tls.VersionTLS12}
}

// Server is a real rsyslogd (Debian's, with rsyslog-gnutls) listening on a
// loopback port for RFC 5425 syslog over TLS, demanding a client certificate
// from the test CA, writing each message it parsed as one JSON line.
type Server struct {
	Addr     string       // host:port it listens on
	Received string       // the file it writes the messages to
	Log      bytes.Buffer // its own output
	cmd      *exec.Cmd
}

// Message is one line of the rsyslog output: the RFC 5424 fields rsyslog
// parsed and the message.
type Message struct {
	Version  string `json:"version"`
	Facility string `json:"facility"`
	Severity string `json:"severity"`
	App      string `json:"app"`
	MsgID    string `json:"msgid"`
	Host     string `json:"host"`
	Msg      string `json:"msg"`
}

// Need returns rsyslogd's path; a missing rsyslogd (or its TLS
// driver) fails the test under CI=true and skips it elsewhere.
func Need(t testing.TB) string {
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

func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start starts rsyslogd on port (0: a free one) and waits until it
// listens; it is stopped when the test ends.
func Start(t testing.TB, pki *PKI, port int) *Server {
	t.Helper()
	bin := Need(t)
	if port == 0 {
		port = FreePort(t)
	}
	dir := t.TempDir()
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o700); err != nil {
		t.Fatal(err)
	}
	r := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), Received: filepath.Join(dir, "received.log")}
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
`, work, pki.CAFile, pki.serverCert, pki.server, port, r.Received)
	cf := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	r.cmd = exec.Command(bin, "-n", "-f", cf, "-i", filepath.Join(dir, "rsyslogd.pid"))
	r.cmd.Stdout, r.cmd.Stderr = &r.Log, &r.Log
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", r.Addr, time.Second)
		if err == nil {
			c.Close()
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("rsyslogd did not listen on %s: %v\n%s", r.Addr, err, r.Log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops rsyslogd (Start arranges it for the end of the test).
func (r *Server) Stop() {
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

// Messages waits until rsyslog has written at least n messages (or 20 s
// pass) and returns what it wrote.
func (r *Server) Messages(t testing.TB, n int) []Message {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var out []Message
		if f, err := os.Open(r.Received); err == nil {
			sc := bufio.NewScanner(f)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				var m Message
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

// XML returns the AuditMessage a received message carries (after the byte
// order mark RFC 5424 puts before UTF-8 text).
func (m Message) XML() []byte {
	return []byte(strings.TrimPrefix(m.Msg, "\uFEFF"))
}
