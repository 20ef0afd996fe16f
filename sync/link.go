package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	gosync "sync"
	"time"
)

// Link awareness. What to ask an archive for depends on the link to it: over
// a home line a lossless compressed syntax brings a CT study in a third of
// the time (JPEG-LS makes a slice about 3.5 times smaller), but the archive
// must transcode every instance, and once the link carries more than the
// archive transcodes, the stored bytes come sooner and cost the archive
// nothing. The client measures, per archive, the throughput of its retrieves
// and the round trip of its searches, and when the transfer syntaxes are not
// configured (Config.TransferSyntaxes nil) asks for the stored bytes on a
// fast link and for the compressed default list on a slow or unknown one.

// DefaultLinkFastMbps is the throughput, in Mbit/s, at and above which a link
// counts as fast when none is configured (Config.LinkFastMbps). The home-link
// bench (README) chose it: a loaded two-core Orthanc transcodes a 300-slice CT
// to JPEG-LS at about 230 Mbit/s of stored bytes, so below that the
// compressed syntax brings the study sooner and above it the stored bytes do.
const DefaultLinkFastMbps = 300

// linkProbeEvery is how long a measured throughput of stored bytes holds
// before the next study's retrieve measures it again (ProbeLink): a laptop
// taken from the hospital's network home has another link.
const linkProbeEvery = time.Hour

// minSample is the smallest retrieve whose rate counts: below it the round
// trip and TCP's slow start, not the link, set the time.
const minSample = 1 << 20

// minProbe is the smallest instance a probe measures the link with.
const minProbe = 128 << 10

// ewmaWeight is the weight of a new sample in the moving averages.
const ewmaWeight = 0.3

// LinkEstimate is what the client knows of the link to one archive.
type LinkEstimate struct {
	// StoredMbps is the moving average of the throughput of retrieves asked
	// as stored (what the link carries, with no transcoding in the way);
	// zero: not measured.
	StoredMbps float64 `json:"stored_mbps,omitempty"`
	// TranscodedMbps is the same for retrieves asked in a compressed syntax:
	// bytes on the wire, which an archive that transcodes slower than the
	// link sends below the link's rate.
	TranscodedMbps float64 `json:"transcoded_mbps,omitempty"`
	// UncompressedMbps is what the compressed retrieves achieved counted in
	// the bytes their instances hold uncompressed, request to last byte:
	// the rate to set beside StoredMbps. An archive that transcodes slowly
	// (a loaded one) brings a study sooner as stored even over a link below
	// the threshold.
	UncompressedMbps float64 `json:"uncompressed_mbps,omitempty"`
	// RTTMillis is the moving average of the time to the first byte of a
	// search (QIDO-RS): the round trip plus the archive's query.
	RTTMillis float64 `json:"rtt_ms,omitempty"`
	// RequestMillis is the moving average of the time from sending a
	// retrieve (WADO-RS) to its answer: what each request costs before a
	// byte of it arrives (the round trip plus the archive's start, a
	// transcode included), which one request for many instances pays once.
	RequestMillis float64 `json:"request_ms,omitempty"`
	// SingleMillis is the moving average of what an instance fetched on
	// its own costs beyond carrying its bytes: its request, the archive's
	// answer, and the commit the puller waits for before the next request.
	// Measured as single instances are fetched (a partly cached series),
	// so that the puller can change its mind within a series.
	SingleMillis float64 `json:"single_ms,omitempty"`
	// StoredAt is when StoredMbps was last measured; At when anything was.
	StoredAt time.Time `json:"stored_at,omitzero"`
	At       time.Time `json:"at,omitzero"`
}

// Mbps returns the best known throughput: the stored bytes' when measured,
// else the transcoded ones' (a floor of what the link carries); zero when
// nothing was measured.
func (e LinkEstimate) Mbps() float64 {
	return max(e.StoredMbps, e.TranscodedMbps)
}

// String describes the estimate for people ("187 Mbit/s, round trip 3 ms").
func (e LinkEstimate) String() string {
	s := "throughput not measured yet"
	if m := e.Mbps(); m > 0 {
		s = fmt.Sprintf("%.0f Mbit/s", m)
	}
	if e.UncompressedMbps > 0 {
		s += fmt.Sprintf(", compressed retrieves %.0f Mbit/s of pixels", e.UncompressedMbps)
	}
	if e.RTTMillis > 0 {
		s += fmt.Sprintf(", round trip %.1f ms", e.RTTMillis)
	}
	return s
}

