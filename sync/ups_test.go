package sync

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"teleread/cache"
	"teleread/cache/report"
)

const (
	studyA  = "1.2.826.0.1.3680043.8.498.101"
	studyB  = "1.2.826.0.1.3680043.8.498.102"
	studyC  = "1.2.826.0.1.3680043.8.498.103"
	wiA1    = "1.2.826.0.1.3680043.8.498.201"
	wiA2    = "1.2.826.0.1.3680043.8.498.202"
	wiB     = "1.2.826.0.1.3680043.8.498.203"
	wiTaken = "1.2.826.0.1.3680043.8.498.204"
	wiDone  = "1.2.826.0.1.3680043.8.498.205"
	wiA3    = "1.2.826.0.1.3680043.8.498.206"
	srClass = "1.2.840.10008.5.1.4.1.1.88.11"
)

// seedWorklist fills the stand-in with Doe^Jane's and Roe^Max's workitems.
func seedWorklist(t *testing.T, s *upsStandIn) {
	s.add(t, wiA1, UPSScheduled, "", standWorkitemJSON([]string{"Doe^Jane"}, "MEDIUM", studyA, false))
	s.add(t, wiA2, UPSScheduled, "", standWorkitemJSON([]string{"Doe^Jane"}, "STAT", studyB, true))
	s.add(t, wiB, UPSScheduled, "", standWorkitemJSON([]string{"Roe^Max"}, "HIGH", studyC, false))
	s.add(t, wiTaken, UPSInProgress, "2.25.999", standWorkitemJSON([]string{"Doe^Jane"}, "HIGH", studyC, false))
	s.add(t, wiDone, UPSCompleted, "", standWorkitemJSON([]string{"Doe^Jane"}, "HIGH", studyC, false))
	s.add(t, wiA3, UPSScheduled, "", standWorkitemJSON([]string{"Roe^Max", "DOE^JANE"}, "LOW", studyC, false))
}

