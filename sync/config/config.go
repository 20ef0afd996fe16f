// Package config is Teleread's one configuration: the file
// (~/.config/teleread/config.json or $TELEREAD_CONFIG), then the environment,
// read the same way by every command and by the reading app. Flags, where a
// command has them, override both in the command itself.
package config

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	gosync "sync"

	tsync "teleread/sync"
	"teleread/sync/atna"
	"teleread/sync/signin"
)

// Config is the user's configuration file (JSON), by default
// $XDG_CONFIG_HOME/teleread/config.json (~/.config/teleread/config.json).
// Environment variables override it; flags override both. Secrets may be kept
// here only in a file readable by the user alone; TELEREAD_PASSWORD and
// TELEREAD_TOKEN are the alternative. Nothing here is ever logged.
type Config struct {
	Archive string `json:"archive"` // DICOMweb root, e.g. https://pacs.example.org/dicom-web
	Reader  string `json:"reader"`  // the reading radiologist's name as the archive spells it (DICOM PN, e.g. Smith^Ann)
	// Auth is how the archive is signed in to: "none", "basic", "bearer" or
	// "oauth2"; "" infers it from what is set (oauth2, then a token or
	// token_file, then user). It says which secret to look up in the
	// keyring when the file holds none.
	Auth      string  `json:"auth"`
	User      string  `json:"user"`       // HTTP basic user
	Password  string  `json:"password"`   // HTTP basic password
	Token     string  `json:"token"`      // bearer token
	TokenFile string  `json:"token_file"` // file holding a bearer token
	OAuth2    *OAuth2 `json:"oauth2"`
	CAFile    string  `json:"ca_file"` // extra trusted CA certificates (PEM)
	// InsecureSkipVerifyDANGEROUS turns off TLS verification: for a lab archive only.
	InsecureSkipVerifyDANGEROUS bool `json:"insecure_skip_verify_DANGEROUS"`
	// AllowInsecureHTTPDANGEROUS lets credentials go over plain http to a
	// host other than this machine: for a lab archive only.
	AllowInsecureHTTPDANGEROUS bool   `json:"allow_insecure_http_DANGEROUS"`
	Organization               string `json:"organization"` // the reader's organization, for the SR's Verifying Observer
	// Worklist says where the assignments come from: "query" (default: studies
	// whose Name of Physician(s) Reading Study matches the reader) or "ups"
	// (UPS-RS workitems scheduled for the reader, claimed and completed).
	Worklist string `json:"worklist"`
	// WorklistQuery replaces the reader query of a "query" worklist:
	// QIDO-RS study matching keys, "Key=Value" pairs joined by '&'
	// (e.g. "NameOfPhysiciansReadingStudy=*Smith*&ModalitiesInStudy=CT").
	WorklistQuery string `json:"worklist_query"`
	// AssignedAttribute names the study attribute holding when the archive
	// assigned the study, for a "query" worklist (a DT keyword or tag, or
	// "Date+Time" keywords): the turnaround starts there rather than when
	// this cache first saw the study. UPS-RS workitems carry their own.
	AssignedAttribute string `json:"assigned_attribute"`
	// TurnaroundMinutes is how long a study may wait for its report from
	// assignment: one number for every priority, or {"STAT": 30, "HIGH":
	// 120, "ROUTINE": 1440}. Absent: an hour, STAT a quarter of it.
	TurnaroundMinutes tsync.TurnaroundMinutes `json:"turnaround_minutes"`
	// Priors is how many earlier studies of the patient are fetched with
	// each assigned study; absent is 2.
	Priors *int `json:"priors"`
	// RetentionDays: a study nobody accessed for this many days, off the
	// worklist, whose reports and consultation notes are all delivered (no
	// draft, nothing waiting), is purged by the sync service (cache.Retain):
	// its key is shredded, its files and rows removed. Absent: 7
	// (DefaultRetentionDays); 0 keeps studies until evicted or purged by hand.
	RetentionDays int `json:"retention_days"`
	// CacheLimitGB bounds the cache: beyond it the least recently read studies
	// are evicted, never one with a draft or an undelivered report or still on
	// the worklist. Zero: no limit.
	CacheLimitGB float64 `json:"cache_limit_gb"`
	// Workitems is the UPS-RS root holding /workitems when it is not the archive's.
	Workitems string `json:"workitems"`
	// Ceilings on what the archive sends (zero: the client's defaults, 16 MiB,
	// 10000 results, 4 GiB): one JSON answer, the results of one search, one
	// retrieved instance.
	MaxJSONMB  int64 `json:"max_json_mb"`
	MaxResults int   `json:"max_results"`
	MaxPartMB  int64 `json:"max_part_mb"`
	// CutOffRetryHours is how long an instance whose part was cut off (longer
	// than announced or than max_part_mb) is left alone before the next try
	// (zero: 24 hours); `sync --retry-cut-off` tries at once.
	CutOffRetryHours float64 `json:"cut_off_retry_hours"`
	// TransferSyntaxes is the order in which retrieves ask for transfer
	// syntaxes ("*": as stored); empty means the client's default, lossless
	// compressed first. Lossy syntaxes only when listed here.
	TransferSyntaxes []string `json:"transfer_syntaxes"`
	// LinkFastMbps is the measured throughput (Mbit/s) from which, when
	// transfer_syntaxes is not set, retrieves ask for the stored bytes
	// instead of a compressed syntax (zero: 300). An archive on this machine
	// always gets asked for the stored bytes.
	LinkFastMbps float64 `json:"link_fast_mbps"`

	// AuditSyslog, when set, sends every audit event also to the hospital's
	// audit record repository (IHE ATNA, syslog over TLS).
	AuditSyslog *AuditSyslog `json:"audit_syslog"`

	secretErr error // the keyring could not be read (see SecretError)

	session       *signin.Session // see WithSignIn
	sessionOrigin string          // the archive the session's tokens are for
}