// perRequest is what one more request for a single instance costs beyond
// its bytes: what fetching single instances was measured to cost, else the
// retrieves' time to answer, else the searches' round trip (the last two
// leave out the commit, so they err toward single requests).
func (e LinkEstimate) perRequest() time.Duration {
	ms := max(e.SingleMillis, e.RequestMillis)
	if ms <= 0 {
		ms = e.RTTMillis
	}
	return time.Duration(ms * float64(time.Millisecond))
}

// SeriesRequestPays is the rule for a partly cached series: its missing
// instances come in one series request, whose parts already cached are
// dropped as they stream, rather than one request each, when the requests
// that saves cost more time than the cached bytes it brings again take on
// the link:
//
//	(missing - 1) x perRequest  >  cached x instanceBytes / throughput
//
// One request per instance pays the round trip, the archive's start and a
// commit for every instance, with the link idle in between; a series
// request pays them once, then carries the cached instances too. Over a
// home line of 50 Mbit/s with a 40 ms round trip, a series request pays
// once more than a third of a CT series in JPEG-LS (0.15 MB a slice) is
// missing, two thirds of one sent uncompressed (0.5 MB); over a LAN of 1
// Gbit/s and 1 ms, four fifths. Before a single instance was fetched the
// cost of one is the request's alone (perRequest), which errs toward one
// request per instance, the cheaper in bytes; so does nothing measured (no
// round trip, no throughput, no size).
func (e LinkEstimate) SeriesRequestPays(missing, cached int, instanceBytes int64) bool {
	rt, mbps := e.perRequest(), e.Mbps()
	if missing < 2 || rt <= 0 || mbps <= 0 || instanceBytes <= 0 {
		return false
	}
	saved := float64(missing-1) * rt.Seconds()
	again := float64(cached) * float64(instanceBytes) * 8 / (mbps * 1e6)
	return saved > again
}

// LinkChoice is what the policy decided for the next retrieve.
type LinkChoice int

const (
	// LinkConfigured: the transfer syntaxes are configured; the link does
	// not change them.
	LinkConfigured LinkChoice = iota
	// LinkFast: loopback, or a measured link at or above the threshold: the
	// stored bytes.
	LinkFast
	// LinkSlow: a measured link below the threshold: the compressed list.
	LinkSlow
	// LinkUnknown: nothing measured yet: the compressed list, the safe
	// choice on a slow link and a bounded cost on a fast one.
	LinkUnknown
)

func (c LinkChoice) String() string {
	switch c {
	case LinkFast:
		return "fast link: stored bytes"
	case LinkSlow:
		return "slow link: compressed"
	case LinkUnknown:
		return "link not measured yet: compressed"
	}
	return "configured syntaxes"
}

// ChooseLink is the policy: configured syntaxes win; a loopback archive, a
// link measured at or above fastMbps, or one whose stored bytes came at
// least as fast as the compressed retrieves brought the same pixels
// (UncompressedMbps), gets asked for the stored bytes; anything else for the
// compressed default. A stored-bytes measurement decides when there is one;
// a transcoded one alone can only say the link is fast (the archive may have
// sent slower than the link carries), never that it is slow.
func ChooseLink(configured, loopback bool, e LinkEstimate, fastMbps float64) LinkChoice {
	switch {
	case configured:
		return LinkConfigured
	case loopback:
		return LinkFast
	case e.StoredMbps > 0 && (e.StoredMbps >= fastMbps || e.UncompressedMbps > 0 && e.StoredMbps >= e.UncompressedMbps),
		e.TranscodedMbps > 0 && e.TranscodedMbps >= fastMbps:
		return LinkFast
	case e.StoredMbps > 0:
		return LinkSlow
	}
	return LinkUnknown
}

// LinkStatsPath is where the link estimates of a cache whose home is home
// are kept.
func LinkStatsPath(home string) string { return filepath.Join(home, "links.json") }

// LinkStats keeps the link estimates per archive in a small JSON file (in the
// cache's home), so that the next sync starts from what the last one
// measured. An estimate is no patient data and costs nothing to lose: a
// damaged file starts afresh. A nil *LinkStats keeps nothing.
type LinkStats struct {
	path string
	mu   gosync.Mutex
	m    map[string]LinkEstimate
}

// maxLinks bounds the table: a few archives at most in practice.
const maxLinks = 64

// OpenLinkStats reads the table at path (none yet is an empty table).
func OpenLinkStats(path string) (*LinkStats, error) {
	t := &LinkStats{path: path, m: map[string]LinkEstimate{}}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return t, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sync: link estimates: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxLinks<<10))
	if err != nil {
		return nil, fmt.Errorf("sync: link estimates %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &t.m); err != nil || len(t.m) > maxLinks {
		t.m = map[string]LinkEstimate{}
	}
	return t, nil
}

