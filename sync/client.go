// Package sync talks to remote archives: a DICOMweb client (PS3.18 QIDO-RS,
// WADO-RS, STOW-RS) and the puller that fills the local cache with the
// reader's worklist and the patients' priors.
package sync

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	gosync "sync"
	"time"
)

// Config configures a Client. Zero values mean the documented defaults.
type Config struct {
	// BaseURL is the DICOMweb root, e.g. "https://pacs.example.org/dicom-web".
	// User information in it ("https://user:pw@host/...") is taken as
	// BasicAuth (when Auth is nil) and removed from every URL the client
	// shows.
	BaseURL string
	// Auth adds credentials to each request; nil sends none.
	Auth Auth

	// CAFile names a PEM file of certificates trusted in addition to the
	// system roots.
	CAFile string
	// InsecureSkipVerifyDANGEROUS turns off TLS certificate verification.
	// Anyone on the network path can then read and alter patient data;
	// it exists only for a lab archive with a throw-away certificate.
	InsecureSkipVerifyDANGEROUS bool
	// AllowInsecureHTTPDANGEROUS lets credentials go over plain http to a
	// host other than this machine. Without it New refuses such a
	// configuration (ErrInsecureCredentials): anyone on the path would
	// read the password or token.
	AllowInsecureHTTPDANGEROUS bool

	// MaxConcurrent bounds the requests in flight (bodies being read
	// included); default 4.
	MaxConcurrent int
	// MaxRetries is how often a transient failure is retried; default 4,
	// negative for none.
	MaxRetries int
	// RetryBaseDelay and RetryMaxDelay shape the exponential backoff with
	// full jitter; defaults 250 ms and 10 s.
	RetryBaseDelay, RetryMaxDelay time.Duration
	// ConnectTimeout bounds dialling and the TLS handshake; default 10 s.
	ConnectTimeout time.Duration
	// ResponseTimeout bounds the wait for a response's headers; default 60 s.
	ResponseTimeout time.Duration
	// StallTimeout aborts a response body that sends nothing for this long;
	// default 60 s. (There is no limit on a whole transfer: studies are big.)
	StallTimeout time.Duration
	// IdleConnTimeout closes idle keep-alive connections; default 800 ms,
	// below Orthanc's 1 s keep-alive so the client never reuses a
	// connection the server is closing.
	IdleConnTimeout time.Duration
	// MaxJSONBytes bounds a JSON answer (search results, metadata); default
	// 16 MiB. Decoded, small objects take several times their JSON size: a
	// 250 MB answer cost 5.9 GB.
	MaxJSONBytes int64
	// MaxResults bounds the objects of one search, across all its pages
	// (SearchAll) or in one answer; default 10000. A search that reaches it
	// stops with ErrTooManyResults: an archive that fills every page forever
	// is not paged through forever.
	MaxResults int
	// MaxPartBytes bounds one part of a retrieve (one instance), whether or
	// not the part announces its length: an archive that sends an endless
	// part is cut off there instead of filling the disk; default 4 GiB.
	MaxPartBytes int64

	// TransferSyntaxes is the order of preference of the transfer syntaxes
	// a retrieve asks for (PS3.18 §8.7), "*" standing for the instances as
	// stored; nil means DefaultTransferSyntaxes. Lossy syntaxes are asked
	// for only when listed here. A syntax the archive refuses (406, 400,
	// 415) is dropped for the life of the Client; one it cannot produce for
	// a particular study (500, 501) costs only that request, which is then
	// asked for as stored.
	TransferSyntaxes []string
	// LinkFastMbps is the measured throughput (Mbit/s) at and above which,
	// when TransferSyntaxes is nil, a retrieve asks for the stored bytes
	// rather than a compressed syntax; 0 means DefaultLinkFastMbps. An
	// archive on this machine always gets asked for the stored bytes.
	LinkFastMbps float64
	// LinkStats, when set, keeps the link's estimate per archive across
	// clients (the next sync starts from it); nil keeps it in memory.
	LinkStats *LinkStats

	// Logger receives retries and warnings; nil discards them. Log records
	// carry the method and path, never credentials.
	Logger *slog.Logger
	// UserAgent is sent with each request; default "Teleread".
	UserAgent string
	// Transport replaces the HTTP transport (then the TLS, time-out and
	// idle settings above are the caller's business).
	Transport http.RoundTripper
}

