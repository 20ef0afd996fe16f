package sync

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	gosync "sync"
	"time"
)

// retrieveBuffer is the read buffer of a WADO-RS answer.
const retrieveBuffer = 1 << 20

// PartFunc receives one instance of a WADO-RS retrieve as a stream. It must
// read the part to its end before committing it anywhere: a read error
// (the answer broke off) means the part is incomplete. Returning an error
// stops the retrieve.
type PartFunc func(part io.Reader) error

// RetrieveStudy streams every instance of a study, in the most preferred
// transfer syntax the archive produces (Config.TransferSyntaxes), to fn, one part at a time. It returns how many parts were
// handed to fn. An answer that ends before its closing boundary is an
// ErrTruncated error even when its status was 200.
func (c *Client) RetrieveStudy(ctx context.Context, studyUID string, fn PartFunc) (int, error) {
	if err := checkUIDs(studyUID); err != nil {
		return 0, err
	}
	return c.retrieve(ctx, "/studies/"+studyUID, fn)
}

// RetrieveSeries streams every instance of a series to fn (see RetrieveStudy).
func (c *Client) RetrieveSeries(ctx context.Context, studyUID, seriesUID string, fn PartFunc) (int, error) {
	if err := checkUIDs(studyUID, seriesUID); err != nil {
		return 0, err
	}
	return c.retrieve(ctx, "/studies/"+studyUID+"/series/"+seriesUID, fn)
}

// RetrieveInstance streams one instance to fn (see RetrieveStudy).
func (c *Client) RetrieveInstance(ctx context.Context, studyUID, seriesUID, sopUID string, fn PartFunc) error {
	if err := checkUIDs(studyUID, seriesUID, sopUID); err != nil {
		return err
	}
	path := "/studies/" + studyUID + "/series/" + seriesUID + "/instances/" + sopUID
	n, err := c.retrieve(ctx, path, fn)
	if err == nil && n != 1 {
		err = fmt.Errorf("sync: GET %s%s: %w: %d parts for one instance", c.base.Path, path, ErrBadResponse, n)
	}
	return err
}

// retrieve runs a WADO-RS retrieve, offering the transfer syntaxes the
// archive has not refused. A refusal before the first part drops the most
// preferred syntax for good and asks again; an archive that cannot produce
// the syntax for these instances gets the request again as stored ("*",
// when listed), without remembering it.
func (c *Client) retrieve(ctx context.Context, path string, fn PartFunc) (int, error) {
	for {
		from, list := c.syntaxes()
		var redo []instanceRef
		var mu gosync.Mutex
		var pixelBytes int64 // what the instances hold decoded
		wrapped := fn
		if list[0] != SyntaxAsStored {
			wrapped = func(part io.Reader) error {
				br := bufio.NewReaderSize(part, headScan)
				head, _ := br.Peek(headScan)
				if ref, ok := transcodedFromLossy(head); ok {
					mu.Lock()
					redo = append(redo, ref)
					mu.Unlock()
					return nil
				}
				mu.Lock()
				pixelBytes += pixelSize(head)
				mu.Unlock()
				return fn(br)
			}
		}
		start := time.Now()
		n, err := c.retrieveAs(ctx, path, list, wrapped)
		if err == nil && list[0] != SyntaxAsStored {
			// What the compressed syntax achieved, counted in the bytes the
			// instances hold uncompressed: to set beside the stored bytes'
			// rate (ChooseLink).
			mu.Lock()
			c.link.uncompressed(pixelBytes, time.Since(start))
			mu.Unlock()
		}
		if err == nil && len(redo) > 0 {
			study := strings.TrimPrefix(path, "/studies/")
			study, _, _ = strings.Cut(study, "/")
			c.log.Info("instances stored lossy came transcoded; fetching them as stored", "request", c.base.Path+path, "instances", len(redo))
			for _, ref := range redo {
				p := "/studies/" + study + "/series/" + ref.series + "/instances/" + ref.sop
				if _, err := c.retrieveAs(ctx, p, []string{SyntaxAsStored}, fn); err != nil {
					return n, err
				}
			}
		}
		if err == nil || n > 0 || ctx.Err() != nil || len(list) == 1 {
			return n, err
		}
		refused, cannotProduce := refusal(err)
		switch {
		case refused:
			c.dropSyntax(from)
		case cannotProduce && list[0] != SyntaxAsStored && containsString(list, SyntaxAsStored):
			c.log.Info("archive cannot transcode; asking for the stored bytes", "request", c.base.Path+path, "error", err)
			return c.retrieveAs(ctx, path, []string{SyntaxAsStored}, fn)
		default:
			return n, err
		}
	}
}

