package sync

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"time"

	"teleread/cache"
)

// The UPS-RS worklist (PS3.18 §11, the Worklist Service): the reader's work
// comes as workitems (UPS instances, PS3.4 Annex CC) scheduled for them. Each
// is claimed by changing it to IN PROGRESS with a Transaction UID that only the
// owner knows (PS3.18 §11.7), and completed with the same Transaction UID once
// its report is delivered. The archive never gives the Transaction UID back
// (§11.5.3.3), so it is stored durably before the claim is sent: a crash
// anywhere between claim and completion is resumed with it.

// Attributes of the UPS IOD (PS3.3 C.30) as DICOM JSON tags.
const (
	tagTransactionUID                  = "00081195"
	tagCodeValue                       = "00080100"
	tagCodingSchemeDesignator          = "00080102"
	tagCodeMeaning                     = "00080104"
	tagRequestedProcedureID            = "00401001"
	tagScheduledProcedureStepStartDT   = "00404005"
	tagScheduledProcedureStepModDT     = "00404010"
	tagPerformedWorkitemCodeSequence   = "00404019"
	tagInputInformationSequence        = "00404021"
	tagPerformedStationNameCodeSeq     = "00404028"
	tagOutputInformationSequence       = "00404033"
	tagScheduledHumanPerformersSeq     = "00404034"
	tagActualHumanPerformersSequence   = "00404035"
	tagHumanPerformerName              = "00404037"
	tagPerformedProcedureStepStartDT   = "00404050"
	tagPerformedProcedureStepEndDT     = "00404051"
	tagProcedureStepCancellationDT     = "00404052"
	tagReferencedRequestSequence       = "0040A370"
	tagTypeOfInstances                 = "0040E020"
	tagProcedureStepState              = "00741000"
	tagProcedureStepProgressInfoSeq    = "00741002"
	tagProcedureStepDiscontinuationSeq = "0074100E"
	tagScheduledProcedureStepPriority  = "00741200"
	tagProcedureStepLabel              = "00741204"
	tagUPSPerformedProcedureSequence   = "00741216"
	tagReasonForCancellation           = "00741238"
)

// Procedure Step State (0074,1000) values.
const (
	UPSScheduled  = "SCHEDULED"
	UPSInProgress = "IN PROGRESS"
	UPSCompleted  = "COMPLETED"
	UPSCanceled   = "CANCELED"
)

// Errors of the UPS-RS worklist that callers branch on.
var (
	// ErrWorkitemClaimed reports a workitem that another performer owns: the
	// archive refused our claim or our Transaction UID.
	ErrWorkitemClaimed = errors.New("workitem owned by another performer")
	// ErrWorkitemState reports a workitem whose state forbids the change, such
	// as one the archive canceled, or a claim this cache does not hold.
	ErrWorkitemState = errors.New("workitem state does not allow this")
)

// Code is a coded entry (PS3.3 Table 8.8-1: Code Value, Coding Scheme
// Designator, Code Meaning).
type Code struct{ Value, Scheme, Meaning string }

// Default codes for what the reader performs: DCM 110005 "Interpretation"
// (CID 9231 Workitem Definition), and DCM 110513 for a cancellation without a
// stated reason (CID 9300 Procedure Discontinuation Reason).
var (
	InterpretationCode     = Code{"110005", "DCM", "Interpretation"}
	discontinuedUnspecCode = Code{"110513", "DCM", "Discontinued for unspecified reason"}
)

// WorkitemStore keeps claims durably; the cache implements it.
type WorkitemStore interface {
	// BeginWorkitemClaim stores a Transaction UID before the claim is sent
	// and returns the one to use (an open claim's own, after a restart).
	BeginWorkitemClaim(workitemUID, studyUID, txUID string) (string, error)
	SetWorkitemClaimState(workitemUID, state, reason string) error
	WorkitemClaimByUID(workitemUID string) (cache.WorkitemClaim, error)
	WorkitemClaims(states ...string) ([]cache.WorkitemClaim, error)
	// Outbox lists the reports to deliver and delivered.
	Outbox() ([]cache.OutboxItem, error)
}

var _ WorkitemStore = (*cache.Cache)(nil)