// Client is a DICOMweb client. It is safe for concurrent use.
type Client struct {
	base    *url.URL // without user information
	auth    Auth
	hc      *http.Client
	sem     chan struct{}
	cfg     Config
	log     *slog.Logger
	display string // base URL as shown in messages

	// ts remembers which transfer syntaxes the archive refused; a pointer
	// so that copies of the Client (Probe) share it.
	ts *syntaxMemory
	// link measures the link to the archive (link.go); shared by copies.
	link *linkMeter
}

// syntaxMemory holds the index in Config.TransferSyntaxes of the first
// syntax the archive has not refused: what worked is remembered.
type syntaxMemory struct {
	mu   gosync.Mutex
	from int
}

// New returns a client for the archive at cfg.BaseURL.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("sync: base URL %s: invalid", redactURL(cfg.BaseURL))
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("sync: base URL %s: want http(s)://host/path", redactURL(cfg.BaseURL))
	}
	if u.User != nil {
		if cfg.Auth == nil {
			pw, _ := u.User.Password()
			cfg.Auth = BasicAuth{User: u.User.Username(), Password: pw}
		}
		u.User = nil
	}
	u.RawQuery, u.Fragment = "", ""
	if cfg.Auth != nil && !cfg.AllowInsecureHTTPDANGEROUS {
		if !secureOrLoopback(u) {
			return nil, fmt.Errorf("sync: base URL %s: %w", u.String(), ErrInsecureCredentials)
		}
		if oa, ok := cfg.Auth.(*OAuth2ClientCredentials); ok {
			tu, err := url.Parse(oa.TokenURL)
			if err != nil || !secureOrLoopback(tu) {
				return nil, fmt.Errorf("sync: oauth2 token URL %s: %w", redactURL(oa.TokenURL), ErrInsecureCredentials)
			}
		}
	}
	link := newLinkMeter(cfg, u.String(), IsLoopback(u.Hostname()))
	setDefaults(&cfg)
	if err := checkSyntaxes(cfg.TransferSyntaxes); err != nil {
		return nil, err
	}

	c := &Client{
		base:    u,
		auth:    cfg.Auth,
		sem:     make(chan struct{}, cfg.MaxConcurrent),
		cfg:     cfg,
		log:     cfg.Logger,
		display: u.String(),
		ts:      &syntaxMemory{},
		link:    link,
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	rt := cfg.Transport
	if rt == nil {
		tlsCfg, err := tlsConfig(cfg)
		if err != nil {
			return nil, err
		}
		if cfg.InsecureSkipVerifyDANGEROUS {
			c.log.Warn("TLS certificate verification is OFF", "archive", c.display)
		}
		rt = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:       tlsCfg,
			TLSHandshakeTimeout:   cfg.ConnectTimeout,
			ResponseHeaderTimeout: cfg.ResponseTimeout,
			IdleConnTimeout:       cfg.IdleConnTimeout,
			MaxIdleConnsPerHost:   cfg.MaxConcurrent,
			ForceAttemptHTTP2:     true,
			ReadBufferSize:        64 << 10,
			WriteBufferSize:       64 << 10,
		}
	}
	c.hc = &http.Client{
		Transport: rt,
		// Redirects must not carry credentials to another host; the
		// archive has no business redirecting DICOMweb requests.
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			return fmt.Errorf("redirected to %s", redactURL(req.URL.String()))
		},
	}
	if oa, ok := cfg.Auth.(*OAuth2ClientCredentials); ok {
		oa.mu.Lock()
		oa.hc = &http.Client{Transport: rt, Timeout: cfg.ResponseTimeout, CheckRedirect: c.hc.CheckRedirect}
		oa.mu.Unlock()
	}
	return c, nil
}

// ProviderHTTPClient returns an HTTP client with cfg's TLS settings (CA
// file, verification) and time-outs that follows no redirect: for the
// archive's sign-in provider, whose token endpoint receives refresh tokens.
func ProviderHTTPClient(cfg Config) (*http.Client, error) {
	setDefaults(&cfg)
	rt := cfg.Transport
	if rt == nil {
		tlsCfg, err := tlsConfig(cfg)
		if err != nil {
			return nil, err
		}
		rt = &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:     tlsCfg,
			TLSHandshakeTimeout: cfg.ConnectTimeout,
			IdleConnTimeout:     cfg.IdleConnTimeout,
			ForceAttemptHTTP2:   true,
		}
	}
	return &http.Client{Transport: rt, Timeout: cfg.ResponseTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			return fmt.Errorf("redirected to %s", redactURL(req.URL.String()))
		}}, nil
}