// Get returns the estimate of an archive (zero when none).
func (t *LinkStats) Get(archive string) LinkEstimate {
	if t == nil {
		return LinkEstimate{}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[archive]
}

// put records an archive's estimate and writes the table durably
// (writeFileDurable: a crash leaves the old table or the new one).
func (t *LinkStats) put(archive string, e LinkEstimate) error {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.m[archive] = e
	for len(t.m) > maxLinks {
		oldest := ""
		for k, v := range t.m {
			if oldest == "" || v.At.Before(t.m[oldest].At) {
				oldest = k
			}
		}
		delete(t.m, oldest)
	}
	b, err := json.MarshalIndent(t.m, "", "  ")
	if err != nil {
		return fmt.Errorf("sync: link estimates: %w", err)
	}
	if err := writeFileDurable(t.path, b); err != nil {
		return fmt.Errorf("sync: link estimates: %w", err)
	}
	return nil
}

// linkMeter is a Client's measure of its link; a pointer so that copies of
// the Client (Probe) share it.
type linkMeter struct {
	configured bool    // Config.TransferSyntaxes was given
	loopback   bool    // the archive is this machine
	fast       float64 // Config.LinkFastMbps or the default
	archive    string  // the key in stats
	stats      *LinkStats
	now        func() time.Time

	mu     gosync.Mutex
	est    LinkEstimate
	probed time.Time // this client's last probe, measured or not
}

func newLinkMeter(cfg Config, archive string, loopback bool) *linkMeter {
	m := &linkMeter{configured: cfg.TransferSyntaxes != nil, loopback: loopback, fast: cfg.LinkFastMbps,
		archive: archive, stats: cfg.LinkStats, now: time.Now}
	if m.fast <= 0 {
		m.fast = DefaultLinkFastMbps
	}
	m.est = m.stats.Get(archive)
	return m
}

func (m *linkMeter) estimate() LinkEstimate {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.est
}

func (m *linkMeter) choice() LinkChoice {
	e := m.estimate()
	if !e.StoredAt.IsZero() && m.now().Sub(e.StoredAt) > linkProbeEvery {
		// An old measure of the link says little about today's; until the
		// next probe, what the transcoded retrieves show still counts.
		e.StoredMbps = 0
	}
	return ChooseLink(m.configured, m.loopback, e, m.fast)
}

func ewma(old, sample float64) float64 {
	if old <= 0 {
		return sample
	}
	return old + ewmaWeight*(sample-old)
}

// throughput records a retrieve of n bytes whose body took d, asked as
// stored or transcoded. Small ones are not counted (see minSample) unless
// least is lower (a probe).
func (m *linkMeter) throughput(n int64, d time.Duration, stored bool, least int64) {
	if n < least || d <= 0 {
		return
	}
	mbps := float64(n) * 8 / d.Seconds() / 1e6
	if math.IsInf(mbps, 0) || math.IsNaN(mbps) {
		return
	}
	m.mu.Lock()
	stats := m.stats
	now := m.now().UTC()
	if stored {
		m.est.StoredMbps = ewma(m.est.StoredMbps, mbps)
		m.est.StoredAt = now
	} else {
		m.est.TranscodedMbps = ewma(m.est.TranscodedMbps, mbps)
	}
	m.est.At = now
	e := m.est
	m.mu.Unlock()
	_ = stats.put(m.archive, e) // an estimate not written is only measured again
}

// uncompressed records a compressed retrieve that brought n bytes of pixels
// (uncompressed) in d, request to last byte.
func (m *linkMeter) uncompressed(n int64, d time.Duration) {
	if n < minSample || d <= 0 {
		return
	}
	m.mu.Lock()
	m.est.UncompressedMbps = ewma(m.est.UncompressedMbps, float64(n)*8/d.Seconds()/1e6)
	m.est.At = m.now().UTC()
	e, stats := m.est, m.stats
	m.mu.Unlock()
	_ = stats.put(m.archive, e)
}

// roundTrip records the time to the first byte of a search.
func (m *linkMeter) roundTrip(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.est.RTTMillis = ewma(m.est.RTTMillis, float64(d)/float64(time.Millisecond))
	m.est.At = m.now().UTC()
}

// request records the time from sending a retrieve to its answer. Like the
// round trip, it is kept in memory and written with the next throughput.
func (m *linkMeter) request(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.est.RequestMillis = ewma(m.est.RequestMillis, float64(d)/float64(time.Millisecond))
	m.est.At = m.now().UTC()
}

// single records an instance of n bytes fetched on its own in d, request to
// commit: what it cost beyond its bytes at the throughput known, kept in
// memory like the round trip.
func (m *linkMeter) single(n int64, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	over := d
	if mbps := m.est.Mbps(); mbps > 0 {
		over -= time.Duration(float64(n) * 8 / (mbps * 1e6) * float64(time.Second))
	}
	m.est.SingleMillis = ewma(m.est.SingleMillis, max(0, float64(over)/float64(time.Millisecond)))
	m.est.At = m.now().UTC()
}

// UseLinkStats makes the client start from the estimate t holds for its
// archive (unless it measured something itself already) and keep its
// measures there.
func (c *Client) UseLinkStats(t *LinkStats) {
	m := c.link
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stats = t
	if m.est.At.IsZero() {
		m.est = t.Get(m.archive)
	}
}

// LinkEstimate returns what the client has measured of the link to its
// archive (with what an earlier sync measured, when the Client was given
// LinkStats).
func (c *Client) LinkEstimate() LinkEstimate { return c.link.estimate() }

// LinkChoice returns what the policy decides for the next retrieve.
func (c *Client) LinkChoice() LinkChoice { return c.link.choice() }

// NeedsLinkProbe reports whether the next study's retrieve should first
// measure the link (ProbeLink): the syntaxes follow the link, the archive is
// not this machine, no measure of the stored bytes is recent, and this client
// has not tried within linkProbeEvery.
func (c *Client) NeedsLinkProbe() bool {
	m := c.link
	if m.configured || m.loopback {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if !m.probed.IsZero() && now.Sub(m.probed) < linkProbeEvery {
		return false
	}
	return m.est.StoredAt.IsZero() || now.Sub(m.est.StoredAt) > linkProbeEvery
}

// ProbeLink measures the link to the archive with one instance of a study
// retrieved as stored, whose bytes are discarded: the transcoded retrieves
// alone cannot tell a slow link from an archive that transcodes slowly. It
// costs one search and one instance (a CT slice: half a megabyte) once per
// linkProbeEvery; a study without an instance of at least 128 KiB measures
// nothing. Its errors leave the estimate as it was.
func (c *Client) ProbeLink(ctx context.Context, studyUID string) error {
	c.link.mu.Lock()
	c.link.probed = c.link.now()
	c.link.mu.Unlock()
	if err := checkUIDs(studyUID); err != nil {
		return err
	}
	objs, err := c.search(ctx, "/studies/"+studyUID+"/instances",
		Query{Limit: 1, IncludeFields: []string{"SeriesInstanceUID", "SOPInstanceUID"}})
	if err != nil {
		return fmt.Errorf("sync: probe the link: %w", err)
	}
	if len(objs) == 0 || checkUIDs(objs[0].SeriesUID(), objs[0].SOPInstanceUID()) != nil {
		return fmt.Errorf("sync: probe the link: study %s: %w: no instance listed", studyUID, ErrBadResponse)
	}
	path := "/studies/" + studyUID + "/series/" + objs[0].SeriesUID() + "/instances/" + objs[0].SOPInstanceUID()
	var (
		n     int64
		first time.Time
	)
	_, err = c.retrieveAs(ctx, path, []string{SyntaxAsStored}, func(part io.Reader) error {
		buf := make([]byte, 64<<10)
		for {
			k, err := part.Read(buf)
			if k > 0 && first.IsZero() {
				first = time.Now()
			}
			n += int64(k)
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
		}
	})
	if err != nil {
		return fmt.Errorf("sync: probe the link: %w", err)
	}
	if !first.IsZero() {
		c.link.throughput(n, time.Since(first), true, minProbe)
	}
	return nil
}

// LinkSummary describes the link to the archive in a few words for a status
// line: the throughput, the round trip, and what the next retrieve asks for
// first ("48 Mbit/s, round trip 31 ms, JPEG-LS lossless"; "link not measured
// yet, stored bytes").
func (c *Client) LinkSummary() string {
	e := c.LinkEstimate()
	s := "link not measured yet"
	if m := e.Mbps(); m > 0 {
		s = fmt.Sprintf("%.0f Mbit/s", m)
	}
	if e.RTTMillis >= 10 {
		s += fmt.Sprintf(", round trip %.0f ms", e.RTTMillis)
	} else if e.RTTMillis > 0 {
		s += fmt.Sprintf(", round trip %.1f ms", e.RTTMillis)
	}
	return s + ", " + syntaxName(c.TransferSyntaxes()[0])
}

// syntaxName names a transfer syntax a retrieve asks for, for people.
func syntaxName(ts string) string {
	switch ts {
	case SyntaxAsStored:
		return "stored bytes"
	case SyntaxJPEGLSLossless:
		return "JPEG-LS lossless"
	case SyntaxJPEGLosslessSV1:
		return "JPEG lossless"
	case SyntaxHTJ2KLossless:
		return "HTJ2K lossless"
	}
	return ts
}
