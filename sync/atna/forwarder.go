package atna

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	gosync "sync"
	"time"

	"teleread/cache"
)

// Config says where the audit messages go.
type Config struct {
	// Address is the audit record repository's host:port (syslog over
	// TLS, RFC 5425; the registered port is 6514).
	Address string
	// TLS verifies the repository (its ServerName is taken from Address when
	// empty) and may hold a client certificate for mutual authentication.
	TLS *tls.Config
	// Source identifies this workstation in the messages.
	Source Source
	// Poll is how often the log is looked at for lines of other processes
	// (default 2 s); a line of this process is sent at once (see Kick).
	Poll time.Duration
}

// Tuning: one pass sends at most batch events per write; a failed pass is
// retried after a pause growing from minRetry to maxRetry.
const (
	batch        = 256
	minRetry     = time.Second
	maxRetry     = time.Minute
	dialTimeout  = 10 * time.Second
	writeTimeout = 10 * time.Second
)

// ErrDelivery wraps the error of a pass that could not send everything.
var ErrDelivery = errors.New("atna: audit messages not delivered")

// Forwarder sends home's audit trail to the repository, from where it
// stopped, on a goroutine of its own. Appending to the trail never waits for
// it: the trail is the queue (on disk, the record whatever happens to the
// network), the forwarder holds at most one batch in memory, and a failed
// send is retried with a growing pause.
type Forwarder struct {
	home string
	cfg  Config

	kick   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu      gosync.Mutex // one pass at a time; guards conn and lastErr
	conn    net.Conn
	lastErr error
	sent    int
}

// Start begins forwarding home's audit trail to cfg.Address, and wakes the
// forwarder after each line appended by this process.
func Start(home string, cfg Config) *Forwarder {
	if cfg.Poll <= 0 {
		cfg.Poll = 2 * time.Second
	}
	if cfg.Source.Host == "" {
		cfg.Source.Host = hostname()
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &Forwarder{home: home, cfg: cfg, kick: make(chan struct{}, 1), ctx: ctx, cancel: cancel, done: make(chan struct{})}
	cache.OnAudit(f.Kick)
	go f.loop()
	return f
}

// Kick asks for a pass now; it never blocks.
func (f *Forwarder) Kick() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

func (f *Forwarder) loop() {
	defer close(f.done)
	wait := minRetry
	for {
		err := f.pass(f.ctx)
		pause := f.cfg.Poll
		if err != nil && !errors.Is(err, cache.ErrAuditForwardBusy) {
			pause, wait = wait, min(2*wait, maxRetry)
		} else {
			wait = minRetry
		}
		t := time.NewTimer(pause)
		select {
		case <-f.ctx.Done():
			t.Stop()
			return
		case <-f.kick:
			// A new line: send it now, unless the repository just failed
			// (then the pause stands, so a dead repository is not redialled
			// for every event).
			if err != nil && !errors.Is(err, cache.ErrAuditForwardBusy) {
				select {
				case <-t.C:
				case <-f.ctx.Done():
					t.Stop()
					return
				}
			}
			t.Stop()
		case <-t.C:
		}
	}
}

// Flush sends what the trail holds now, trying until ctx ends; a command
// calls it before it exits. It returns nil when everything was sent, or
// when another process holds the forwarding position (that process sends).
func (f *Forwarder) Flush(ctx context.Context) error {
	wait := 100 * time.Millisecond
	for {
		err := f.pass(ctx)
		if err == nil || errors.Is(err, cache.ErrAuditForwardBusy) {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
			wait = min(2*wait, time.Second)
		}
	}
}

// TrySend makes one attempt at sending what the trail holds now (a command
// ends with it): it does not wait for a repository that refuses or is down,
// and ctx bounds the wait for one that hangs.
func (f *Forwarder) TrySend(ctx context.Context) error {
	err := f.pass(ctx)
	if errors.Is(err, cache.ErrAuditForwardBusy) {
		return nil
	}
	return err
}

// Close stops the forwarder (after the pass under way) and closes the
// connection. What was not sent stays in the trail for the next process.
func (f *Forwarder) Close() {
	cache.OnAudit(nil)
	f.cancel()
	<-f.done
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conn != nil {
		f.conn.Close()
		f.conn = nil
	}
}

// Sent returns how many events this forwarder has sent, and the error of
// its last pass (nil when it succeeded).
func (f *Forwarder) Sent() (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sent, f.lastErr
}

// pass sends every event after the forwarding position, batch by batch,
// moving the position after each batch written.
func (f *Forwarder) pass(ctx context.Context) (err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	defer func() { f.lastErr = err }()
	pos, err := cache.ClaimAuditForward(f.home)
	if err != nil {
		return err
	}
	defer pos.Close()
	for {
		evs, err := pos.Next(batch)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			// Lines passed over (cut short by a crash) still move the
			// position.
			return pos.Advance()
		}
		var buf []byte
		for _, ev := range evs {
			msg, err := Message(ev, f.cfg.Source)
			if err != nil {
				return err
			}
			buf = append(buf, Frame(msg, ev.Time, f.cfg.Source.Host)...)
		}
		if err := f.write(ctx, buf); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrDelivery, f.cfg.Address, err)
		}
		if err := pos.Advance(); err != nil {
			return err
		}
		f.sent += len(evs)
	}
}

// write sends buf on the connection, dialling one when there is none; a
// failed write closes it, so the next pass dials again. RFC 5425 has no
// acknowledgement: what the repository's TCP stack took is taken as sent.
func (f *Forwarder) write(ctx context.Context, buf []byte) error {
	if f.conn == nil {
		conn, err := f.dial(ctx)
		if err != nil {
			return err
		}
		f.conn = conn
	}
	f.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := f.conn.Write(buf); err != nil {
		f.conn.Close()
		f.conn = nil
		return err
	}
	return nil
}

func (f *Forwarder) dial(ctx context.Context) (net.Conn, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if f.cfg.TLS != nil {
		conf = f.cfg.TLS.Clone()
	}
	if conf.ServerName == "" {
		host, _, err := net.SplitHostPort(f.cfg.Address)
		if err != nil {
			return nil, err
		}
		conf.ServerName = host
	}
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	d := &tls.Dialer{Config: conf, NetDialer: &net.Dialer{KeepAlive: 30 * time.Second}}
	return d.DialContext(dctx, "tcp", f.cfg.Address)
}

// hostname returns this machine's name as RFC 5424 allows it (printable
// US-ASCII, no spaces, at most 255 characters).
func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return ""
	}
	h = strings.Map(func(r rune) rune {
		if r < 33 || r > 126 {
			return -1
		}
		return r
	}, h)
	if len(h) > 255 {
		h = h[:255]
	}
	return h
}