// UPS is a UPS-RS user agent that pulls the reader's workitems, claims them,
// and completes them when their reports are delivered. It is safe for
// concurrent use as far as its Client and Store are.
type UPS struct {
	// Client talks to the Worklist Service; its base URL is the one that
	// holds /workitems (often the archive's DICOMweb root).
	Client *Client
	// Archive, when set, is asked for the SOP Class and Series of a delivered
	// report (the Output Information Sequence names them); nil means Client.
	Archive *Client
	// Store keeps the Transaction UIDs.
	Store WorkitemStore
	// Performer is the reader's name as the worklist manager writes it in
	// Scheduled Human Performers Sequence > Human Performer's Name; it is
	// written back as the Actual Human Performer.
	Performer string
	// Station names this workstation in Performed Station Name Code Sequence;
	// zero means {"TELEREAD", "99TELEREAD", "Teleread workstation"}.
	Station Code
	// Workitem is the Performed Workitem Code; zero means InterpretationCode.
	Workitem Code
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// OnError receives errors of the delivery hook, which has no caller to
	// return them to; nil logs them through the Client's logger.
	OnError func(error)
}

// Workitem is one UPS instance as searched or retrieved.
type Workitem struct {
	UID        string // the workitem's SOP Instance UID
	State      string // Procedure Step State
	Priority   int    // PrioritySTAT..PriorityLow, from Scheduled Procedure Step Priority
	StudyUID   string // the study to read, "" when the workitem names none
	Scheduled  string // Scheduled Procedure Step Start DateTime
	Modified   string // Scheduled Procedure Step Modification DateTime
	Label      string // Procedure Step Label
	Performers []string
	Object     Object
}

// OutputRef names an instance the reader produced (the report), for the
// Output Information Sequence.
type OutputRef struct {
	StudyUID, SeriesUID, SOPClassUID, SOPInstanceUID string
}

// workitemFields are asked for with every search.
var workitemFields = []string{
	"SOPInstanceUID", "ProcedureStepState", "ScheduledProcedureStepPriority", "ProcedureStepLabel",
	"ScheduledProcedureStepStartDateTime", "ScheduledProcedureStepModificationDateTime", "ScheduledHumanPerformersSequence", "InputInformationSequence",
	"ReferencedRequestSequence", "PatientName", "PatientID",
}

func (u *UPS) now() time.Time {
	if u.Now != nil {
		return u.Now()
	}
	return time.Now()
}

func (u *UPS) station() Code {
	if u.Station == (Code{}) {
		return Code{"TELEREAD", "99TELEREAD", "Teleread workstation"}
	}
	return u.Station
}

func (u *UPS) workitemCode() Code {
	if u.Workitem == (Code{}) {
		return InterpretationCode
	}
	return u.Workitem
}

// workitemOf reads the fields the worklist uses.
func workitemOf(o Object) Workitem {
	w := Workitem{
		UID:       o.SOPInstanceUID(),
		State:     strings.TrimSpace(o.String(tagProcedureStepState)),
		Priority:  upsPriority(o.String(tagScheduledProcedureStepPriority)),
		Scheduled: o.String(tagScheduledProcedureStepStartDT),
		Modified:  o.String(tagScheduledProcedureStepModDT),
		Label:     o.String(tagProcedureStepLabel),
		Object:    o,
	}
	for _, it := range o.Items(tagScheduledHumanPerformersSeq) {
		w.Performers = append(w.Performers, it.Strings(tagHumanPerformerName)...)
	}
	// The study to read: the input data, else the request it answers.
	for _, seq := range []string{tagInputInformationSequence, tagReferencedRequestSequence} {
		for _, it := range o.Items(seq) {
			if s := it.StudyUID(); ValidUID(s) {
				w.StudyUID = s
				return w
			}
		}
	}
	return w
}

// AssignedAt is when the workitem was given to the reader: its Scheduled
// Procedure Step Start DateTime (the step is the reader's from then on), else
// its Modification DateTime (when the scheduler last changed it); zero when
// it has neither.
func (w Workitem) AssignedAt() time.Time {
	if t := parseDT(w.Scheduled, time.Local); !t.IsZero() {
		return t
	}
	return parseDT(w.Modified, time.Local)
}

// upsPriority maps Scheduled Procedure Step Priority to the worklist's.
func upsPriority(v string) int {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "STAT":
		return PrioritySTAT
	case "HIGH":
		return PriorityHigh
	case "LOW":
		return PriorityLow
	}
	return PriorityRoutine // MEDIUM, or absent
}