func setDefaults(cfg *Config) {
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = 4
	}
	if cfg.TransferSyntaxes == nil {
		cfg.TransferSyntaxes = DefaultTransferSyntaxes
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 4
	}
	if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.RetryBaseDelay <= 0 {
		cfg.RetryBaseDelay = 250 * time.Millisecond
	}
	if cfg.RetryMaxDelay <= 0 {
		cfg.RetryMaxDelay = 10 * time.Second
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if cfg.ResponseTimeout <= 0 {
		cfg.ResponseTimeout = 60 * time.Second
	}
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = 60 * time.Second
	}
	if cfg.IdleConnTimeout <= 0 {
		cfg.IdleConnTimeout = 800 * time.Millisecond
	}
	if cfg.MaxPartBytes <= 0 {
		cfg.MaxPartBytes = 4 << 30
	}
	if cfg.MaxResults <= 0 {
		cfg.MaxResults = 10000
	}
	if cfg.MaxJSONBytes <= 0 {
		cfg.MaxJSONBytes = 16 << 20
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "Teleread"
	}
}

func tlsConfig(cfg Config) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("sync: CA file: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("sync: CA file %s: no PEM certificate in it", cfg.CAFile)
		}
		tc.RootCAs = pool
	}
	tc.InsecureSkipVerify = cfg.InsecureSkipVerifyDANGEROUS
	return tc, nil
}

// secureOrLoopback reports whether credentials may be sent to u: over https,
// or over http to this machine (a local archive or a test).
func secureOrLoopback(u *url.URL) bool {
	if u.Scheme == "https" {
		return true
	}
	return u.Scheme == "http" && IsLoopback(u.Hostname())
}

// IsLoopback reports whether host (a name or an address, no port) is this
// machine: localhost, a name under .localhost, or a loopback address.
func IsLoopback(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// BaseURL returns the archive's DICOMweb root, without credentials.
func (c *Client) BaseURL() string { return c.display }

// redactURL removes user information from a URL for messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		// Do not echo something that might hold a password.
		if i := strings.LastIndex(s, "@"); i >= 0 {
			if j := strings.Index(s, "://"); j >= 0 && j < i {
				return s[:j+3] + "[redacted]" + s[i:]
			}
			return "[redacted]" + s[i:]
		}
		return s
	}
	u.User = nil
	return u.String()
}

// request is one DICOMweb request, repeatable for retries.
type request struct {
	method string
	path   string // below the base path, starting with "/"
	query  string // raw query, already escaped
	accept string
	header http.Header
	body   func() io.Reader // a fresh body for each attempt; nil for none
	// offersSyntax marks a retrieve that asks for a transcoded syntax: a
	// 500 then means "cannot produce that syntax" far more often than a
	// passing fault, and the caller falls back instead of retrying.
	offersSyntax bool
}

func (r request) name(c *Client) string {
	s := r.method + " " + c.base.Path + r.path
	if r.query != "" {
		s += "?" + r.query
	}
	return s
}

// response is a 2xx answer whose body is guarded by the stall timer and
// holds a concurrency slot until closed.
type response struct {
	*http.Response
	name string
}

// send performs r, retrying transient failures with backoff, and returns a
// 2xx response. The caller must close its Body.
func (c *Client) send(ctx context.Context, r request) (*response, error) {
	name := r.name(c)
	authRetried := false
	for attempt := 0; ; attempt++ {
		resp, err := c.attempt(ctx, r)
		if err == nil && resp.StatusCode/100 == 2 {
			return &response{Response: resp, name: name}, nil
		}
		var retryAfter time.Duration
		if err == nil {
			herr := c.httpError(r, resp)
			if resp.StatusCode == http.StatusUnauthorized && c.auth != nil && !authRetried && c.auth.rejected() {
				authRetried = true
				attempt--
				continue
			}
			if !herr.Transient() || attempt >= c.cfg.MaxRetries ||
				r.offersSyntax && herr.StatusCode == http.StatusInternalServerError {
				return nil, fmt.Errorf("sync: %w", herr)
			}
			retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"))
			err = herr
		} else {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("sync: %s: %w", name, context.Cause(ctx))
			}
			if errors.Is(err, ErrSignInRequired) || !retryableTransportError(err) {
				return nil, fmt.Errorf("sync: %s: %w", name, err)
			}
			if attempt >= c.cfg.MaxRetries {
				return nil, fmt.Errorf("sync: %s: %w: %w", name, ErrOffline, err)
			}
		}
		d := c.backoff(attempt, retryAfter)
		c.log.Info("retrying", "request", name, "attempt", attempt+1, "after", d, "error", err)
		if err := sleepCtx(ctx, d); err != nil {
			return nil, fmt.Errorf("sync: %s: %w", name, err)
		}
	}
}

