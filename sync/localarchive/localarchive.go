// Package localarchive starts a private Orthanc archive with the DICOMweb
// plugin on this machine: the application's first-run demo archive, and
// (through sync/orthanctest, which stops it at the end of a test) the archive
// the tests talk to.
//
// Each server gets its own temporary storage, a free loopback port, a unique
// name (checked on /system, so a test never talks to another package's
// server that happened to take the same port) and no DICOM listener. Remote
// access is off, and only the DICOMweb plugin is loaded (never the whole
// plugin folder: Orthanc's GDCM plugin crashed it while transcoding).
package localarchive

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	gosync "sync"
	"syscall"
	"time"
)

// ErrNotInstalled reports that the Orthanc binary or its DICOMweb plugin was
// not found.
var ErrNotInstalled = errors.New("localarchive: Orthanc with the DICOMweb plugin is not installed (Debian packages orthanc, orthanc-dicomweb)")

// Environment variables that override where Orthanc and its plugin are.
const (
	EnvBinary = "TELEREAD_ORTHANC"                 // path of the Orthanc executable
	EnvPlugin = "TELEREAD_ORTHANC_DICOMWEB_PLUGIN" // path of libOrthancDicomWeb.so
)

// Places searched when the environment does not say.
var (
	binaryCandidates = []string{"/usr/sbin/Orthanc", "/usr/bin/Orthanc", "/usr/local/sbin/Orthanc", "/usr/local/bin/Orthanc"}
	pluginCandidates = []string{
		"/usr/share/orthanc/plugins/libOrthancDicomWeb.so",
		"/usr/lib/orthanc/libOrthancDicomWeb.so",
		"/usr/local/share/orthanc/plugins/libOrthancDicomWeb.so",
	}
	pluginGlobs = []string{"/usr/lib/orthanc/libOrthancDicomWeb.so*", "/usr/lib/*/orthanc/libOrthancDicomWeb.so*"}
)

// Options configure a server. The zero value is a server without
// authentication.
type Options struct {
	// Users maps user names to passwords for HTTP basic authentication. When
	// empty, authentication is off.
	Users map[string]string
	// Extra holds further Orthanc configuration keys, set over the defaults
	// (for example "OverwriteInstances": true).
	Extra map[string]any
	// StartTimeout bounds the wait for /system to answer; zero means 20 s.
	StartTimeout time.Duration
	// Wrap, when set, is a command line the Orthanc command is appended to
	// (e.g. "ip", "netns", "exec", NAME: a server in a network namespace,
	// behind a shaped link). The wrapper must exec Orthanc, so that stopping
	// the process stops the server.
	Wrap []string
	// Host is the address the server is reached at; empty means 127.0.0.1.
	// Any other address lets remote clients in (RemoteAccessAllowed).
	Host string
}

