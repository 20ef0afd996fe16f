package sync

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strconv"
	"strings"
	gosync "sync"
	"testing"
)

// upsStandIn is a small UPS-RS origin server (PS3.18 §11) for what Orthanc
// cannot do. It follows the standard where the tests lean on it:
//
//   - Search (§11.9): GET /workitems with ProcedureStepState and
//     ScheduledHumanPerformersSequence.HumanPerformerName (or their tags),
//     wildcards * and ?, limit/offset; 204 when nothing matches. The
//     Transaction UID is never returned (§11.5.3.3).
//   - Retrieve (§11.5): GET /workitems/{uid}; 404 for an unknown one.
//   - Change State (§11.7): PUT /workitems/{uid}/state with a DICOM JSON body
//     (415 otherwise) holding Procedure Step State and Transaction UID; the
//     transitions of PS3.4 Table CC.1.1-2 with the status codes of
//     Table 11.7.3-1: Transaction UID missing or incorrect 400; SCHEDULED to
//     COMPLETED/CANCELED, IN PROGRESS again, or out of a final state 409;
//     already in the requested final state 200 with the §11.7.3.2 Warning;
//     COMPLETED only when the Final State requirements of PS3.4
//     Table CC.2.5-3 hold (Unified Procedure Step Performed Procedure
//     Sequence with start and end date-times, station and workitem codes),
//     CANCELED only with a cancellation date-time; 409 otherwise.
//   - Update (§11.6): POST /workitems/{uid}?{transaction-uid}; 400 in a final
//     state or with a missing or incorrect Transaction UID on an IN PROGRESS
//     workitem, 409 with a Transaction UID on one not claimed; the payload
//     may not set Procedure Step State or Transaction UID (400).
//   - QIDO-RS GET /instances?SOPInstanceUID= for the instances registered
//     with addInstance (the delivered reports).
//
// dropAnswer makes it apply one request and close the connection without an
// answer, as an archive does when it crashes after committing.
type upsStandIn struct {
	srv *httptest.Server

	mu        gosync.Mutex
	items     map[string]*standWorkitem
	order     []string
	instances map[string]map[string]string // SOP -> study, series, class
	log       []standRequest
	drop      map[string]int // "METHOD state" -> answers still to drop
}

type standWorkitem struct {
	attrs map[string]json.RawMessage // without state and Transaction UID
	state string
	tx    string
}

// standRequest is one request the stand-in saw and how it answered.
type standRequest struct {
	Method, Path, Query string
	State, TxUID        string // of a state change
	Status              int
	Warning             string
}

func newUPSStandIn(t *testing.T) *upsStandIn {
	s := &upsStandIn{items: map[string]*standWorkitem{}, instances: map[string]map[string]string{}, drop: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the DICOMweb root holding /workitems.
func (s *upsStandIn) URL() string { return s.srv.URL + "/dicom-web" }

// add adds a workitem from its DICOM JSON (as in the standard's examples).
func (s *upsStandIn) add(t *testing.T, uid, state, tx, js string) {
	t.Helper()
	var attrs map[string]json.RawMessage
	if err := json.Unmarshal([]byte(js), &attrs); err != nil {
		t.Fatalf("stand-in workitem %s: %v", uid, err)
	}
	attrs[TagSOPInstanceUID] = json.RawMessage(`{"vr":"UI","Value":["` + uid + `"]}`)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items[uid] = &standWorkitem{attrs: attrs, state: state, tx: tx}
	s.order = append(s.order, uid)
}

func (s *upsStandIn) addInstance(study, series, class, sop string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.instances[sop] = map[string]string{TagStudyInstanceUID: study, TagSeriesInstanceUID: series, TagSOPClassUID: class}
}

// dropNext makes the next n requests "METHOD newstate" (e.g. "PUT IN
// PROGRESS") take effect without an answer.
func (s *upsStandIn) dropNext(key string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drop[key] = n
}

// get returns a workitem's state, Transaction UID and attributes.
func (s *upsStandIn) get(uid string) (state, tx string, o Object) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.items[uid]
	if w == nil {
		return "", "", nil
	}
	b, _ := json.Marshal(w.attrs)
	json.Unmarshal(b, &o)
	return w.state, w.tx, o
}

func (s *upsStandIn) requests() []standRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]standRequest(nil), s.log...)
}