// OAuth2 is an archive's OAuth 2.0 client: the client credentials grant
// (token_url, client_id, client_secret) or, with Issuer, the reader's own
// sign-in at the archive's OpenID Connect provider (`teleread login`),
// client_id being the app's registration there.
type OAuth2 struct {
	Issuer       string   `json:"issuer"`
	TokenURL     string   `json:"token_url"`
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret"`
	Scopes       []string `json:"scopes"`
}

// DefaultRetentionDays is retention_days when the configuration says nothing.
const DefaultRetentionDays = 7

// AuditSyslog is where audit messages go: an IHE ATNA audit record
// repository taking RFC 5424 syslog over TLS (RFC 5425).
type AuditSyslog struct {
	Address string `json:"address"` // host:port, e.g. audit.hospital.org:6514
	// CAFile holds the CA certificates (PEM) the repository's certificate
	// must chain to; empty: the system's roots.
	CAFile string `json:"ca_file"`
	// CertFile and KeyFile are this workstation's client certificate and key
	// (PEM), for a repository that authenticates its nodes (ATNA's secure
	// node). The key file must be private to the user.
	CertFile string `json:"cert_file"`
	KeyFile  string `json:"key_file"`
	// SiteID is the AuditEnterpriseSiteID of the messages (the reading group
	// or hospital); SourceID the AuditSourceID (default: the host name).
	SiteID   string `json:"site_id"`
	SourceID string `json:"source_id"`
}

// ATNA returns the audit forwarder's configuration (see package atna).
func (a AuditSyslog) ATNA() (atna.Config, error) {
	conf, err := a.TLS()
	if err != nil {
		return atna.Config{}, err
	}
	return atna.Config{Address: a.Address, TLS: conf, Source: atna.Source{ID: a.SourceID, SiteID: a.SiteID}}, nil
}

// ErrAuditSyslog wraps a bad audit_syslog configuration.
var ErrAuditSyslog = errors.New("audit_syslog")