// Search runs a workitem search (PS3.18 §11.9, QIDO-style matching), paging
// through all results.
func (u *UPS) Search(ctx context.Context, q Query, fn func(Workitem) error) error {
	return u.Client.SearchAll(ctx, "/workitems", q, 100, func(o Object) error {
		if !ValidUID(o.SOPInstanceUID()) {
			return fmt.Errorf("sync: search workitems: %w: workitem UID %.80q", ErrBadResponse, o.SOPInstanceUID())
		}
		return fn(workitemOf(o))
	})
}

// Scheduled returns the workitems scheduled for the performer: Human
// Performer's Name matches it exactly (re-checked here, since worklist
// managers match names loosely) and the state is SCHEDULED.
func (u *UPS) Scheduled(ctx context.Context) ([]Workitem, error) {
	if strings.TrimSpace(u.Performer) == "" {
		return nil, errors.New("sync: search workitems: no performer name")
	}
	q := Query{
		Match: []Param{
			{"ScheduledHumanPerformersSequence.HumanPerformerName", u.Performer},
			{"ProcedureStepState", UPSScheduled},
		},
		IncludeFields: workitemFields,
	}
	var out []Workitem
	err := u.Search(ctx, q, func(w Workitem) error {
		if w.State == UPSScheduled && readerMatches(w.Performers, u.Performer) {
			out = append(out, w)
		}
		return nil
	})
	return out, err
}

// Retrieve reads one workitem (PS3.18 §11.5).
func (u *UPS) Retrieve(ctx context.Context, workitemUID string) (Workitem, error) {
	if err := checkUIDs(workitemUID); err != nil {
		return Workitem{}, err
	}
	r := request{method: http.MethodGet, path: "/workitems/" + workitemUID, accept: "application/dicom+json, application/json"}
	resp, err := u.Client.send(ctx, r)
	if err != nil {
		return Workitem{}, err
	}
	defer resp.Body.Close()
	if err := checkJSONType(resp.Header.Get("Content-Type")); err != nil {
		return Workitem{}, fmt.Errorf("sync: %s: %w", resp.name, err)
	}
	// The answer is one data set; some servers wrap it in an array.
	b, err := io.ReadAll(io.LimitReader(resp.Body, u.Client.cfg.MaxJSONBytes+1))
	if err != nil {
		return Workitem{}, fmt.Errorf("sync: %s: %w", resp.name, err)
	}
	if int64(len(b)) > u.Client.cfg.MaxJSONBytes {
		return Workitem{}, fmt.Errorf("sync: %s: %w: JSON answer over %d bytes", resp.name, ErrBadResponse, u.Client.cfg.MaxJSONBytes)
	}
	var o Object
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '[' {
		var objs []Object
		if err := json.Unmarshal(t, &objs); err != nil || len(objs) != 1 {
			return Workitem{}, fmt.Errorf("sync: %s: %w: want one workitem (starts %.60q)", resp.name, ErrBadResponse, b)
		}
		o = objs[0]
	} else if err := json.Unmarshal(t, &o); err != nil {
		return Workitem{}, fmt.Errorf("sync: %s: %w: %v (starts %.60q)", resp.name, ErrBadResponse, err, b)
	}
	w := workitemOf(o)
	if w.UID != "" && w.UID != workitemUID {
		return Workitem{}, fmt.Errorf("sync: %s: %w: answer is workitem %.80q", resp.name, ErrBadResponse, w.UID)
	}
	w.UID = workitemUID
	return w, nil
}

// ChangeState asks for a state change (PS3.18 §11.7: PUT
// {base}/workitems/{uid}/state with Procedure Step State and Transaction UID).
func (u *UPS) ChangeState(ctx context.Context, workitemUID, state, txUID string) error {
	if err := checkUIDs(workitemUID, txUID); err != nil {
		return err
	}
	body := jsonDataset{tagProcedureStepState: cs(state), tagTransactionUID: ui(txUID)}
	return u.put(ctx, http.MethodPut, "/workitems/"+workitemUID+"/state", "", body)
}

// update changes attributes of a workitem the caller owns (PS3.18 §11.6:
// POST {base}/workitems/{uid}?{transaction-uid}).
func (u *UPS) update(ctx context.Context, workitemUID, txUID string, changes jsonDataset) error {
	if err := checkUIDs(workitemUID, txUID); err != nil {
		return err
	}
	return u.put(ctx, http.MethodPost, "/workitems/"+workitemUID, txUID, changes)
}