func containsString(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

// retrieveAs runs a retrieve offering list. An answer that fails before
// its first part reached fn is retried like any transient failure; after
// that the caller decides (it knows which instances it already has).
func (c *Client) retrieveAs(ctx context.Context, path string, list []string, fn PartFunc) (int, error) {
	r := request{
		method:       http.MethodGet,
		path:         path,
		accept:       acceptFor(list),
		offersSyntax: len(list) > 1 || list[0] != SyntaxAsStored,
		// Compressing DICOM costs both ends CPU for little gain.
		header: http.Header{"Accept-Encoding": {"identity"}},
	}
	for attempt := 0; ; attempt++ {
		n, err := c.retrieveOnce(ctx, r, fn)
		if err == nil || n > 0 || attempt >= c.cfg.MaxRetries || ctx.Err() != nil ||
			!(errors.Is(err, ErrTruncated) || errors.Is(err, ErrStalled)) {
			return n, err
		}
		d := c.backoff(attempt, 0)
		c.log.Info("retrying", "request", r.name(c), "attempt", attempt+1, "after", d, "error", err)
		if serr := sleepCtx(ctx, d); serr != nil {
			return 0, err
		}
	}
}

func (c *Client) retrieveOnce(ctx context.Context, r request, fn PartFunc) (int, error) {
	start := time.Now()
	resp, err := c.send(ctx, r)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	c.link.request(time.Since(start))
	meter := &meterReader{r: resp.Body}
	defer func() { c.link.throughput(meter.n, meter.last.Sub(meter.first), !r.offersSyntax, minSample) }()
	ct := resp.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "multipart/related" || params["boundary"] == "" {
		return 0, fmt.Errorf("sync: %s: %w: content type %.80q, want multipart/related", resp.name, ErrBadResponse, ct)
	}
	if t := params["type"]; t != "" && !strings.EqualFold(t, "application/dicom") {
		return 0, fmt.Errorf("sync: %s: %w: multipart of %.40q, want application/dicom", resp.name, ErrBadResponse, t)
	}
	watch := newCloseWatcher(meter, params["boundary"])
	// mime/multipart reads through a 4 KiB buffer unless handed a bigger
	// bufio.Reader: with 1 MiB, each boundary scan covers several parts'
	// worth of bytes and the socket is read in large pieces.
	mr := multipart.NewReader(bufio.NewReaderSize(watch, retrieveBuffer), params["boundary"])
	n := 0
	for {
		part, err := mr.NextRawPart()
		// mime/multipart ends with a bare io.EOF both at the closing
		// boundary and when the body stops right after a delimiter line or
		// inside a part's headers; and it wraps other premature ends as
		// "NextPart: EOF", which errors.Is takes for io.EOF too. Only the
		// closing delimiter, seen in the stream, ends a retrieve well.
		if err == io.EOF {
			if !watch.closed {
				return n, fmt.Errorf("sync: %s: after %d parts: %w", resp.name, n, ErrTruncated)
			}
			return n, nil
		}
		if err != nil {
			return n, c.bodyError(ctx, resp.name, n, err)
		}
		if pt := part.Header.Get("Content-Type"); pt != "" {
			if pmt, _, perr := mime.ParseMediaType(pt); perr != nil || pmt != "application/dicom" {
				return n, fmt.Errorf("sync: %s: part %d: %w: content type %.80q, want application/dicom", resp.name, n+1, ErrBadResponse, pt)
			}
		}
		want := int64(-1)
		if cl := part.Header.Get("Content-Length"); cl != "" {
			v, perr := strconv.ParseInt(strings.TrimSpace(cl), 10, 64)
			if perr != nil || v < 0 {
				return n, fmt.Errorf("sync: %s: part %d: %w: Content-Length %.30q", resp.name, n+1, ErrBadResponse, cl)
			}
			want = v
		}
		pr := &partReader{r: part, want: want, max: c.cfg.MaxPartBytes, location: part.Header.Get("Content-Location")}
		ferr := fn(pr)
		if pr.err == nil && ferr == nil {
			// Make sure the part was whole even if fn stopped early.
			_, _ = io.Copy(io.Discard, pr)
		}
		if pr.err != nil {
			return n, c.bodyError(ctx, resp.name, n, pr.err)
		}
		if ferr != nil {
			return n, fmt.Errorf("sync: %s: part %d: %w", resp.name, n+1, ferr)
		}
		n++
	}
}

// bodyError classifies a failure while reading a body; n is the number of
// parts already delivered, or -1 for a body that is not multipart.
func (c *Client) bodyError(ctx context.Context, name string, n int, err error) error {
	where := name
	if n >= 0 {
		where = fmt.Sprintf("%s: after %d parts", name, n)
	}
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("sync: %s: %w", where, context.Cause(ctx))
	case errors.Is(err, ErrStalled), errors.Is(err, ErrBadResponse), errors.Is(err, ErrTruncated):
		return fmt.Errorf("sync: %s: %w", where, err)
	}
	var ne interface{ Timeout() bool }
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ne) ||
		strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe") {
		return fmt.Errorf("sync: %s: %w: %w", where, ErrTruncated, err)
	}
	// Anything else is a multipart that does not parse.
	return fmt.Errorf("sync: %s: %w: %w", where, ErrBadResponse, err)
}