func (s *upsStandIn) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/dicom-web/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	parts := strings.Split(rest, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := standRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery}
	status, body, warning, dropped := s.route(r, parts, &rec)
	rec.Status, rec.Warning = status, warning
	s.log = append(s.log, rec)
	if dropped {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
	}
	if warning != "" {
		w.Header().Set("Warning", "299 stand-in: "+warning)
	}
	if body != nil {
		w.Header().Set("Content-Type", "application/dicom+json")
		w.WriteHeader(status)
		w.Write(body)
		return
	}
	w.WriteHeader(status)
}

func (s *upsStandIn) route(r *http.Request, parts []string, rec *standRequest) (int, []byte, string, bool) {
	switch {
	case r.Method == http.MethodGet && len(parts) == 1 && parts[0] == "workitems":
		return s.search(r)
	case r.Method == http.MethodGet && len(parts) == 1 && parts[0] == "instances":
		return s.findInstance(r)
	case len(parts) < 2 || parts[0] != "workitems":
		return http.StatusNotFound, nil, "", false
	}
	item := s.items[parts[1]]
	if item == nil {
		return http.StatusNotFound, nil, "", false
	}
	switch {
	case r.Method == http.MethodGet && len(parts) == 2:
		return http.StatusOK, s.encode([]*standWorkitem{item}), "", false
	case r.Method == http.MethodPut && len(parts) == 3 && parts[2] == "state":
		return s.changeState(r, item, rec)
	case r.Method == http.MethodPost && len(parts) == 2:
		return s.update(r, item, rec)
	}
	return http.StatusMethodNotAllowed, nil, "", false
}

func (s *upsStandIn) encode(items []*standWorkitem) []byte {
	var out []map[string]json.RawMessage
	for _, it := range items {
		o := map[string]json.RawMessage{}
		for k, v := range it.attrs {
			o[k] = v
		}
		o[tagProcedureStepState] = json.RawMessage(`{"vr":"CS","Value":["` + it.state + `"]}`)
		out = append(out, o) // never the Transaction UID (§11.5.3.3)
	}
	b, _ := json.Marshal(out)
	return b
}

func (s *upsStandIn) search(r *http.Request) (int, []byte, string, bool) {
	if !acceptsJSON(r) {
		return http.StatusNotAcceptable, nil, "", false
	}
	limit, offset := 0, 0
	var match []func(*standWorkitem) bool
	for _, kv := range strings.Split(r.URL.RawQuery, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		v, err := url.QueryUnescape(v)
		if err != nil {
			return http.StatusBadRequest, nil, "bad query value", false
		}
		switch k {
		case "includefield", "fuzzymatching":
		case "limit":
			limit, _ = strconv.Atoi(v)
		case "offset":
			offset, _ = strconv.Atoi(v)
		case "ProcedureStepState", tagProcedureStepState:
			match = append(match, func(w *standWorkitem) bool { return wildMatch(v, w.state) })
		case "ScheduledHumanPerformersSequence.HumanPerformerName", tagScheduledHumanPerformersSeq + "." + tagHumanPerformerName:
			match = append(match, func(w *standWorkitem) bool {
				var o Object
				b, _ := json.Marshal(w.attrs)
				json.Unmarshal(b, &o)
				for _, it := range o.Items(tagScheduledHumanPerformersSeq) {
					for _, n := range it.Strings(tagHumanPerformerName) {
						if wildMatch(strings.ToUpper(v), strings.ToUpper(n)) {
							return true
						}
					}
				}
				return false
			})
		default:
			return http.StatusBadRequest, nil, "matching key " + k + " not supported", false
		}
	}
	var found []*standWorkitem
	for _, uid := range s.order {
		w := s.items[uid]
		ok := true
		for _, m := range match {
			ok = ok && m(w)
		}
		if ok {
			found = append(found, w)
		}
	}
	found = found[min(offset, len(found)):]
	if limit > 0 {
		found = found[:min(limit, len(found))]
	}
	if len(found) == 0 {
		return http.StatusNoContent, nil, "", false
	}
	return http.StatusOK, s.encode(found), "", false
}

func (s *upsStandIn) findInstance(r *http.Request) (int, []byte, string, bool) {
	sop := r.URL.Query().Get("SOPInstanceUID")
	inst := s.instances[sop]
	if inst == nil {
		return http.StatusOK, []byte("[]"), "", false
	}
	o := map[string]any{TagSOPInstanceUID: map[string]any{"vr": "UI", "Value": []string{sop}}}
	for tag, v := range inst {
		o[tag] = map[string]any{"vr": "UI", "Value": []string{v}}
	}
	b, _ := json.Marshal([]any{o})
	return http.StatusOK, b, "", false
}