func (u *UPS) put(ctx context.Context, method, path, query string, body jsonDataset) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("sync: %s %s: %w", method, path, err)
	}
	r := request{
		method: method, path: path, query: query, accept: "application/dicom+json, application/json",
		header: http.Header{"Content-Type": {"application/dicom+json"}},
		body:   func() io.Reader { return bytes.NewReader(b) },
	}
	resp, err := u.Client.send(ctx, r)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.Body.Close()
}

// refused reports whether err is the archive refusing a request on the
// workitem's state or Transaction UID (400 or 409, PS3.18 Tables 11.6.3-1
// and 11.7.3-1), as opposed to a failure to get an answer.
func refused(err error) bool {
	var he *HTTPError
	return errors.As(err, &he) && (he.StatusCode == http.StatusBadRequest || he.StatusCode == http.StatusConflict)
}

func httpStatus(err error) int {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.StatusCode
	}
	return 0
}

func notFound(err error) bool {
	var he *HTTPError
	return errors.As(err, &he) && (he.StatusCode == http.StatusNotFound || he.StatusCode == http.StatusGone)
}

// Claim takes ownership of a workitem: a new Transaction UID is stored
// durably, then the workitem is changed to IN PROGRESS with it. A workitem
// this cache already began to claim is claimed with the stored Transaction
// UID, and an answer lost on the way back is recognised (the archive accepts
// an update with our Transaction UID only if the claim is ours). Another
// performer's claim gives ErrWorkitemClaimed.
func (u *UPS) Claim(ctx context.Context, w Workitem) (string, error) {
	if err := checkUIDs(w.UID); err != nil {
		return "", err
	}
	newTx, err := newTransactionUID()
	if err != nil {
		return "", fmt.Errorf("sync: claim workitem %s: %w", w.UID, err)
	}
	tx, err := u.Store.BeginWorkitemClaim(w.UID, w.StudyUID, newTx)
	if err != nil {
		return "", fmt.Errorf("sync: claim workitem %s: %w", w.UID, err)
	}
	err = u.ChangeState(ctx, w.UID, UPSInProgress, tx)
	if err == nil {
		return tx, u.setClaim(w.UID, cache.ClaimHeld, "")
	}
	if !refused(err) {
		// No answer: the claim stays pending and is resumed with the same
		// Transaction UID.
		return "", fmt.Errorf("sync: claim workitem %s: %w", w.UID, err)
	}
	// Refused: already IN PROGRESS (ours, if an earlier answer was lost) or
	// in a state that cannot be claimed.
	return tx, u.resolve(ctx, w.UID, tx, err)
}

// resolve decides, after a refusal, whether the claim is ours: it is when
// the archive accepts an update carrying our Transaction UID.
func (u *UPS) resolve(ctx context.Context, workitemUID, tx string, cause error) error {
	cur, err := u.Retrieve(ctx, workitemUID)
	if err != nil {
		if notFound(err) {
			u.setClaim(workitemUID, cache.ClaimLost, "the workitem no longer exists")
			return fmt.Errorf("sync: claim workitem %s: %w: %w", workitemUID, ErrWorkitemState, err)
		}
		return fmt.Errorf("sync: claim workitem %s: %w", workitemUID, err)
	}
	switch cur.State {
	case UPSInProgress:
		err := u.update(ctx, workitemUID, tx, u.performed(nil, false))
		if err == nil {
			return u.setClaim(workitemUID, cache.ClaimHeld, "")
		}
		if refused(err) {
			u.setClaim(workitemUID, cache.ClaimLost, "IN PROGRESS under another Transaction UID")
			return fmt.Errorf("sync: claim workitem %s: %w", workitemUID, ErrWorkitemClaimed)
		}
		return fmt.Errorf("sync: claim workitem %s: %w", workitemUID, err)
	case UPSCompleted:
		u.setClaim(workitemUID, cache.ClaimLost, "the workitem is COMPLETED")
	case UPSCanceled:
		u.setClaim(workitemUID, cache.ClaimCanceled, "the workitem was CANCELED")
	}
	return fmt.Errorf("sync: claim workitem %s: %w: state %q: %w", workitemUID, ErrWorkitemState, cur.State, cause)
}

