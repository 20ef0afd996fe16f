package sync

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Query is a QIDO-RS search (PS3.18 §10.6): attribute matches, the fields to
// return, and a page.
//
// Values are sent raw except for the few bytes that would break the URL
// (space, control and non-ASCII bytes, '"#%&+<>\`{|}'), because archives
// such as Orthanc do not percent-decode query values: wildcards ('*', '?'),
// PN separators ('^'), UID lists (','), and date ranges ('-') keep their
// meaning only when sent as they are.
type Query struct {
	// Match holds attribute matches in the order they are sent. A key is a
	// keyword ("PatientID") or a tag ("00100020").
	Match []Param
	// IncludeFields names attributes to return besides the defaults (list
	// them: some archives ignore "all").
	IncludeFields []string
	// Limit and Offset select a page; zero Limit means the archive's default.
	Limit, Offset int
	// Fuzzy asks for fuzzy person-name matching (archives may ignore it).
	Fuzzy bool
}

// Param is one key=value match.
type Param struct{ Key, Value string }

// With returns a copy of q with one more match.
func (q Query) With(key, value string) Query {
	q.Match = append(append([]Param(nil), q.Match...), Param{key, value})
	return q
}

// Encode returns the raw query string.
func (q Query) Encode() (string, error) {
	var parts []string
	for _, p := range q.Match {
		if !validKey(p.Key) {
			return "", fmt.Errorf("sync: query key %q: not a keyword or tag", p.Key)
		}
		parts = append(parts, p.Key+"="+escapeQueryValue(p.Value))
	}
	for _, f := range q.IncludeFields {
		if !validKey(f) {
			return "", fmt.Errorf("sync: includefield %q: not a keyword or tag", f)
		}
		parts = append(parts, "includefield="+f)
	}
	if q.Fuzzy {
		parts = append(parts, "fuzzymatching=true")
	}
	if q.Limit > 0 {
		parts = append(parts, "limit="+strconv.Itoa(q.Limit))
	}
	if q.Offset > 0 {
		parts = append(parts, "offset="+strconv.Itoa(q.Offset))
	}
	return strings.Join(parts, "&"), nil
}

// validKey accepts a keyword, a tag, or a dotted sequence path of them
// ("ReferencedSeriesSequence.SeriesInstanceUID").
func validKey(k string) bool {
	if k == "" || len(k) > 200 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '.') {
			return false
		}
	}
	return true
}

func escapeQueryValue(v string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"#%&+<>\\`{|}", c) >= 0 {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// SearchStudies runs a study-level QIDO-RS search (one page).
func (c *Client) SearchStudies(ctx context.Context, q Query) ([]Object, error) {
	return c.search(ctx, "/studies", q)
}

// SearchSeries runs a series-level search, within a study when studyUID is
// not empty.
func (c *Client) SearchSeries(ctx context.Context, studyUID string, q Query) ([]Object, error) {
	path := "/series"
	if studyUID != "" {
		if err := checkUIDs(studyUID); err != nil {
			return nil, err
		}
		path = "/studies/" + studyUID + "/series"
	}
	return c.search(ctx, path, q)
}

// SearchInstances runs an instance-level search, within a study (and
// series) when their UIDs are not empty.
func (c *Client) SearchInstances(ctx context.Context, studyUID, seriesUID string, q Query) ([]Object, error) {
	path := "/instances"
	switch {
	case studyUID != "" && seriesUID != "":
		if err := checkUIDs(studyUID, seriesUID); err != nil {
			return nil, err
		}
		path = "/studies/" + studyUID + "/series/" + seriesUID + "/instances"
	case studyUID != "":
		if err := checkUIDs(studyUID); err != nil {
			return nil, err
		}
		path = "/studies/" + studyUID + "/instances"
	case seriesUID != "":
		return nil, fmt.Errorf("sync: search instances: series %s without its study", seriesUID)
	}
	return c.search(ctx, path, q)
}

// SearchAll pages through a search at level "studies", "series" or
// "instances" (below the base URL, e.g. "/studies/1.2.3/series"), pageSize
// results at a time, calling fn for each result. It stops at the first
// short page that the archive does not mark as truncated (an archive whose
// own page maximum is below pageSize says so in a Warning header, and the
// next page is asked for), and detects an archive that ignores offset.
// More than Config.MaxResults results in all is ErrTooManyResults, naming
// the request and the limit: a partial worklist is never taken for the
// whole.
func (c *Client) SearchAll(ctx context.Context, path string, q Query, pageSize int, fn func(Object) error) error {
	if pageSize <= 0 {
		pageSize = 100
	}
	q.Limit, q.Offset = pageSize, 0
	var firstOfLast string
	total := 0
	for {
		page, more, err := c.searchPage(ctx, path, q)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			if more {
				return fmt.Errorf("sync: GET %s%s: %w: the archive says results are left out but sent none at offset %d", c.base.Path, path, ErrBadResponse, q.Offset)
			}
			return nil
		}
		if key := objectKey(page[0]); q.Offset > 0 && key != "" && key == firstOfLast {
			return fmt.Errorf("sync: GET %s%s: %w: the archive ignores offset", c.base.Path, path, ErrBadResponse)
		}
		firstOfLast = objectKey(page[0])
		for _, o := range page {
			if total == c.cfg.MaxResults {
				return fmt.Errorf("sync: GET %s%s: %w: more than %d results (max_results); narrow the query or raise max_results", c.base.Path, path, ErrTooManyResults, total)
			}
			total++
			if err := fn(o); err != nil {
				return err
			}
		}
		if len(page) < pageSize && !more {
			return nil
		}
		q.Offset += len(page)
	}
}