// TLS returns the TLS configuration for the audit record repository: its
// CA file (else the system's roots) and the client certificate, if any.
func (a AuditSyslog) TLS() (*tls.Config, error) {
	if _, _, err := net.SplitHostPort(a.Address); err != nil {
		return nil, fmt.Errorf("config: %w: address %q: want host:port", ErrAuditSyslog, a.Address)
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if a.CAFile != "" {
		pem, err := os.ReadFile(a.CAFile)
		if err != nil {
			return nil, fmt.Errorf("config: %w: ca_file: %w", ErrAuditSyslog, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("config: %w: ca_file %s: no PEM certificate", ErrAuditSyslog, a.CAFile)
		}
		conf.RootCAs = pool
	}
	if (a.CertFile == "") != (a.KeyFile == "") {
		return nil, fmt.Errorf("config: %w: cert_file and key_file go together", ErrAuditSyslog)
	}
	if a.CertFile != "" {
		certPEM, err := os.ReadFile(a.CertFile)
		if err != nil {
			return nil, fmt.Errorf("config: %w: cert_file: %w", ErrAuditSyslog, err)
		}
		keyPEM, err := ReadPrivate(a.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("config: %w: key_file: %w", ErrAuditSyslog, err)
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("config: %w: %s, %s: %w", ErrAuditSyslog, a.CertFile, a.KeyFile, err)
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	return conf, nil
}

// Path is where the configuration file is read from.
func Path() string {
	if p := os.Getenv("TELEREAD_CONFIG"); p != "" {
		return p
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "teleread", "config.json")
}

// Load reads the configuration file (absent is fine), applies the
// environment (TELEREAD_ARCHIVE, TELEREAD_READER, TELEREAD_USER,
// TELEREAD_PASSWORD, TELEREAD_TOKEN, TELEREAD_WORKLIST), and takes the secret
// its auth needs from the keyring when neither gave it (see Save).
func Load() (Config, error) {
	c, err := readFile(Path())
	if err != nil {
		return c, err
	}
	env := func(dst *string, name string) {
		if v := os.Getenv(name); v != "" {
			*dst = v
		}
	}
	env(&c.Archive, "TELEREAD_ARCHIVE")
	env(&c.Reader, "TELEREAD_READER")
	env(&c.User, "TELEREAD_USER")
	env(&c.Password, "TELEREAD_PASSWORD")
	env(&c.Token, "TELEREAD_TOKEN")
	env(&c.Worklist, "TELEREAD_WORKLIST")
	c.fillSecret()
	return c, nil
}

// LoadFile reads the configuration file at path alone, without the
// environment (what Settings edit and Save writes back), with the secret its
// auth needs from the keyring. An absent file is the zero Config.
func LoadFile(path string) (Config, error) {
	c, err := readFile(path)
	if err != nil {
		return c, err
	}
	c.fillSecret()
	return c, nil
}

func readFile(p string) (Config, error) {
	c := Config{RetentionDays: DefaultRetentionDays}
	if p == "" {
		return c, nil
	}
	b, err := ReadPrivate(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return c, fmt.Errorf("config: %w", err)
	default:
		if err := json.Unmarshal(b, &c); err != nil {
			return c, fmt.Errorf("config %s: %w", p, err)
		}
	}
	return c, nil
}

// ForTarget returns the configuration for talking to target, a DICOMweb root
// named by a link, an open or an export --stow: the stored and environment
// credentials were issued for the configured archive and go to target only
// when it has the archive's origin (scheme, host and port); any other host
// gets only the token of tokenFile (which the user gave for it), or none.
// A link comes from anywhere: teleread://open?url=http://elsewhere/... used
// to receive TELEREAD_TOKEN.
func (c Config) ForTarget(target, tokenFile string) Config {
	if !SameOrigin(c.Archive, target) {
		c.User, c.Password, c.Token, c.TokenFile, c.OAuth2, c.session = "", "", "", "", nil, nil
	}
	c.Archive = target
	if tokenFile != "" {
		c.User, c.Password, c.Token, c.TokenFile, c.OAuth2, c.session = "", "", "", tokenFile, nil, nil
	}
	return c
}

// SameOrigin reports whether two URLs have the same scheme, host and port
// (an absent port is the scheme's default).
func SameOrigin(a, b string) bool {
	oa, ok1 := origin(a)
	ob, ok2 := origin(b)
	return ok1 && ok2 && oa == ob
}

func origin(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		default:
			return "", false
		}
	}
	return scheme + "://" + net.JoinHostPort(strings.TrimSuffix(strings.ToLower(u.Hostname()), "."), port), true
}

// ErrShared is returned for a configuration or token file that users other
// than its owner may read or change.
var ErrShared = errors.New("readable or writable by group or others: chmod 600 it")

// ReadPrivate reads a file that holds (or names where to send) credentials,
// refusing it when group or others have any access to it: a secret that
// another local user could read is already disclosed, and a config file that
// others could change could point the stored credentials at their host.
func ReadPrivate(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s (mode %04o): %w", p, st.Mode().Perm(), ErrShared)
	}
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return b, nil
}

// Client builds the DICOMweb client from the configuration.
func (c Config) Client() (*tsync.Client, error) {
	if c.Archive == "" {
		return nil, errors.New("no archive configured: pass --archive URL, set TELEREAD_ARCHIVE, or put \"archive\" in " + Path())
	}
	cfg := tsync.Config{BaseURL: c.Archive, CAFile: c.CAFile, InsecureSkipVerifyDANGEROUS: c.InsecureSkipVerifyDANGEROUS,
		MaxJSONBytes: c.MaxJSONMB << 20, MaxResults: c.MaxResults, MaxPartBytes: c.MaxPartMB << 20,
		AllowInsecureHTTPDANGEROUS: c.AllowInsecureHTTPDANGEROUS, LinkFastMbps: c.LinkFastMbps}
	if len(c.TransferSyntaxes) > 0 {
		cfg.TransferSyntaxes = c.TransferSyntaxes
	}
	token := c.Token
	if token == "" && c.TokenFile != "" {
		b, err := ReadPrivate(c.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("token file: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	switch c.AuthKind() {
	case "oauth2":
		if c.OAuth2 == nil {
			return nil, errors.New("config: auth oauth2: no \"oauth2\" settings (token_url, client_id)")
		}
		if c.OAuth2.Issuer != "" {
			if c.session == nil {
				return nil, errors.New("config: the archive wants a sign-in (oauth2.issuer) and the session store is not open")
			}
			if !SameOrigin(c.sessionOrigin, c.Archive) {
				// A flag named another archive: the access token is the
				// configured archive's alone.
				return nil, fmt.Errorf("config: the sign-in is for %s, not %s: its tokens are not sent there", c.sessionOrigin, c.Archive)
			}
			cfg.Auth = tsync.OAuth2Session{Tokens: c.session}
			break
		}
		cfg.Auth = &tsync.OAuth2ClientCredentials{TokenURL: c.OAuth2.TokenURL, ClientID: c.OAuth2.ClientID,
			ClientSecret: c.OAuth2.ClientSecret, Scopes: c.OAuth2.Scopes}
	case "bearer":
		if token == "" {
			return nil, c.missingSecret("bearer token")
		}
		cfg.Auth = tsync.BearerToken{Token: token}
	case "basic":
		if c.Password == "" && c.secretErr != nil {
			return nil, c.missingSecret("password")
		}
		cfg.Auth = tsync.BasicAuth{User: c.User, Password: c.Password}
	case "none":
	default:
		return nil, fmt.Errorf("config: auth %q: want none, basic, bearer or oauth2", c.Auth)
	}
	return tsync.New(cfg)
}

func (c Config) missingSecret(what string) error {
	if c.secretErr != nil {
		return fmt.Errorf("config: archive %s: not in %s, and the keyring cannot be read: %w", what, Path(), c.secretErr)
	}
	return fmt.Errorf("config: archive %s: none in %s, the environment or the keyring (enter it in Settings, or name a token_file)", what, Path())
}

// SignsIn reports whether the archive wants the reader signed in at its
// OpenID Connect provider (oauth2.issuer).
func (c Config) SignsIn() bool {
	return c.AuthKind() == "oauth2" && c.OAuth2 != nil && c.OAuth2.Issuer != ""
}

// WithSignIn returns c with the sign-in session of its archive's provider,
// which Client then uses: the session is kept in the OS keyring, else sealed
// under sealKey in dir. A configuration without an issuer is returned as is.
func (c Config) WithSignIn(dir string, sealKey []byte) (Config, error) {
	if !c.SignsIn() {
		return c, nil
	}
	hc, err := tsync.ProviderHTTPClient(tsync.Config{CAFile: c.CAFile, InsecureSkipVerifyDANGEROUS: c.InsecureSkipVerifyDANGEROUS})
	if err != nil {
		return c, err
	}
	// One session per provider, client and store in the process: two
	// would renew with the same refresh token, and a provider that rotates
	// refresh tokens takes each only once.
	key := strings.Join([]string{c.OAuth2.Issuer, c.OAuth2.ClientID, c.OAuth2.ClientSecret, strings.Join(c.OAuth2.Scopes, " "),
		c.CAFile, fmt.Sprint(c.InsecureSkipVerifyDANGEROUS), dir}, "\x00")
	sessions.mu.Lock()
	defer sessions.mu.Unlock()
	s, ok := sessions.m[key]
	if !ok {
		s, err = signin.New(signin.Config{Issuer: c.OAuth2.Issuer, ClientID: c.OAuth2.ClientID, ClientSecret: c.OAuth2.ClientSecret,
			Scopes: c.OAuth2.Scopes, HTTPClient: hc, Store: signin.DefaultStore(dir, sealKey)})
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		sessions.m[key] = s
	}
	c.session, c.sessionOrigin = s, c.Archive
	return c, nil
}

// sessions are the sign-in sessions WithSignIn made, by what makes them.
var sessions = struct {
	mu gosync.Mutex
	m  map[string]*signin.Session
}{m: map[string]*signin.Session{}}

// SignIn is the session WithSignIn attached; nil when there is none.
func (c Config) SignIn() *signin.Session { return c.session }

// UPSProvider builds the UPS-RS worklist provider: the archive's client, or one
// for the separate workitems root, with the same credentials.
func (c Config) UPSProvider(archive *tsync.Client, store tsync.WorkitemStore) (*tsync.UPS, error) {
	ups := &tsync.UPS{Client: archive, Archive: archive, Store: store, Performer: c.Reader}
	if c.Workitems != "" {
		wc := c
		wc.Archive = c.Workitems
		client, err := wc.Client()
		if err != nil {
			return nil, err
		}
		ups.Client = client
	}
	return ups, nil
}

// Configured reports whether the configuration names an archive: only then do
// the app and the sync command talk to one (the app starts its demo archive
// otherwise).
func (c Config) Configured() bool { return c.Archive != "" }

// CacheLimitBytes is CacheLimitGB in bytes; 0 is no limit.
func (c Config) CacheLimitBytes() int64 {
	if c.CacheLimitGB <= 0 {
		return 0
	}
	return int64(c.CacheLimitGB * (1 << 30))
}

// ErrWorklistMode is returned for a worklist mode other than query or ups.
var ErrWorklistMode = errors.New("worklist: want query or ups")

// UPS reports whether the worklist is UPS-RS workitems, and an error wrapping
// ErrWorklistMode for an unknown mode.
func (c Config) UPS() (bool, error) {
	switch c.Worklist {
	case "", "query":
		return false, nil
	case "ups":
		return true, nil
	}
	return false, fmt.Errorf("config: worklist %q: %w", c.Worklist, ErrWorklistMode)
}