func (u *UPS) setClaim(workitemUID, state, reason string) error {
	if err := u.Store.SetWorkitemClaimState(workitemUID, state, reason); err != nil {
		return fmt.Errorf("sync: workitem %s: %w", workitemUID, err)
	}
	return nil
}

// performed is the Unified Procedure Step Performed Procedure Sequence: who
// performs it, where, what, since when; with final set, until now and what
// it produced. Table CC.2.5-3 of PS3.4 requires the start and end date-times,
// the station and the workitem code before a workitem may be COMPLETED.
func (u *UPS) performed(outputs []OutputRef, final bool) jsonDataset {
	return u.performedAt(u.now(), outputs, final)
}

func (u *UPS) performedAt(start time.Time, outputs []OutputRef, final bool) jsonDataset {
	item := jsonDataset{
		tagPerformedStationNameCodeSeq:   sq(codeItem(u.station())),
		tagPerformedProcedureStepStartDT: dt(start),
		tagPerformedWorkitemCodeSequence: sq(codeItem(u.workitemCode())),
	}
	if u.Performer != "" {
		item[tagActualHumanPerformersSequence] = sq(jsonDataset{tagHumanPerformerName: pn(u.Performer)})
	}
	if final {
		item[tagPerformedProcedureStepEndDT] = dt(u.now())
		var outs []jsonDataset
		for _, o := range outputs {
			outs = append(outs, jsonDataset{
				TagStudyInstanceUID:  ui(o.StudyUID),
				TagSeriesInstanceUID: ui(o.SeriesUID),
				tagTypeOfInstances:   cs("DICOM"),
				TagReferencedSOPSequence: sq(jsonDataset{
					TagReferencedSOPClassUID:    ui(o.SOPClassUID),
					TagReferencedSOPInstanceUID: ui(o.SOPInstanceUID),
				}),
			})
		}
		item[tagOutputInformationSequence] = sq(outs...)
	}
	return jsonDataset{tagUPSPerformedProcedureSequence: sq(item)}
}

// Complete completes a claimed workitem: the performed procedure (with the
// outputs) is written with an update, then the state changes to COMPLETED,
// both with the stored Transaction UID. It is safe to repeat: a workitem the
// archive already holds COMPLETED is recorded as such.
func (u *UPS) Complete(ctx context.Context, workitemUID string, outputs []OutputRef) error {
	claim, err := u.openClaim(workitemUID)
	if err != nil || claim.State == cache.ClaimCompleted {
		return err
	}
	start, _ := time.Parse(time.RFC3339Nano, claim.ClaimedAt)
	if err := u.prepareFinal(ctx, claim); err != nil {
		return err
	}
	if err := u.update(ctx, workitemUID, claim.TransactionUID, u.performedAt(start, outputs, true)); err != nil {
		return u.finalRefused(ctx, claim, UPSCompleted, err)
	}
	if err := u.ChangeState(ctx, workitemUID, UPSCompleted, claim.TransactionUID); err != nil {
		return u.finalRefused(ctx, claim, UPSCompleted, err)
	}
	return u.setClaim(workitemUID, cache.ClaimCompleted, "")
}

// Cancel cancels a claimed workitem (the owner's cancellation, PS3.18
// §11.8: a Change Workitem State to CANCELED), recording the reason and the
// time in the Procedure Step Progress Information Sequence.
func (u *UPS) Cancel(ctx context.Context, workitemUID, reason string) error {
	claim, err := u.openClaim(workitemUID)
	if err != nil {
		return err
	}
	if claim.State == cache.ClaimCompleted {
		return fmt.Errorf("sync: cancel workitem %s: %w: already completed", workitemUID, ErrWorkitemState)
	}
	if err := u.prepareFinal(ctx, claim); err != nil {
		return err
	}
	progress := jsonDataset{
		tagProcedureStepCancellationDT:     dt(u.now()),
		tagProcedureStepDiscontinuationSeq: sq(codeItem(discontinuedUnspecCode)),
	}
	if reason != "" {
		progress[tagReasonForCancellation] = lo(reason)
	}
	if err := u.update(ctx, workitemUID, claim.TransactionUID, jsonDataset{tagProcedureStepProgressInfoSeq: sq(progress)}); err != nil {
		return u.finalRefused(ctx, claim, UPSCanceled, err)
	}
	if err := u.ChangeState(ctx, workitemUID, UPSCanceled, claim.TransactionUID); err != nil {
		return u.finalRefused(ctx, claim, UPSCanceled, err)
	}
	return u.setClaim(workitemUID, cache.ClaimCanceled, reason)
}