// readBody reads a DICOM JSON request payload (§11.7.1.3: Content-Type is
// mandatory).
func readBody(r *http.Request) (Object, map[string]json.RawMessage, int, string) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/dicom+json" {
		return nil, nil, http.StatusUnsupportedMediaType, "Content-Type must be application/dicom+json"
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, nil, http.StatusBadRequest, err.Error()
	}
	var raw map[string]json.RawMessage
	var o Object
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, nil, http.StatusBadRequest, "payload is not a DICOM JSON object"
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, nil, http.StatusBadRequest, "payload: " + err.Error()
	}
	return o, raw, 0, ""
}

const (
	warnTxMissing    = "The Transaction UID is missing."
	warnTxIncorrect  = "The Transaction UID is incorrect."
	warnInconsistent = "The submitted request is inconsistent with the state of the UPS Instance."
)

func (s *upsStandIn) changeState(r *http.Request, w *standWorkitem, rec *standRequest) (int, []byte, string, bool) {
	o, _, status, why := readBody(r)
	if status != 0 {
		return status, nil, why, false
	}
	want, tx := o.String(tagProcedureStepState), o.String(tagTransactionUID)
	rec.State, rec.TxUID = want, tx
	if tx == "" {
		return http.StatusBadRequest, nil, warnTxMissing, false
	}
	if !ValidUID(tx) {
		return http.StatusBadRequest, nil, "Transaction UID is not a UID", false
	}
	final := func() bool { return w.state == UPSCompleted || w.state == UPSCanceled }
	switch want {
	case UPSInProgress:
		if w.state != UPSScheduled { // C302 already IN PROGRESS, C300 final
			return http.StatusConflict, nil, warnInconsistent, false
		}
		w.state, w.tx = UPSInProgress, tx
	case UPSCompleted, UPSCanceled:
		switch {
		case w.state == want: // B306 / B304
			return http.StatusOK, nil, "The UPS is already in the requested state of " + want + ".", false
		case final(): // C300
			return http.StatusConflict, nil, warnInconsistent, false
		case w.state == UPSScheduled: // C310 not yet IN PROGRESS
			return http.StatusConflict, nil, warnInconsistent, false
		case tx != w.tx: // C301
			return http.StatusBadRequest, nil, warnTxIncorrect, false
		case want == UPSCompleted && !s.meetsCompleted(w): // C304
			return http.StatusConflict, nil, warnInconsistent, false
		case want == UPSCanceled && !s.meetsCanceled(w): // C304
			return http.StatusConflict, nil, warnInconsistent, false
		}
		w.state, w.tx = want, ""
	default:
		return http.StatusBadRequest, nil, "Procedure Step State must be IN PROGRESS, COMPLETED or CANCELED", false
	}
	key := r.Method + " " + want
	if s.drop[key] > 0 {
		s.drop[key]--
		return http.StatusOK, nil, "", true
	}
	return http.StatusOK, nil, "", false
}

// meetsCompleted checks the Final State requirements (PS3.4 Table CC.2.5-3)
// for COMPLETED that the tests rely on.
func (s *upsStandIn) meetsCompleted(w *standWorkitem) bool {
	var o Object
	b, _ := json.Marshal(w.attrs)
	if json.Unmarshal(b, &o) != nil {
		return false
	}
	items := o.Items(tagUPSPerformedProcedureSequence)
	if len(items) != 1 {
		return false
	}
	p := items[0]
	if p.String(tagPerformedProcedureStepStartDT) == "" || p.String(tagPerformedProcedureStepEndDT) == "" {
		return false
	}
	for _, seq := range []string{tagPerformedStationNameCodeSeq, tagPerformedWorkitemCodeSequence} {
		codes := p.Items(seq)
		if len(codes) != 1 || codes[0].String(tagCodeValue) == "" || codes[0].String(tagCodingSchemeDesignator) == "" || codes[0].String(tagCodeMeaning) == "" {
			return false
		}
	}
	for _, out := range p.Items(tagOutputInformationSequence) {
		refs := out.Items(TagReferencedSOPSequence)
		if !ValidUID(out.StudyUID()) || !ValidUID(out.SeriesUID()) || len(refs) == 0 {
			return false
		}
		for _, ref := range refs {
			if !ValidUID(ref.String(TagReferencedSOPClassUID)) || !ValidUID(ref.String(TagReferencedSOPInstanceUID)) {
				return false
			}
		}
	}
	return true
}