func objectKey(o Object) string {
	return o.StudyUID() + "/" + o.SeriesUID() + "/" + o.SOPInstanceUID()
}

// FindInstance looks an instance up by SOP Instance UID (QIDO-RS at
// instance level), returning it with its study and series UIDs, or nil
// when the archive does not have it.
func (c *Client) FindInstance(ctx context.Context, sopUID string) (Object, error) {
	if err := checkUIDs(sopUID); err != nil {
		return nil, err
	}
	q := Query{
		Match:         []Param{{"SOPInstanceUID", sopUID}},
		IncludeFields: []string{"StudyInstanceUID", "SeriesInstanceUID", "SOPClassUID"},
		Limit:         2,
	}
	res, err := c.search(ctx, "/instances", q)
	if err != nil {
		return nil, err
	}
	for _, o := range res {
		if o.SOPInstanceUID() == sopUID {
			return o, nil
		}
	}
	return nil, nil
}

// Probe checks cheaply, without retries, that the archive answers a search.
func (c *Client) Probe(ctx context.Context) error {
	probe := *c // shares the transport and the concurrency slots
	probe.cfg.MaxRetries = 0
	_, err := probe.search(ctx, "/studies", Query{Limit: 1, IncludeFields: []string{"StudyInstanceUID"}})
	return err
}

func (c *Client) search(ctx context.Context, path string, q Query) ([]Object, error) {
	objs, more, err := c.searchPage(ctx, path, q)
	if err == nil && more && q.Limit == 0 {
		// No page was asked for, so the caller takes the answer for the
		// whole, and the archive said it left results out.
		return nil, fmt.Errorf("sync: GET %s%s: %w: the archive answered %d and says more are left out; page the search (SearchAll)", c.base.Path, path, ErrTooManyResults, len(objs))
	}
	return objs, err
}

// searchPage runs one search. more is true when the archive said, in a
// Warning header, that it left results out (PS3.18 §8.3.4.5: its own
// maximum was exceeded and "Additional results can be requested"): that
// page may be short without being the last.
func (c *Client) searchPage(ctx context.Context, path string, q Query) (objs []Object, more bool, err error) {
	raw, err := q.Encode()
	if err != nil {
		return nil, false, err
	}
	r := request{method: http.MethodGet, path: path, query: raw, accept: "application/dicom+json, application/json"}
	start := time.Now()
	resp, err := c.send(ctx, r)
	if err != nil {
		return nil, false, err
	}
	defer resp.Body.Close()
	c.link.roundTrip(time.Since(start))
	more = resultsLeftOut(resp.Header.Values("Warning"))
	if resp.StatusCode == http.StatusNoContent {
		return nil, more, nil
	}
	if err := checkJSONType(resp.Header.Get("Content-Type")); err != nil {
		return nil, false, fmt.Errorf("sync: %s: %w", resp.name, err)
	}
	objs, err = decodeObjects(resp.Body, c.cfg.MaxJSONBytes, c.cfg.MaxResults)
	if err != nil {
		return nil, false, c.jsonError(ctx, resp.name, err)
	}
	return objs, more, nil
}

// resultsLeftOut reports whether a Warning header says that the archive
// truncated the answer at its own maximum. PS3.18 gives the text ("The
// number of results exceeded the maximum supported by the server.
// Additional results can be requested.") with code 299; archives vary the
// wording, so any 299 warning speaking of results that exceed or of
// additional results counts.
func resultsLeftOut(warnings []string) bool {
	for _, w := range warnings {
		w = strings.ToLower(strings.TrimSpace(w))
		if !strings.HasPrefix(w, "299") {
			continue
		}
		if strings.Contains(w, "additional results") || strings.Contains(w, "exceeded the maximum") ||
			strings.Contains(w, "more results") {
			return true
		}
	}
	return false
}

func checkJSONType(ct string) error {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/dicom+json" && mt != "application/json") {
		return fmt.Errorf("%w: content type %.80q, want application/dicom+json", ErrBadResponse, ct)
	}
	return nil
}

// checkUIDs refuses anything but DICOM UIDs before they become URL paths.
func checkUIDs(uids ...string) error {
	for _, u := range uids {
		if !ValidUID(u) {
			return fmt.Errorf("sync: %w: %.80q", ErrInvalidUID, u)
		}
	}
	return nil
}

// ValidUID reports whether u is a DICOM UID (PS3.5 9.1: digits in components
// separated by single dots, at most 64 characters): what an archive answers
// goes into request paths only when it is one.
func ValidUID(u string) bool {
	if u == "" || len(u) > 64 || u[0] == '.' || u[len(u)-1] == '.' {
		return false
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		if c == '.' {
			if u[i-1] == '.' {
				return false
			}
			continue
		}
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