// closeWatcher passes a multipart body through and notes whether its close
// delimiter ("--boundary--" at the start of a line) went by. A boundary
// never occurs inside a part, so seeing it proves the body was whole.
type closeWatcher struct {
	r      io.Reader
	delim  []byte // "\n--boundary--"
	tail   []byte // the last len(delim)-1 bytes seen, to find a delimiter split across reads
	closed bool
}

func newCloseWatcher(r io.Reader, boundary string) *closeWatcher {
	// The body's start counts as a line start.
	return &closeWatcher{r: r, delim: []byte("\n--" + boundary + "--"), tail: []byte("\n")}
}

func (w *closeWatcher) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if n > 0 && !w.closed {
		k := len(w.delim) - 1
		// Look across the seam between the previous read and this one.
		seam := append(w.tail, p[:min(n, k)]...)
		if bytes.Contains(seam, w.delim) || bytes.Contains(p[:n], w.delim) {
			w.closed = true
		}
		if n >= k {
			w.tail = append(w.tail[:0], p[n-k:n]...)
		} else {
			w.tail = seam[max(0, len(seam)-k):]
		}
	}
	return n, err
}

// partReader counts a part's bytes, checks them against its Content-Length,
// and remembers the first read error. It keeps the part's first bytes, so
// that a part it cuts off can say which instance it was.
type partReader struct {
	r        io.Reader
	want     int64  // -1 when the part had no Content-Length
	max      int64  // the ceiling of a part, announced or not
	location string // the part's Content-Location header
	got      int64
	err      error
	head     []byte // the first partHead bytes
}

