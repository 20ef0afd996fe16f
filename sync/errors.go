package sync

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
)

// Sentinel errors callers branch on with errors.Is. Errors returned by the
// client wrap one of them (or an *HTTPError) together with the request that
// failed, e.g. `sync: GET /dicom-web/studies/1.2.3: archive unreachable: dial tcp ...`.
var (
	// ErrOffline reports that the archive could not be reached (connection
	// refused, DNS failure, time-out before any answer) after the retries.
	ErrOffline = errors.New("archive unreachable")
	// ErrTooManyResults reports a search that reached Config.MaxResults.
	ErrTooManyResults = errors.New("too many results")
	// ErrTruncated reports a multipart response that ended (or broke off)
	// before its closing boundary, or a part shorter than its Content-Length,
	// whatever the HTTP status said.
	ErrTruncated = errors.New("response truncated before the closing boundary")
	// ErrBadResponse reports an answer that is not what was asked for: wrong
	// content type (an HTML error page), malformed JSON or multipart.
	ErrBadResponse = errors.New("malformed response")
	// ErrInvalidUID reports a UID that is not a DICOM UID (digits and dots,
	// at most 64 characters); it is refused before it reaches a URL.
	ErrInvalidUID = errors.New("invalid DICOM UID")
	// ErrCutOff reports a retrieved part longer than its Content-Length or
	// than Config.MaxPartBytes: it was cut off there (it also wraps
	// ErrBadResponse). The puller remembers it (CutOffs).
	ErrCutOff = errors.New("cut off")
	// ErrStalled reports a response that sent no byte for Config.StallTimeout.
	ErrStalled = errors.New("response stalled")
	// ErrInsecureCredentials reports credentials that would travel over plain
	// http to a host other than this machine (see
	// Config.AllowInsecureHTTPDANGEROUS).
	ErrInsecureCredentials = errors.New("credentials would be sent in clear over plain http to a non-loopback host (use https)")
	// ErrSignInRequired reports that the archive's sign-in session has ended
	// (never signed in, signed out, or the provider refused to renew it):
	// only the user can sign in again, so requests are not retried.
	ErrSignInRequired = errors.New("sign in again")
	// ErrNotFound reports a study the archive does not list.
	ErrNotFound = errors.New("not found at the archive")
)

// CutOffError is the error of a part that was cut off (it wraps ErrCutOff
// and ErrBadResponse). SOPInstanceUID names the instance when the part
// itself said which one it was, in its first bytes or its Content-Location
// header, so that a series or study retrieve cut off is remembered for that
// instance at once; it is empty otherwise.
type CutOffError struct {
	SOPInstanceUID string
	Err            error
}

func (e *CutOffError) Error() string {
	if e.SOPInstanceUID == "" {
		return e.Err.Error()
	}
	return fmt.Sprintf("instance %s: %v", e.SOPInstanceUID, e.Err)
}

func (e *CutOffError) Unwrap() error { return e.Err }

// HTTPError is a non-2xx answer from the archive.
type HTTPError struct {
	Method     string // request method
	Path       string // request path and query, without credentials
	StatusCode int
	Status     string // e.g. "404 Not Found"
	Body       string // start of the body, made printable, for the message

	raw []byte // start of the body as sent (a STOW 409 may hold a Failed SOP Sequence)
}

// Error names the request, the status and the start of the answer.
func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("%s %s: %s", e.Method, e.Path, e.Status)
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Transient reports whether the status may go away if the request is
// repeated (429, 500, 502, 503, 504).
func (e *HTTPError) Transient() bool { return transientStatus(e.StatusCode) }

func transientStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// IsTransient reports whether err is worth trying again later: the archive
// was unreachable, the answer broke off or stalled, or the status was
// transient. Client errors (4xx other than 429) and bad answers are not.
func IsTransient(err error) bool {
	if errors.Is(err, ErrOffline) || errors.Is(err, ErrTruncated) || errors.Is(err, ErrStalled) {
		return true
	}
	var he *HTTPError
	return errors.As(err, &he) && he.Transient()
}

// summarizeBody turns the start of an error body into one printable line:
// tags of an HTML page are dropped, runs of white space folded.
func summarizeBody(b []byte) string {
	s := string(b)
	if strings.Contains(strings.ToLower(s[:min(len(s), 512)]), "<html") || strings.HasPrefix(strings.TrimSpace(s), "<") {
		var out strings.Builder
		in := false
		for _, r := range s {
			switch {
			case r == '<':
				in = true
				out.WriteByte(' ')
			case r == '>':
				in = false
			case !in:
				out.WriteRune(r)
			}
		}
		s = out.String()
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