func openCache(t *testing.T, dir string) *cache.Cache {
	t.Helper()
	c, err := cache.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newUPS(t *testing.T, s *upsStandIn, store WorkitemStore, performer string) *UPS {
	return &UPS{Client: newTestClient(t, s.URL(), nil), Store: store, Performer: performer}
}

func TestUPSScheduledFindsReadersWorkitems(t *testing.T) {
	s := newUPSStandIn(t)
	seedWorklist(t, s)
	c := openCache(t, t.TempDir())
	defer c.Close()
	got, err := newUPS(t, s, c, "Doe^Jane").Scheduled(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		uid, study string
		priority   int
	}{
		{wiA1, studyA, PriorityRoutine}, // MEDIUM, study from Input Information
		{wiA2, studyB, PrioritySTAT},    // study from Referenced Request only
		{wiA3, studyC, PriorityLow},     // second of two performers
	}
	if len(got) != len(tests) {
		t.Fatalf("found %d workitems, want %d: %+v", len(got), len(tests), got)
	}
	for i, tt := range tests {
		if got[i].UID != tt.uid || got[i].StudyUID != tt.study || got[i].Priority != tt.priority || got[i].State != UPSScheduled {
			t.Errorf("workitem %d = %s study %s priority %d state %s, want %s %s %d", i, got[i].UID, got[i].StudyUID, got[i].Priority, got[i].State, tt.uid, tt.study, tt.priority)
		}
	}
	q := s.requests()[0].Query
	for _, want := range []string{"ScheduledHumanPerformersSequence.HumanPerformerName=Doe^Jane", "ProcedureStepState=SCHEDULED"} {
		if !strings.Contains(q, want) {
			t.Errorf("search query %q lacks %q", q, want)
		}
	}
}

func TestUPSClaim(t *testing.T) {
	s := newUPSStandIn(t)
	seedWorklist(t, s)
	ctx := context.Background()
	mine := openCache(t, t.TempDir())
	defer mine.Close()
	u := newUPS(t, s, mine, "Doe^Jane")
	w, err := u.Retrieve(ctx, wiA1)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := u.Claim(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	state, serverTx, _ := s.get(wiA1)
	claim, err := mine.WorkitemClaimByUID(wiA1)
	if err != nil {
		t.Fatal(err)
	}
	if state != UPSInProgress || serverTx != tx || claim.TransactionUID != tx || claim.State != cache.ClaimHeld || claim.StudyUID != studyA {
		t.Fatalf("after claim: archive %s tx %s; stored %+v; want IN PROGRESS with %s", state, serverTx, claim, tx)
	}
	again, err := u.Retrieve(ctx, wiA1)
	if err != nil || again.State != UPSInProgress || again.Object[tagTransactionUID] != nil {
		t.Fatalf("retrieved %+v, %v: want IN PROGRESS without the Transaction UID", again, err)
	}

	// Someone else (another workstation) tries the same workitem.
	theirs := openCache(t, t.TempDir())
	defer theirs.Close()
	_, err = newUPS(t, s, theirs, "Roe^Max").Claim(ctx, w)
	if !errors.Is(err, ErrWorkitemClaimed) {
		t.Fatalf("second claim: %v, want ErrWorkitemClaimed", err)
	}
	if _, serverTx, _ := s.get(wiA1); serverTx != tx {
		t.Errorf("second claim changed the Transaction UID to %s", serverTx)
	}
	if c, _ := theirs.WorkitemClaimByUID(wiA1); c.State != cache.ClaimLost {
		t.Errorf("the other claim is %q, want lost", c.State)
	}
	// Claims on workitems that cannot be claimed.
	for _, uid := range []string{wiTaken, wiDone} {
		w, _ := u.Retrieve(ctx, uid)
		if _, err := u.Claim(ctx, w); err == nil {
			t.Errorf("claim of %s succeeded", uid)
		}
	}
}

// TestUPSStandInStateTable checks the stand-in's transitions (PS3.4 Table
// CC.1.1-2 with the codes of PS3.18 Table 11.7.3-1) through the client.
func TestUPSStandInStateTable(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		state, tx  string // the workitem's
		want, send string // requested state and Transaction UID
		status     int
	}{
		{"claim", UPSScheduled, "", UPSInProgress, "2.25.1", 200},
		{"claim again", UPSInProgress, "2.25.1", UPSInProgress, "2.25.1", 409},
		{"complete wrong tx", UPSInProgress, "2.25.1", UPSCompleted, "2.25.2", 400},
		{"complete without final state attributes", UPSInProgress, "2.25.1", UPSCompleted, "2.25.1", 409},
		{"cancel without cancellation time", UPSInProgress, "2.25.1", UPSCanceled, "2.25.1", 409},
		{"complete unclaimed", UPSScheduled, "", UPSCompleted, "2.25.1", 409},
		{"reopen completed", UPSCompleted, "", UPSInProgress, "2.25.1", 409},
		{"complete completed", UPSCompleted, "", UPSCompleted, "2.25.1", 200},
		{"cancel completed", UPSCompleted, "", UPSCanceled, "2.25.1", 409},
		{"scheduled is not a target", UPSInProgress, "2.25.1", UPSScheduled, "2.25.1", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newUPSStandIn(t)
			s.add(t, wiA1, tt.state, tt.tx, standWorkitemJSON([]string{"Doe^Jane"}, "HIGH", studyA, false))
			u := newUPS(t, s, nil, "Doe^Jane")
			err := u.ChangeState(ctx, wiA1, tt.want, tt.send)
			if got := httpStatus(err); (tt.status == 200 && err != nil) || (tt.status != 200 && got != tt.status) {
				t.Fatalf("status %d (%v), want %d", got, err, tt.status)
			}
		})
	}
	s := newUPSStandIn(t)
	if err := newUPS(t, s, nil, "").ChangeState(ctx, wiA1, UPSInProgress, "2.25.1"); !notFound(err) {
		t.Errorf("unknown workitem: %v, want 404", err)
	}
}