// partHead is how much of a part's start is kept: the meta header and the
// first elements of a data set, where the SOP Instance UID is, take a few
// hundred bytes in the files archives send, 4 KiB leaves room for long
// private meta elements.
const partHead = 4 << 10

func (p *partReader) Read(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	n, err := p.r.Read(b)
	if k := min(n, partHead-len(p.head)); k > 0 {
		if p.head == nil {
			p.head = make([]byte, 0, partHead)
		}
		p.head = append(p.head, b[:k]...)
	}
	p.got += int64(n)
	if p.want >= 0 && p.got > p.want {
		p.err = p.cutOff(fmt.Errorf("%w: part longer than its Content-Length %d: %w", ErrBadResponse, p.want, ErrCutOff))
		return n, p.err
	}
	if p.max > 0 && p.got > p.max {
		p.err = p.cutOff(fmt.Errorf("%w: part longer than %d bytes (max_part_mb): %w", ErrBadResponse, p.max, ErrCutOff))
		return n, p.err
	}
	if err == io.EOF && p.want >= 0 && p.got < p.want {
		p.err = fmt.Errorf("%w: part has %d of its %d bytes", ErrTruncated, p.got, p.want)
		return n, p.err
	}
	if err != nil && err != io.EOF {
		p.err = err
	}
	return n, err
}

// cutOff names the instance of a part being cut off: by the SOP Instance
// UID in its own first bytes, else by the last path segment of a
// Content-Location ending in /instances/{uid}.
func (p *partReader) cutOff(err error) error {
	sop := headSOPInstanceUID(p.head)
	if sop == "" {
		if i := strings.LastIndex(p.location, "/instances/"); i >= 0 {
			sop = strings.TrimRight(p.location[i+len("/instances/"):], "/")
			if j := strings.IndexAny(sop, "/?#"); j >= 0 {
				sop = sop[:j]
			}
		}
	}
	if !ValidUID(sop) {
		sop = ""
	}
	return &CutOffError{SOPInstanceUID: sop, Err: err}
}

// Metadata returns the metadata of every instance of a study (WADO-RS
// .../metadata), or of one series when seriesUID is not empty. Bulk data
// are referenced by BulkDataURI, not included.
func (c *Client) Metadata(ctx context.Context, studyUID, seriesUID string) ([]Object, error) {
	if err := checkUIDs(studyUID); err != nil {
		return nil, err
	}
	path := "/studies/" + studyUID
	if seriesUID != "" {
		if err := checkUIDs(seriesUID); err != nil {
			return nil, err
		}
		path += "/series/" + seriesUID
	}
	r := request{method: http.MethodGet, path: path + "/metadata", accept: "application/dicom+json, application/json"}
	resp, err := c.send(ctx, r)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if err := checkJSONType(resp.Header.Get("Content-Type")); err != nil {
		return nil, fmt.Errorf("sync: %s: %w", resp.name, err)
	}
	objs, err := decodeObjects(resp.Body, c.cfg.MaxJSONBytes, 0)
	if err != nil {
		return nil, c.jsonError(ctx, resp.name, err)
	}
	return objs, nil
}

// jsonError names the request of a failed JSON answer: malformed, or broken
// off while it was read.
func (c *Client) jsonError(ctx context.Context, name string, err error) error {
	if errors.Is(err, ErrBadResponse) {
		return fmt.Errorf("sync: %s: %w", name, err)
	}
	return c.bodyError(ctx, name, -1, err)
}

// meterReader counts a retrieve's bytes and notes when the first and the
// last arrived: the link's throughput, without the archive's time to start
// answering.
type meterReader struct {
	r           io.Reader
	n           int64
	first, last time.Time
}

func (m *meterReader) Read(p []byte) (int, error) {
	k, err := m.r.Read(p)
	if k > 0 {
		now := time.Now()
		if m.n == 0 {
			m.first = now
		}
		m.last = now
		m.n += int64(k)
	}
	return k, err
}