// openClaim returns a claim that may still be completed or canceled.
func (u *UPS) openClaim(workitemUID string) (cache.WorkitemClaim, error) {
	claim, err := u.Store.WorkitemClaimByUID(workitemUID)
	if err != nil {
		return claim, fmt.Errorf("sync: workitem %s: %w: %w", workitemUID, ErrWorkitemState, err)
	}
	switch claim.State {
	case cache.ClaimPending, cache.ClaimHeld, cache.ClaimCompleted:
		return claim, nil
	}
	return claim, fmt.Errorf("sync: workitem %s: %w: claim is %s", workitemUID, ErrWorkitemState, claim.State)
}

// prepareFinal makes sure a claim is held before a final state change: a
// pending claim (a crash before the archive answered) is sent again.
func (u *UPS) prepareFinal(ctx context.Context, claim cache.WorkitemClaim) error {
	if claim.State != cache.ClaimPending {
		return nil
	}
	err := u.ChangeState(ctx, claim.WorkitemUID, UPSInProgress, claim.TransactionUID)
	if err == nil {
		return u.setClaim(claim.WorkitemUID, cache.ClaimHeld, "")
	}
	if !refused(err) {
		return fmt.Errorf("sync: workitem %s: %w", claim.WorkitemUID, err)
	}
	return u.resolve(ctx, claim.WorkitemUID, claim.TransactionUID, err)
}

// finalRefused sorts out a refused update or final state change: the
// workitem may already be in the wanted state (an earlier answer was lost),
// canceled by the archive, or owned by someone else.
func (u *UPS) finalRefused(ctx context.Context, claim cache.WorkitemClaim, want string, cause error) error {
	if !refused(cause) {
		return fmt.Errorf("sync: workitem %s to %s: %w", claim.WorkitemUID, want, cause)
	}
	cur, err := u.Retrieve(ctx, claim.WorkitemUID)
	if err != nil {
		return fmt.Errorf("sync: workitem %s to %s: %w (and %w)", claim.WorkitemUID, want, cause, err)
	}
	switch {
	case cur.State == want && want == UPSCompleted:
		return u.setClaim(claim.WorkitemUID, cache.ClaimCompleted, "")
	case cur.State == want && want == UPSCanceled:
		return u.setClaim(claim.WorkitemUID, cache.ClaimCanceled, "")
	case cur.State == UPSCanceled:
		u.setClaim(claim.WorkitemUID, cache.ClaimCanceled, "the workitem was CANCELED")
		return fmt.Errorf("sync: workitem %s to %s: %w: it was CANCELED", claim.WorkitemUID, want, ErrWorkitemState)
	case cur.State == UPSInProgress && httpStatus(cause) == http.StatusBadRequest:
		// IN PROGRESS but our Transaction UID refused: not ours any more.
		u.setClaim(claim.WorkitemUID, cache.ClaimLost, cause.Error())
		return fmt.Errorf("sync: workitem %s to %s: %w: %w", claim.WorkitemUID, want, ErrWorkitemClaimed, cause)
	}
	u.Store.SetWorkitemClaimState(claim.WorkitemUID, claim.State, cause.Error())
	return fmt.Errorf("sync: workitem %s to %s: %w: state %q: %w", claim.WorkitemUID, want, ErrWorkitemState, cur.State, cause)
}