// Server is a running (or stopped) private Orthanc.
type Server struct {
	// URL is the server's root, e.g. "http://127.0.0.1:40123" (no trailing slash).
	URL string
	// DICOMwebURL is the DICOMweb root, URL + "/dicom-web".
	DICOMwebURL string
	// Dir holds the configuration, the storage and orthanc.log.
	Dir string
	// Port is the HTTP port.
	Port int

	name       string
	binary     string
	configPath string
	logPath    string
	opts       Options
	user, pass string // any one registered user, for the helpers' own requests
	http       *http.Client

	mu   gosync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// Available reports whether Orthanc and its DICOMweb plugin are installed,
// returning their paths.
func Available() (binary, plugin string, err error) {
	binary = os.Getenv(EnvBinary)
	if binary == "" {
		if p, lerr := exec.LookPath("Orthanc"); lerr == nil {
			binary = p
		} else {
			binary = firstExisting(binaryCandidates)
		}
	}
	plugin = os.Getenv(EnvPlugin)
	if plugin == "" {
		plugin = firstExisting(pluginCandidates)
	}
	if plugin == "" {
		for _, g := range pluginGlobs {
			if m, _ := filepath.Glob(g); len(m) > 0 {
				plugin = m[0]
				break
			}
		}
	}
	if binary == "" || !isFile(binary) {
		return "", "", fmt.Errorf("%w: no Orthanc executable", ErrNotInstalled)
	}
	if plugin == "" || !isFile(plugin) {
		return "", "", fmt.Errorf("%w: no libOrthancDicomWeb.so", ErrNotInstalled)
	}
	return binary, plugin, nil
}

func firstExisting(paths []string) string {
	for _, p := range paths {
		if isFile(p) {
			return p
		}
	}
	return ""
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// Start starts a private Orthanc whose configuration and storage live in dir
// (created if needed), and waits until it answers. The caller must call Stop.
func Start(dir string, opts Options) (*Server, error) {
	binary, plugin, err := Available()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("localarchive: start: %w", err)
	}
	s := &Server{
		Dir:        dir,
		name:       "teleread-local-" + randomHex(6),
		binary:     binary,
		configPath: filepath.Join(dir, "orthanc.json"),
		logPath:    filepath.Join(dir, "orthanc.log"),
		opts:       opts,
		http:       &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{IdleConnTimeout: 500 * time.Millisecond}},
	}
	for u, p := range opts.Users {
		s.user, s.pass = u, p
		break
	}
	// A free port can be taken by someone else between our probe and
	// Orthanc's bind: try a few.
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, fmt.Errorf("localarchive: start: %w", err)
		}
		s.setPort(port)
		if err := s.writeConfig(plugin); err != nil {
			return nil, err
		}
		if lastErr = s.launch(); lastErr == nil {
			return s, nil
		}
	}
	return nil, lastErr
}

func (s *Server) setPort(port int) {
	s.Port = port
	s.URL = fmt.Sprintf("http://%s", s.hostPort())
	s.DICOMwebURL = s.URL + "/dicom-web"
}

// hostPort is the address and port the server is reached at.
func (s *Server) hostPort() string {
	host := s.opts.Host
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, fmt.Sprint(s.Port))
}

func (s *Server) writeConfig(plugin string) error {
	storage := filepath.Join(s.Dir, "storage")
	cfg := map[string]any{
		"Name":                    s.name,
		"StorageDirectory":        storage,
		"IndexDirectory":          storage,
		"StorageCompression":      false,
		"HttpPort":                s.Port,
		"HttpServerEnabled":       true,
		"HttpCompressionEnabled":  false,
		"HttpDescribeErrors":      true,
		"RemoteAccessAllowed":     s.opts.Host != "",
		"DicomServerEnabled":      false,
		"OrthancExplorerEnabled":  false,
		"WebDavEnabled":           false,
		"SaveJobs":                false,
		"ConcurrentJobs":          2,
		"StableAge":               1,
		"Plugins":                 []string{plugin},
		"AuthenticationEnabled":   len(s.opts.Users) > 0,
		"RegisteredUsers":         s.opts.Users,
		"UnknownSopClassAccepted": true,
		"DicomWeb": map[string]any{
			"Enable":     true,
			"Root":       "/dicom-web/",
			"EnableWado": false,
			"Host":       s.hostPort(),
			"Ssl":        false,
		},
	}
	if s.opts.Users == nil {
		cfg["RegisteredUsers"] = map[string]string{}
	}
	for k, v := range s.opts.Extra {
		cfg[k] = v
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("localarchive: config: %w", err)
	}
	if err := os.WriteFile(s.configPath, b, 0o600); err != nil {
		return fmt.Errorf("localarchive: config: %w", err)
	}
	return nil
}

// launch starts the process and waits for /system to name this server.
func (s *Server) launch() error {
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("localarchive: start: %w", err)
	}
	argv := append(append([]string(nil), s.opts.Wrap...), s.binary, s.configPath)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = s.Dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("localarchive: start %s: %w", s.binary, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(done)
	}()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()

	timeout := s.opts.StartTimeout
	if timeout == 0 {
		timeout = 20 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("localarchive: Orthanc exited at start (port %d): %s", s.Port, s.LogTail())
		case <-time.After(50 * time.Millisecond):
		}
		if name, err := s.systemName(); err == nil {
			if name == s.name {
				return nil
			}
			// Another server answers on our port: ours cannot bind it.
			s.kill()
			return fmt.Errorf("localarchive: port %d taken by %q", s.Port, name)
		}
	}
	s.kill()
	return fmt.Errorf("localarchive: Orthanc did not answer within %v: %s", timeout, s.LogTail())
}

