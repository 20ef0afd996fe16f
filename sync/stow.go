package sync

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
)

// StoreResult is what the archive said about a STOW-RS request (PS3.18
// §10.5.3): the instances it references as stored and those it failed.
type StoreResult struct {
	// Stored lists the Referenced SOP Sequence (stored, possibly with a warning).
	Stored []StoredInstance
	// Failed lists the Failed SOP Sequence.
	Failed []FailedInstance
	// StatusCode is the HTTP status (200, 202, 409, ...).
	StatusCode int
}

// StoredInstance is one item of the Referenced SOP Sequence.
type StoredInstance struct {
	SOPClassUID, SOPInstanceUID string
	RetrieveURL                 string
	WarningReason               int // 0 when none
}

// FailedInstance is one item of the Failed SOP Sequence.
type FailedInstance struct {
	SOPClassUID, SOPInstanceUID string
	FailureReason               int // PS3.18 / PS3.4 failure code, 0 when absent
}

// StoredUID reports whether the archive referenced sopUID as stored (and did
// not also list it as failed).
func (r *StoreResult) StoredUID(sopUID string) bool {
	if r == nil {
		return false
	}
	for _, f := range r.Failed {
		if f.SOPInstanceUID == sopUID {
			return false
		}
	}
	for _, s := range r.Stored {
		if s.SOPInstanceUID == sopUID {
			return true
		}
	}
	return false
}

// Store sends DICOM files (Part 10 bytes) with STOW-RS, to the study's URL
// when studyUID is not empty (the archive then refuses instances of other
// studies). The result says exactly which SOP Instance UIDs the archive
// referenced as stored: a 200 answer alone proves nothing, so callers check
// StoredUID for each UID they sent.
//
// A 409 (or other 4xx) answer returns an *HTTPError together with the
// result when its body could be read. Transient failures are retried with
// the same bytes; resending an instance with the same UID cannot duplicate it.
func (c *Client) Store(ctx context.Context, studyUID string, files ...[]byte) (*StoreResult, error) {
	path := "/studies"
	if studyUID != "" {
		if err := checkUIDs(studyUID); err != nil {
			return nil, err
		}
		path += "/" + studyUID
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("sync: POST %s%s: nothing to store", c.base.Path, path)
	}
	body, boundary, err := stowBody(files)
	if err != nil {
		return nil, fmt.Errorf("sync: POST %s%s: %w", c.base.Path, path, err)
	}
	r := request{
		method: http.MethodPost,
		path:   path,
		accept: "application/dicom+json, application/json",
		header: http.Header{"Content-Type": {`multipart/related; type="application/dicom"; boundary=` + boundary}},
		body:   func() io.Reader { return bytes.NewReader(body) },
	}
	resp, err := c.send(ctx, r)
	if err != nil {
		var he *HTTPError
		if errors.As(err, &he) && he.StatusCode/100 == 4 {
			res := &StoreResult{}
			if obj, jerr := decodeObject(bytes.NewReader(he.raw), int64(len(he.raw))); jerr == nil {
				res = parseStoreResult(obj)
			}
			res.StatusCode = he.StatusCode
			return res, err
		}
		return nil, err
	}
	defer resp.Body.Close()
	if err := checkJSONType(resp.Header.Get("Content-Type")); err != nil {
		return nil, fmt.Errorf("sync: %s: %w", resp.name, err)
	}
	obj, err := decodeObject(resp.Body, c.cfg.MaxJSONBytes)
	if err != nil {
		return nil, c.jsonError(ctx, resp.name, err)
	}
	res := parseStoreResult(obj)
	res.StatusCode = resp.StatusCode
	return res, nil
}

func parseStoreResult(obj Object) *StoreResult {
	res := &StoreResult{}
	for _, it := range obj.Items(TagReferencedSOPSequence) {
		w, _ := it.Int(TagWarningReason)
		res.Stored = append(res.Stored, StoredInstance{
			SOPClassUID:    it.String(TagReferencedSOPClassUID),
			SOPInstanceUID: it.String(TagReferencedSOPInstanceUID),
			RetrieveURL:    it.String(TagRetrieveURL),
			WarningReason:  w,
		})
	}
	for _, it := range obj.Items(TagFailedSOPSequence) {
		f, _ := it.Int(TagFailureReason)
		res.Failed = append(res.Failed, FailedInstance{
			SOPClassUID:    it.String(TagReferencedSOPClassUID),
			SOPInstanceUID: it.String(TagReferencedSOPInstanceUID),
			FailureReason:  f,
		})
	}
	return res
}

// stowBody builds the multipart/related body once, so every retry sends the
// same bytes.
func stowBody(files [][]byte) ([]byte, string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, "", err
	}
	boundary := "teleread-" + hex.EncodeToString(b[:])
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.SetBoundary(boundary); err != nil {
		return nil, "", err
	}
	for _, f := range files {
		pw, err := w.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/dicom"}})
		if err != nil {
			return nil, "", err
		}
		if _, err := pw.Write(f); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), boundary, nil
}