// deliverReport signs a report for the study in c and records it delivered,
// as the outbox does, and registers it with the stand-in's QIDO-RS.
func deliverReport(t *testing.T, c *cache.Cache, s *upsStandIn, studyUID string) string {
	t.Helper()
	r := report.NewDraft(report.KindReport, studyUID, report.Observer{Name: "Doe^Jane"}, report.Template{}, time.Now())
	if err := r.Edit(report.Sections{Findings: "No acute finding.", Impression: "Normal."}); err != nil {
		t.Fatal(err)
	}
	doc, err := c.SignReport(r, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.MarkDelivered(doc.SOPInstanceUID, time.Now()); err != nil {
		t.Fatal(err)
	}
	s.addInstance(studyUID, doc.SeriesInstanceUID, srClass, doc.SOPInstanceUID)
	return doc.SOPInstanceUID
}

// completedWith checks that the workitem is COMPLETED through a state
// change carrying tx, and that its output names the report.
func completedWith(t *testing.T, s *upsStandIn, uid, tx, sop string) {
	t.Helper()
	state, _, o := s.get(uid)
	if state != UPSCompleted {
		t.Fatalf("workitem %s is %s, want COMPLETED", uid, state)
	}
	var sent []string
	for _, r := range s.requests() {
		if r.Path == "/dicom-web/workitems/"+uid+"/state" && r.State == UPSCompleted && r.Status == 200 {
			sent = append(sent, r.TxUID)
		}
	}
	if !slices.Equal(sent, []string{tx}) {
		t.Errorf("COMPLETED sent with Transaction UIDs %v, want [%s]", sent, tx)
	}
	perf := o.Items(tagUPSPerformedProcedureSequence)
	if len(perf) != 1 {
		t.Fatalf("no performed procedure")
	}
	outs := perf[0].Items(tagOutputInformationSequence)
	if len(outs) != 1 || outs[0].Items(TagReferencedSOPSequence)[0].String(TagReferencedSOPInstanceUID) != sop {
		t.Errorf("output information does not name report %s", sop)
	}
	if got := perf[0].Items(tagActualHumanPerformersSequence); len(got) != 1 || got[0].String(tagHumanPerformerName) != "Doe^Jane" {
		t.Errorf("actual human performer %v", got)
	}
}

func importStudy(t *testing.T, c *cache.Cache) string {
	t.Helper()
	res, err := c.ImportFile(filepath.Join(corpusDir, "files", "ct_small_explicit_le.dcm"))
	requireDependency(t, err)
	return res.StudyInstanceUID
}

func TestUPSCompleteAfterDelivery(t *testing.T) {
	s := newUPSStandIn(t)
	ctx := context.Background()
	c := openCache(t, t.TempDir())
	defer c.Close()
	study := importStudy(t, c)
	s.add(t, wiA1, UPSScheduled, "", standWorkitemJSON([]string{"Doe^Jane"}, "HIGH", study, false))
	s.add(t, wiA2, UPSScheduled, "", standWorkitemJSON([]string{"Doe^Jane"}, "HIGH", studyB, false))
	u := newUPS(t, s, c, "Doe^Jane")
	var hookErrs []error
	u.OnError = func(err error) { hookErrs = append(hookErrs, err) }
	work, err := u.Worklist(ctx)
	if err != nil || len(work) != 2 {
		t.Fatalf("worklist %+v, %v", work, err)
	}
	claim, _ := c.WorkitemClaimByUID(wiA1)

	sop := deliverReport(t, c, s, study)
	u.CompleteOnDelivery(ctx)(study, sop)
	if len(hookErrs) > 0 {
		t.Fatal(hookErrs)
	}
	completedWith(t, s, wiA1, claim.TransactionUID, sop)
	if c, _ := c.WorkitemClaimByUID(wiA1); c.State != cache.ClaimCompleted {
		t.Errorf("claim %q, want completed", c.State)
	}
	if state, _, _ := s.get(wiA2); state != UPSInProgress {
		t.Errorf("the other study's workitem is %s", state)
	}
	// Completing again (a second delivery, an addendum) changes nothing.
	if err := u.Complete(ctx, wiA1, nil); err != nil {
		t.Errorf("complete again: %v", err)
	}
}

// TestUPSCrashBetweenClaimAndCompletion: the workstation dies after claiming;
// the report is delivered later by a new process, which completes the
// workitem with the Transaction UID kept in the cache.
func TestUPSCrashBetweenClaimAndCompletion(t *testing.T) {
	s := newUPSStandIn(t)
	ctx := context.Background()
	dir := t.TempDir()
	c1 := openCache(t, dir)
	study := importStudy(t, c1)
	s.add(t, wiA1, UPSScheduled, "", standWorkitemJSON([]string{"Doe^Jane"}, "HIGH", study, false))
	w, err := newUPS(t, s, c1, "Doe^Jane").Retrieve(ctx, wiA1)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := newUPS(t, s, c1, "Doe^Jane").Claim(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	c1.Close() // the process is gone; only the cache remains

	c2 := openCache(t, dir)
	defer c2.Close()
	sop := deliverReport(t, c2, s, study) // delivered; the hook never ran
	u := newUPS(t, s, c2, "Doe^Jane")
	if _, err := u.Worklist(ctx); err != nil {
		t.Fatal(err)
	}
	completedWith(t, s, wiA1, tx, sop)
	claims := 0
	for _, r := range s.requests() {
		if r.State == UPSInProgress {
			claims++
		}
	}
	if claims != 1 {
		t.Errorf("%d claims sent, want 1", claims)
	}
}

// TestUPSClaimResumes covers the two crash windows of a claim: the
// Transaction UID stored but never sent, and the claim applied by the archive
// with its answer lost.
func TestUPSClaimResumes(t *testing.T) {
	ctx := context.Background()
	t.Run("stored, not sent", func(t *testing.T) {
		s := newUPSStandIn(t)
		seedWorklist(t, s)
		c := openCache(t, t.TempDir())
		defer c.Close()
		if _, err := c.BeginWorkitemClaim(wiA1, studyA, "2.25.4242"); err != nil {
			t.Fatal(err)
		}
		if _, err := newUPS(t, s, c, "Doe^Jane").Worklist(ctx); err != nil {
			t.Fatal(err)
		}
		if state, tx, _ := s.get(wiA1); state != UPSInProgress || tx != "2.25.4242" {
			t.Errorf("archive %s with %s, want IN PROGRESS with the stored Transaction UID", state, tx)
		}
	})
	t.Run("answer lost", func(t *testing.T) {
		s := newUPSStandIn(t)
		seedWorklist(t, s)
		s.dropNext("PUT "+UPSInProgress, 1)
		c := openCache(t, t.TempDir())
		defer c.Close()
		u := newUPS(t, s, c, "Doe^Jane")
		w, _ := u.Retrieve(ctx, wiA1)
		tx, err := u.Claim(ctx, w)
		if err != nil {
			t.Fatal(err)
		}
		_, serverTx, _ := s.get(wiA1)
		claim, _ := c.WorkitemClaimByUID(wiA1)
		if serverTx != tx || claim.State != cache.ClaimHeld {
			t.Errorf("archive tx %s, ours %s, claim %q; want ours held", serverTx, tx, claim.State)
		}
		var statuses []int
		for _, r := range s.requests() {
			if r.Method != "GET" {
				statuses = append(statuses, r.Status)
			}
		}
		// The dropped claim, its retry refused, the update that proves ownership.
		if want := []int{200, 409, 200}; !slices.Equal(statuses, want) {
			t.Errorf("requests answered %v, want %v", statuses, want)
		}
	})
}

func TestUPSCancel(t *testing.T) {
	s := newUPSStandIn(t)
	seedWorklist(t, s)
	ctx := context.Background()
	c := openCache(t, t.TempDir())
	defer c.Close()
	u := newUPS(t, s, c, "Doe^Jane")
	w, _ := u.Retrieve(ctx, wiA1)
	if _, err := u.Claim(ctx, w); err != nil {
		t.Fatal(err)
	}
	if err := u.Cancel(ctx, wiA1, "Wrong study assigned"); err != nil {
		t.Fatal(err)
	}
	state, _, o := s.get(wiA1)
	prog := o.Items(tagProcedureStepProgressInfoSeq)
	if state != UPSCanceled || len(prog) != 1 || prog[0].String(tagReasonForCancellation) != "Wrong study assigned" {
		t.Errorf("archive %s, progress %v", state, prog)
	}
	if claim, _ := c.WorkitemClaimByUID(wiA1); claim.State != cache.ClaimCanceled {
		t.Errorf("claim %q, want canceled", claim.State)
	}
	if err := u.Complete(ctx, wiA1, nil); !errors.Is(err, ErrWorkitemState) {
		t.Errorf("complete after cancel: %v", err)
	}
}

// TestPullFromUPSOrthanc takes the worklist from the UPS-RS stand-in and the
// studies from Orthanc: the reader's workitems are claimed, fetched in UPS
// priority order, and remembered on the worklist rows.
func TestPullFromUPSOrthanc(t *testing.T) {
	srv := sharedArchive(t)
	man := loadManifest(t)
	ct2 := man["ct2_j2k_lossy"].Info.StudyInstanceUID
	mr1 := man["mr1_jpeg_extended_wg04"].Info.StudyInstanceUID
	s := newUPSStandIn(t)
	s.add(t, wiA1, UPSScheduled, "", standWorkitemJSON([]string{"Doe^Jane"}, "LOW", ct2, false))
	s.add(t, wiA2, UPSScheduled, "", standWorkitemJSON([]string{"Doe^Jane"}, "STAT", mr1, true))
	s.add(t, wiB, UPSScheduled, "", standWorkitemJSON([]string{"Roe^Max"}, "HIGH", ct2, false))
	c := openCache(t, t.TempDir())
	defer c.Close()
	archive := newTestClient(t, srv.DICOMwebURL, nil)
	p := &Puller{Client: archive, Store: c, Reader: "Doe^Jane",
		Workitems: &UPS{Client: newTestClient(t, s.URL(), nil), Archive: archive, Store: c, Performer: "Doe^Jane"}}
	ctx := context.Background()
	for pass := 1; pass <= 2; pass++ {
		res, err := p.Pull(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{mr1, ct2}; res.Assigned != 2 || len(res.Failed) != 0 || !slices.Equal(res.Ready, want) {
			t.Fatalf("pass %d: result %+v, want ready %v", pass, res, want)
		}
	}
	for _, tt := range []struct {
		study, workitem string
		priority        int
	}{{mr1, wiA2, PrioritySTAT}, {ct2, wiA1, PriorityLow}} {
		row, err := c.WorkItemByUID(tt.study)
		if err != nil {
			t.Fatal(err)
		}
		uid, _ := c.WorkitemUID(tt.study)
		if row.State != StateReady || row.Priority != tt.priority || uid != tt.workitem {
			t.Errorf("study %s: state %s priority %d workitem %s, want ready %d %s", tt.study, row.State, row.Priority, uid, tt.priority, tt.workitem)
		}
		if state, _, _ := s.get(tt.workitem); state != UPSInProgress {
			t.Errorf("workitem %s is %s", tt.workitem, state)
		}
		// The turnaround starts at the workitem's Scheduled Procedure Step
		// Start DateTime (local time), not when this cache first saw it.
		at, err := time.Parse(time.RFC3339Nano, row.AssignedAt)
		if want := time.Date(2024, 1, 2, 8, 0, 0, 0, time.Local); err != nil || !at.Equal(want) || row.AssignedBy != "archive" {
			t.Errorf("study %s: assigned at %q by %s, want the workitem's %v", tt.study, row.AssignedAt, row.AssignedBy, want)
		}
	}
	if state, _, _ := s.get(wiB); state != UPSScheduled {
		t.Errorf("another reader's workitem is %s", state)
	}
	claims := 0
	for _, r := range s.requests() {
		if r.State == UPSInProgress {
			claims++
		}
	}
	if claims != 2 {
		t.Errorf("%d claims sent over two pulls, want 2", claims)
	}
}