func (s *Server) systemName() (string, error) {
	var sys struct{ Name string }
	b, err := s.Get("/system")
	if err != nil {
		return "", err
	}
	if err := json.Unmarshal(b, &sys); err != nil {
		return "", err
	}
	return sys.Name, nil
}

// LogPath is the path of Orthanc's log (in Dir).
func (s *Server) LogPath() string { return s.logPath }

// LogTail returns the last 2000 bytes of Orthanc's log, for an error message.
func (s *Server) LogTail() string {
	b, _ := os.ReadFile(s.logPath)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(bytes.TrimSpace(b))
}

// Stop stops the server with SIGTERM, waits up to 6 s, then kills it. It may
// be called more than once.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(6 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// Kill kills the server with SIGKILL and waits for it to exit, keeping its
// storage, as a crash would.
func (s *Server) Kill() { s.kill() }

func (s *Server) kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// Restart starts the server again after Kill or Stop, on the same port and
// with the same storage.
func (s *Server) Restart() error {
	s.Stop()
	var err error
	// The port may linger briefly after a kill.
	for attempt := 0; attempt < 20; attempt++ {
		if err = s.launch(); err == nil {
			return nil
		}
		time.Sleep(250 * time.Millisecond)
	}
	return err
}

// Running reports whether the process is alive.
func (s *Server) Running() bool {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// Instance is Orthanc's answer to an upload.
type Instance struct {
	ID            string // Orthanc's identifier of the instance
	ParentStudy   string // Orthanc's identifier of its study
	ParentSeries  string
	ParentPatient string
	Status        string // "Success" or "AlreadyStored"
}

// Upload stores DICOM bytes with POST /instances.
func (s *Server) Upload(data []byte) (Instance, error) {
	var inst Instance
	b, err := s.do(http.MethodPost, "/instances", bytes.NewReader(data))
	if err != nil {
		return inst, err
	}
	if err := json.Unmarshal(b, &inst); err != nil || inst.ID == "" {
		return inst, fmt.Errorf("localarchive: upload: unexpected answer %.200q", b)
	}
	return inst, nil
}

// UploadFile stores a DICOM file with POST /instances.
func (s *Server) UploadFile(path string) (Instance, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Instance{}, fmt.Errorf("localarchive: upload: %w", err)
	}
	inst, err := s.Upload(data)
	if err != nil {
		return inst, fmt.Errorf("localarchive: upload %s: %w", filepath.Base(path), err)
	}
	return inst, nil
}

// InstanceFile returns the bytes Orthanc stores for an instance
// (GET /instances/{id}/file).
func (s *Server) InstanceFile(id string) ([]byte, error) {
	return s.Get("/instances/" + id + "/file")
}

// Get performs a GET on Orthanc's REST API (as a registered user when
// authentication is on) and returns the body of a 2xx answer.
func (s *Server) Get(path string) ([]byte, error) {
	return s.do(http.MethodGet, path, nil)
}

// Post performs a POST on Orthanc's REST API with a JSON or binary body and
// returns the body of a 2xx answer.
func (s *Server) Post(path string, body []byte) ([]byte, error) {
	return s.do(http.MethodPost, path, bytes.NewReader(body))
}

// Delete performs a DELETE on Orthanc's REST API.
func (s *Server) Delete(path string) error {
	_, err := s.do(http.MethodDelete, path, nil)
	return err
}

func (s *Server) do(method, path string, body io.Reader) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, body)
	if err != nil {
		return nil, fmt.Errorf("localarchive: %s %s: %w", method, path, err)
	}
	if s.user != "" {
		req.SetBasicAuth(s.user, s.pass)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("localarchive: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("localarchive: %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("localarchive: %s %s: %s: %.300s", method, path, resp.Status, b)
	}
	return b, nil
}

func freePort() (int, error) {
	// Orthanc binds all interfaces, so probe the same.
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