// CompleteStudy completes the open claims for a study whose report (sopUIDs,
// delivered) is in the archive; the archive is asked for each report's series
// and SOP class.
func (u *UPS) CompleteStudy(ctx context.Context, studyUID string, sopUIDs ...string) error {
	claims, err := u.Store.WorkitemClaims(cache.ClaimPending, cache.ClaimHeld)
	if err != nil {
		return fmt.Errorf("sync: complete workitems of %s: %w", studyUID, err)
	}
	var outputs []OutputRef
	var firstErr error
	for _, c := range claims {
		if c.StudyUID != studyUID {
			continue
		}
		if outputs == nil {
			if outputs, err = u.outputs(ctx, studyUID, sopUIDs); err != nil {
				return err
			}
		}
		if err := u.Complete(ctx, c.WorkitemUID, outputs); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

func (u *UPS) outputs(ctx context.Context, studyUID string, sopUIDs []string) ([]OutputRef, error) {
	archive := u.Archive
	if archive == nil {
		archive = u.Client
	}
	var out []OutputRef
	for _, sop := range sopUIDs {
		o, err := archive.FindInstance(ctx, sop)
		if err != nil {
			return nil, fmt.Errorf("sync: complete workitems of %s: %w", studyUID, err)
		}
		if o == nil || o.StudyUID() != studyUID || !ValidUID(o.SeriesUID()) || !ValidUID(o.String(TagSOPClassUID)) {
			return nil, fmt.Errorf("sync: complete workitems of %s: the archive does not list report %s in it", studyUID, sop)
		}
		out = append(out, OutputRef{StudyUID: studyUID, SeriesUID: o.SeriesUID(), SOPClassUID: o.String(TagSOPClassUID), SOPInstanceUID: sop})
	}
	return out, nil
}

// CompleteOnDelivery returns the hook for Outbox.OnDelivered: when a
// reading report (not a consultation) is delivered, the workitems claimed
// for its study are completed. What fails here (the archive went away) is
// retried by CompletePending, which Worklist runs on every pull.
func (u *UPS) CompleteOnDelivery(ctx context.Context) func(studyUID, sopUID string) {
	return func(studyUID, sopUID string) {
		items, err := u.Store.Outbox()
		if err != nil {
			u.report(err)
			return
		}
		for _, it := range items {
			if it.SOPInstanceUID == sopUID && it.Kind != "report" {
				return
			}
		}
		if err := u.CompleteStudy(ctx, studyUID, sopUID); err != nil {
			u.report(err)
		}
	}
}

func (u *UPS) report(err error) {
	if u.OnError != nil {
		u.OnError(err)
		return
	}
	u.Client.log.Warn("completing workitem", "error", err)
}

// CompletePending completes every open claim whose study has a delivered
// reading report: after a crash between delivery and completion, or when the
// archive was unreachable at delivery.
func (u *UPS) CompletePending(ctx context.Context) error {
	claims, err := u.Store.WorkitemClaims(cache.ClaimPending, cache.ClaimHeld)
	if err != nil || len(claims) == 0 {
		return err
	}
	items, err := u.Store.Outbox()
	if err != nil {
		return fmt.Errorf("sync: complete workitems: %w", err)
	}
	delivered := map[string][]string{}
	for _, it := range items {
		if it.State == cache.OutboxDelivered && it.Kind == "report" {
			delivered[it.StudyInstanceUID] = append(delivered[it.StudyInstanceUID], it.SOPInstanceUID)
		}
	}
	var firstErr error
	done := map[string]bool{}
	for _, c := range claims {
		sops := delivered[c.StudyUID]
		if len(sops) == 0 || done[c.StudyUID] {
			continue
		}
		done[c.StudyUID] = true
		if err := u.CompleteStudy(ctx, c.StudyUID, sops...); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// Worklist is the puller's worklist from UPS-RS: open claims are completed
// where their report is delivered, claims left by a crash are resumed, the
// performer's SCHEDULED workitems are claimed, and every workitem held IN
// PROGRESS becomes an assignment (its Study holds what the workitem says
// of the patient; the puller asks the archive for the rest).
func (u *UPS) Worklist(ctx context.Context) ([]Assignment, error) {
	if err := u.CompletePending(ctx); err != nil && errors.Is(err, ErrOffline) {
		return nil, err
	}
	held := map[string]Workitem{}
	claims, err := u.Store.WorkitemClaims(cache.ClaimPending, cache.ClaimHeld)
	if err != nil {
		return nil, fmt.Errorf("sync: workitems: %w", err)
	}
	for _, c := range claims {
		w, err := u.Retrieve(ctx, c.WorkitemUID)
		if err != nil {
			if notFound(err) {
				u.setClaim(c.WorkitemUID, cache.ClaimLost, "the workitem no longer exists")
				continue
			}
			return nil, err
		}
		switch {
		case w.State == UPSCompleted:
			u.setClaim(c.WorkitemUID, cache.ClaimCompleted, "")
		case w.State == UPSCanceled:
			u.setClaim(c.WorkitemUID, cache.ClaimCanceled, "the workitem was CANCELED")
		case c.State == cache.ClaimHeld && w.State == UPSInProgress:
			held[w.UID] = w
		default: // pending: claim again with the stored Transaction UID
			if _, err := u.Claim(ctx, w); err == nil {
				held[w.UID] = w
			} else if !errors.Is(err, ErrWorkitemClaimed) && !errors.Is(err, ErrWorkitemState) {
				return nil, err
			}
		}
	}
	scheduled, err := u.Scheduled(ctx)
	if err != nil {
		return nil, err
	}
	for _, w := range scheduled {
		if _, ok := held[w.UID]; ok || !ValidUID(w.StudyUID) {
			continue
		}
		if _, err := u.Claim(ctx, w); err != nil {
			if errors.Is(err, ErrWorkitemClaimed) || errors.Is(err, ErrWorkitemState) {
				continue // someone else was quicker
			}
			return nil, err
		}
		held[w.UID] = w
	}
	var out []Assignment
	for _, w := range held {
		if !ValidUID(w.StudyUID) {
			continue
		}
		study := Object{TagStudyInstanceUID: {VR: "UI", Values: []string{w.StudyUID}}}
		for _, tag := range []string{TagPatientName, TagPatientID} {
			if a := w.Object[tag]; a != nil {
				study[tag] = a
			}
		}
		out = append(out, Assignment{StudyUID: w.StudyUID, Priority: w.Priority, Role: "assigned", Study: study, WorkitemUID: w.UID,
			AssignedAt: w.AssignedAt()})
	}
	return out, nil
}

// workitemWorklist is the puller's worklist when it comes from UPS-RS: the
// claimed workitems, each study described by the archive's QIDO-RS answer
// (counts, dates, modalities), ordered like any worklist.
func (p *Puller) workitemWorklist(ctx context.Context) ([]Assignment, error) {
	work, err := p.Workitems.Worklist(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []Assignment
	for _, a := range work {
		if seen[a.StudyUID] {
			continue // two workitems for one study: the study is read once
		}
		seen[a.StudyUID] = true
		q := Query{Match: []Param{{"StudyInstanceUID", a.StudyUID}}, IncludeFields: studyFields, Limit: 2}
		found, err := p.Client.SearchStudies(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, o := range found {
			if o.StudyUID() == a.StudyUID {
				a.Study = o
				break
			}
		}
		out = append(out, a)
	}
	SortWorklist(out)
	return out, nil
}

// recordWorkitem notes on the worklist row which workitem a study came from,
// where the store keeps that.
func (p *Puller) recordWorkitem(a Assignment) error {
	type workitemRecorder interface {
		SetWorkitemUID(studyUID, workitemUID string) error
	}
	if r, ok := p.Store.(workitemRecorder); ok && a.WorkitemUID != "" {
		return r.SetWorkitemUID(a.StudyUID, a.WorkitemUID)
	}
	return nil
}

// newTransactionUID returns a fresh UID under the 2.25 root (PS3.5 B.2): the
// decimal form of 128 random bits.
func newTransactionUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40 // a version 4 UUID
	b[8] = b[8]&0x3f | 0x80
	return "2.25." + new(big.Int).SetBytes(b[:]).String(), nil
}

// jsonDataset is a request payload in the DICOM JSON model (PS3.18 F.2).
type jsonDataset map[string]jsonAttr

type jsonAttr struct {
	VR    string `json:"vr"`
	Value []any  `json:"Value,omitempty"`
}

func cs(v string) jsonAttr { return jsonAttr{VR: "CS", Value: []any{v}} }
func ui(v string) jsonAttr { return jsonAttr{VR: "UI", Value: []any{v}} }
func lo(v string) jsonAttr { return jsonAttr{VR: "LO", Value: []any{v}} }
func sh(v string) jsonAttr { return jsonAttr{VR: "SH", Value: []any{v}} }
func pn(v string) jsonAttr {
	return jsonAttr{VR: "PN", Value: []any{map[string]string{"Alphabetic": v}}}
}

func dt(t time.Time) jsonAttr {
	return jsonAttr{VR: "DT", Value: []any{t.Format("20060102150405.000000-0700")}}
}

func sq(items ...jsonDataset) jsonAttr {
	v := make([]any, len(items))
	for i, it := range items {
		v[i] = it
	}
	return jsonAttr{VR: "SQ", Value: v}
}

func codeItem(c Code) jsonDataset {
	return jsonDataset{tagCodeValue: sh(c.Value), tagCodingSchemeDesignator: sh(c.Scheme), tagCodeMeaning: lo(c.Meaning)}
}