// attempt performs one try. Transport errors are returned without the URL
// (net/http quotes it in full).
func (c *Client) attempt(ctx context.Context, r request) (*http.Response, error) {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	release := gosync.OnceFunc(func() { <-c.sem })

	actx, cancel := context.WithCancelCause(ctx)
	u := *c.base
	u.Path = c.base.Path + r.path
	u.RawPath = ""
	u.RawQuery = r.query
	var body io.Reader
	if r.body != nil {
		body = r.body()
	}
	req, err := http.NewRequestWithContext(actx, r.method, u.String(), body)
	if err != nil {
		cancel(nil)
		release()
		return nil, fmt.Errorf("build request: %v", err)
	}
	// The query was escaped by hand (wildcards go raw): keep it as is.
	req.URL.RawQuery = r.query
	for k, v := range r.header {
		req.Header[k] = v
	}
	if r.accept != "" {
		req.Header.Set("Accept", r.accept)
	}
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	if c.auth != nil {
		if err := c.auth.authorize(ctx, req); err != nil {
			cancel(nil)
			release()
			return nil, err
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		cancel(nil)
		release()
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, err
	}
	resp.Body = newGuardedBody(resp.Body, c.cfg.StallTimeout, cancel, release)
	return resp, nil
}

// httpError reads the start of a failed answer and closes it.
func (c *Client) httpError(r request, resp *http.Response) *HTTPError {
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return &HTTPError{
		raw:        b,
		Method:     r.method,
		Path:       strings.TrimPrefix(r.name(c), r.method+" "),
		StatusCode: resp.StatusCode,
		Status:     resp.Status,
		Body:       summarizeBody(b[:min(len(b), 4096)]),
	}
}

func retryableTransportError(err error) bool {
	var cve *tls.CertificateVerificationError
	var uae x509.UnknownAuthorityError
	var hne x509.HostnameError
	var cie x509.CertificateInvalidError
	if errors.As(err, &cve) || errors.As(err, &uae) || errors.As(err, &hne) || errors.As(err, &cie) {
		return false
	}
	if strings.Contains(err.Error(), "redirected to") {
		return false
	}
	return true
}

// backoff returns the delay before retry attempt+1: full jitter over an
// exponentially growing window, or the server's Retry-After if longer.
func (c *Client) backoff(attempt int, retryAfter time.Duration) time.Duration {
	window := c.cfg.RetryBaseDelay << min(attempt, 20)
	if window > c.cfg.RetryMaxDelay || window <= 0 {
		window = c.cfg.RetryMaxDelay
	}
	d := time.Duration(rand.Int64N(int64(window)) + 1)
	if retryAfter > d {
		d = min(retryAfter, c.cfg.RetryMaxDelay)
	}
	return d
}

func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// guardedBody aborts a body that stalls and frees the request's concurrency
// slot when closed.
type guardedBody struct {
	rc      io.ReadCloser
	d       time.Duration
	timer   *time.Timer
	stalled chan struct{}
	cancel  context.CancelCauseFunc
	release func()
}

func newGuardedBody(rc io.ReadCloser, d time.Duration, cancel context.CancelCauseFunc, release func()) *guardedBody {
	b := &guardedBody{rc: rc, d: d, cancel: cancel, release: release, stalled: make(chan struct{})}
	b.timer = time.AfterFunc(d, func() {
		close(b.stalled)
		cancel(ErrStalled)
	})
	return b
}

func (b *guardedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.timer.Reset(b.d)
	}
	if err != nil && err != io.EOF {
		select {
		case <-b.stalled:
			return n, fmt.Errorf("%w: no data for %v", ErrStalled, b.d)
		default:
		}
	}
	return n, err
}

func (b *guardedBody) Close() error {
	b.timer.Stop()
	err := b.rc.Close()
	b.cancel(nil)
	b.release()
	return err
}