func (s *upsStandIn) meetsCanceled(w *standWorkitem) bool {
	var o Object
	b, _ := json.Marshal(w.attrs)
	if json.Unmarshal(b, &o) != nil {
		return false
	}
	items := o.Items(tagProcedureStepProgressInfoSeq)
	return len(items) == 1 && items[0].String(tagProcedureStepCancellationDT) != ""
}

func (s *upsStandIn) update(r *http.Request, w *standWorkitem, rec *standRequest) (int, []byte, string, bool) {
	_, raw, status, why := readBody(r)
	if status != 0 {
		return status, nil, why, false
	}
	tx := r.URL.RawQuery
	rec.TxUID = tx
	if _, ok := raw[tagProcedureStepState]; ok {
		return http.StatusBadRequest, nil, "Procedure Step State changes only through /state", false
	}
	if _, ok := raw[tagTransactionUID]; ok {
		return http.StatusBadRequest, nil, "the Transaction UID is not an attribute to update", false
	}
	switch w.state {
	case UPSCompleted, UPSCanceled:
		return http.StatusBadRequest, nil, "The submitted request is inconsistent with the current state of the Workitem.", false
	case UPSInProgress:
		if tx == "" {
			return http.StatusBadRequest, nil, warnTxMissing, false
		}
		if tx != w.tx {
			return http.StatusBadRequest, nil, warnTxIncorrect, false
		}
	case UPSScheduled:
		if tx != "" {
			return http.StatusConflict, nil, "The target URI did not reference a claimed Workitem.", false
		}
	}
	for k, v := range raw {
		w.attrs[k] = v
	}
	return http.StatusOK, nil, "", false
}

func acceptsJSON(r *http.Request) bool {
	a := r.Header.Get("Accept")
	return a == "" || strings.Contains(a, "application/dicom+json") || strings.Contains(a, "*/*")
}

// wildMatch is DICOM wildcard matching (PS3.4 C.2.2.2.4): * any run, ? one
// character.
func wildMatch(pattern, value string) bool {
	p := strings.NewReplacer(`[`, `\[`, `]`, `\]`, `\`, `\\`).Replace(pattern)
	ok, err := path.Match(p, value)
	return err == nil && ok
}

// standWorkitemJSON is a scheduled reading workitem shaped like the UPS
// examples of PS3.17 and PS3.18: who reads, priority, the study as Input
// Information (or only as Referenced Request).
func standWorkitemJSON(performers []string, priority, studyUID string, viaRequest bool) string {
	var hp []string
	for _, p := range performers {
		hp = append(hp, fmt.Sprintf(`{"00404009":{"vr":"SQ","Value":[{"00080100":{"vr":"SH","Value":["%s"]},"00080102":{"vr":"SH","Value":["99LOCAL"]},"00080104":{"vr":"LO","Value":["%s"]}}]},"00404037":{"vr":"PN","Value":[{"Alphabetic":"%s"}]}}`, p, p, p))
	}
	input := `"00404021":{"vr":"SQ","Value":[{"0020000D":{"vr":"UI","Value":["` + studyUID + `"]},"0040E020":{"vr":"CS","Value":["DICOM"]}}]},`
	if viaRequest {
		input = `"00404021":{"vr":"SQ"},`
	}
	return `{
	"00080016":{"vr":"UI","Value":["1.2.840.10008.5.1.4.34.6.1"]},
	"00100010":{"vr":"PN","Value":[{"Alphabetic":"Test^Patient"}]},
	"00100020":{"vr":"LO","Value":["PID-1"]},
	"00404041":{"vr":"CS","Value":["READY"]},
	"00741200":{"vr":"CS","Value":["` + priority + `"]},
	"00741204":{"vr":"LO","Value":["Read study"]},
	"00404005":{"vr":"DT","Value":["20240102080000"]},
	"00404018":{"vr":"SQ","Value":[{"00080100":{"vr":"SH","Value":["110005"]},"00080102":{"vr":"SH","Value":["DCM"]},"00080104":{"vr":"LO","Value":["Interpretation"]}}]},
	"00404034":{"vr":"SQ","Value":[` + strings.Join(hp, ",") + `]},
	` + input + `
	"0040A370":{"vr":"SQ","Value":[{"0020000D":{"vr":"UI","Value":["` + studyUID + `"]},"00080050":{"vr":"SH","Value":["ACC-1"]},"00401001":{"vr":"SH","Value":["RP-1"]}}]}
}`
}
