package app

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"teleread/cache"
	"teleread/cache/report"
	tsync "teleread/sync"
	"teleread/sync/signin"
)

// The report panel's cache writes and reads (sign, addendum, retry, the
// signing dialog's completeness), the viewer's first completeness read of a
// study and the sign-in panel's session read run off the UI goroutine: each
// scenario holds one of them in a real window, shows that the window still
// answers and that nothing is taken for granted meanwhile, then lets it go.

func init() {
	guiScenarios["sign-off-ui"] = signOffUIScenario
	guiScenarios["sign-dialog-checking"] = signDialogCheckingScenario
	guiScenarios["addendum-retry-off-ui"] = addendumRetryOffUIScenario
	guiScenarios["first-completeness-off-ui"] = firstCompletenessOffUIScenario
	guiScenarios["signin-status-off-ui"] = signInStatusOffUIScenario
	guiScenarios["draft-off-ui"] = draftOffUIScenario
}

// TestSignOffUIGoroutine: the signature is stored on a goroutine that is not
// the UI goroutine; while the cache holds it the window answers, Sign and the
// text are disabled, and neither a second tap, Ctrl+Enter nor Enter asks to
// sign again: released, the report is signed once (one SR in the outbox). A
// signature the cache refuses gives the text back as typed, with the error
// in the status line.
func TestSignOffUIGoroutine(t *testing.T) {
	runInRealWindow(t, "sign-off-ui")
}

// TestSigningDialogWaitsForCompleteness: the signing dialog reads what the
// cache holds of the study off the UI goroutine; until the read answers it
// says it is checking and cannot be confirmed (Enter signs nothing), and
// then it warns of the incomplete study as before.
func TestSigningDialogWaitsForCompleteness(t *testing.T) {
	runInRealWindow(t, "sign-dialog-checking")
}

// TestAddendumAndRetryOffUIGoroutine: an addendum is stored, and refused
// deliveries put back in the outbox, off the UI goroutine, the window
// answering meanwhile and the buttons disabled until the cache answered.
func TestAddendumAndRetryOffUIGoroutine(t *testing.T) {
	runInRealWindow(t, "addendum-retry-off-ui")
}

// TestFirstCompletenessReadOffUIGoroutine: the viewer's first read of what
// the cache holds of a study shown beside the one opened (the prior
// compared, still downloading) runs off the UI goroutine, and until it
// answers the prior's overlay says its completeness is unknown, never that
// it is complete.
func TestFirstCompletenessReadOffUIGoroutine(t *testing.T) {
	dir := t.TempDir()
	writeSeries(t, dir, seriesSpec{"cur", "TLR-CMP-9", compareCurrent, compareCurrent + ".1", "20260110", "CT CHEST", steps(0, 5, 2)})
	writeSeries(t, dir, seriesSpec{"prior", "TLR-CMP-9", comparePrior, comparePrior + ".1", "20250110", "CT CHEST", steps(0, 5, 1)})
	runInRealWindow(t, "first-completeness-off-ui", "TELEREAD_GUI_SERIES="+dir)
}

// The studies of TestFirstCompletenessReadOffUIGoroutine.
const compareCurrent, comparePrior = "1.2.826.0.1.3680043.10.1.91", "1.2.826.0.1.3680043.10.1.92"

// TestDraftWrittenOffUIGoroutine: leaving a study writes its draft off the
// UI goroutine (the window answers while the write is held), and the study
// opened again shows the text typed last: its report is read only after
// the draft is written.
func TestDraftWrittenOffUIGoroutine(t *testing.T) {
	runInRealWindow(t, "draft-off-ui")
}

// TestSignInStatusOffUIGoroutine: the sign-in panel reads the stored session
// (the keyring, or the sealed store) off the UI goroutine.
func TestSignInStatusOffUIGoroutine(t *testing.T) {
	runInRealWindow(t, "signin-status-off-ui")
}

// gate holds the calls of one operation until released, saying on which
// goroutine each ran; err, when set, is what the held call then returns
// instead of reaching the cache.
type gate struct {
	ran     chan uint64
	release chan struct{}
	once    gosync.Once
	err     error
}

func newGate(err error) *gate {
	return &gate{ran: make(chan uint64, 16), release: make(chan struct{}), err: err}
}

func (g *gate) free() { g.once.Do(func() { close(g.release) }) }

// pass waits for the gate (called by the held operation).
func (g *gate) pass() error {
	g.ran <- goroutineID()
	<-g.release
	return g.err
}

// heldStore is the report panel's cache with gates on chosen operations, and
// a count of the calls of each.
type heldStore struct {
	reportStore
	mu    gosync.Mutex
	gates map[string]*gate
	calls map[string]int
}

func newHeldStore(inner reportStore) *heldStore {
	return &heldStore{reportStore: inner, gates: map[string]*gate{}, calls: map[string]int{}}
}

// hold puts a gate on op ("SignReport", ...) and returns it.
func (h *heldStore) hold(op string, err error) *gate {
	g := newGate(err)
	h.mu.Lock()
	h.gates[op] = g
	h.mu.Unlock()
	return g
}

func (h *heldStore) count(op string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls[op]
}

func (h *heldStore) enter(op string) error {
	h.mu.Lock()
	h.calls[op]++
	g := h.gates[op]
	h.mu.Unlock()
	if g == nil {
		return nil
	}
	return g.pass()
}

func (h *heldStore) SaveDraft(r *report.Report) error {
	if err := h.enter("SaveDraft"); err != nil {
		return err
	}
	return h.reportStore.SaveDraft(r)
}

func (h *heldStore) SignReport(r *report.Report, at time.Time) (report.Document, error) {
	if err := h.enter("SignReport"); err != nil {
		return report.Document{}, err
	}
	return h.reportStore.SignReport(r, at)
}

func (h *heldStore) AddAddendum(r *report.Report, text string, signer report.Observer, at time.Time) (report.Document, error) {
	if err := h.enter("AddAddendum"); err != nil {
		return report.Document{}, err
	}
	return h.reportStore.AddAddendum(r, text, signer, at)
}

func (h *heldStore) RetryFailed(sop string) error {
	if err := h.enter("RetryFailed"); err != nil {
		return err
	}
	return h.reportStore.RetryFailed(sop)
}

func (h *heldStore) StudyCompleteness(uid string) (cache.Completeness, error) {
	if err := h.enter("StudyCompleteness"); err != nil {
		return cache.Completeness{}, err
	}
	return h.reportStore.StudyCompleteness(uid)
}

// uiGoroutine is the UI goroutine's number.
func (rw *realWindow) uiGoroutine() uint64 {
	var id uint64
	rw.do(func() { id = goroutineID() })
	return id
}

// heldOffUI waits for a held call of g and checks that it did not run on the
// UI goroutine.
func (rw *realWindow) heldOffUI(g *gate, what string, uiG uint64) {
	select {
	case id := <-g.ran:
		if id == uiG {
			rw.errorf("%s ran on the UI goroutine (%d)", what, uiG)
		}
	case <-time.After(20 * time.Second):
		rw.fatalf("%s never reached the cache", what)
	}
}

// answers checks that the UI goroutine runs posted work within 5 s while g
// holds a call; if it does not, g is released so that the scenario can end.
func (rw *realWindow) answers(g *gate, while string) {
	done := make(chan struct{})
	go func() {
		fyne.DoAndWait(func() {})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		g.free()
		rw.fatalf("the window did not answer for 5 s while %s was held", while)
	}
}

// importStudy imports a sample file and returns its study's UID.
func (rw *realWindow) importStudy(name string) string {
	src := filepath.Join(rw.samples, name)
	res, err := rw.cache.ImportFile(src)
	if err != nil {
		rw.fatalf("import %s: %v", src, err)
	}
	return res.StudyInstanceUID
}

// openForReport opens a study and waits until its report is in the panel;
// the panel's cache is then a heldStore.
func (rw *realWindow) openForReport(uid string) *heldStore {
	rw.reloadWorklist()
	rw.do(func() { rw.ws.openStudy(uid) })
	p := rw.ws.viewer.report
	rw.waitUntil("the study's report in the panel", 20*time.Second, func() bool {
		return p.rep != nil && p.study.StudyInstanceUID == uid && p.rep.StudyInstanceUID == uid
	})
	var h *heldStore
	rw.do(func() {
		h = newHeldStore(p.cache)
		p.cache = h
	})
	return h
}

// makeIncomplete puts a study on the worklist with one of its two instances
// in the cache, as the puller does while it downloads.
func (rw *realWindow) makeIncomplete(uid string) {
	if err := rw.cache.PutWorkItem(uid, "Doe^Jane", "assigned", "", tsync.PrioritySTAT, nil); err != nil {
		rw.fatalf("%v", err)
	}
	if err := rw.cache.SetStudyState(uid, tsync.StateDownloading, 1, 2, ""); err != nil {
		rw.fatalf("%v", err)
	}
}

// signedOutbox counts the outbox rows of a study.
func (rw *realWindow) signedOutbox(uid string) int {
	all, err := rw.cache.Outbox()
	if err != nil {
		rw.fatalf("%v", err)
	}
	n := 0
	for _, it := range all {
		if it.StudyInstanceUID == uid {
			n++
		}
	}
	return n
}

// confirmSign taps Sign, waits for the signing dialog to know the study,
// and confirms it with Enter, without waiting for the UI goroutine to
// finish handling the key (a cache call held there would hold it).
func (rw *realWindow) confirmSign(b *widget.Button) {
	rw.do(func() { test.Tap(b) })
	rw.waitUntil("the signing dialog", 20*time.Second, func() bool { pr, _ := rw.topOverlayPrompt(); return pr != nil && !pr.checking })
	fyne.Do(func() {
		if f := rw.win.Canvas().Focused(); f != nil {
			f.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
		}
	})
}

// asksAgain tries every way of asking to sign while a signature is held,
// and checks that none opened a dialog.
func (rw *realWindow) asksAgain(b *widget.Button, what string) {
	p := rw.ws.viewer.report
	rw.do(func() {
		if !b.Disabled() {
			rw.errorf("%s: the button is enabled while a signature is being stored", what)
		}
		test.Tap(b)
		test.Tap(b)
		p.askSign()
		p.sign()
		p.signAddendum()
	})
	rw.do(func() { rw.ws.focusViewer() })
	rw.shortcut(&desktop.CustomShortcut{KeyName: fyne.KeyReturn, Modifier: fyne.KeyModifierControl})
	rw.do(func() {
		if pr, _ := rw.topOverlayPrompt(); pr != nil || p.confirming != nil {
			rw.errorf("%s: a signing dialog opened while a signature was being stored", what)
		}
	})
}

// closeErrorDialog closes the dialog on top (the error shown).
func (rw *realWindow) closeErrorDialog() {
	rw.do(func() {
		if top := rw.topOverlay(); top != nil {
			rw.win.Canvas().Overlays().Remove(top)
		}
	})
}

func signOffUIScenario(rw *realWindow) {
	uiG := rw.uiGoroutine()
	uid := rw.importStudy("ct_small_explicit_le.dcm")
	h := rw.openForReport(uid)
	p := rw.ws.viewer.report
	const findings, impression = "No acute finding.", "Normal."
	rw.do(func() {
		p.findings.SetText(findings)
		p.impression.SetText(impression)
	})

	// A signature the cache refuses: the text stays, Sign comes back, the
	// status line says what failed.
	refused := h.hold("SignReport", errors.New("disk full"))
	rw.confirmSign(p.signBtn)
	rw.heldOffUI(refused, "signing", uiG)
	rw.answers(refused, "signing")
	rw.do(func() {
		if !p.findings.Disabled() || p.rep.State != report.StateDraft {
			rw.errorf("while signing: findings disabled %v, report %s; want disabled and a draft", p.findings.Disabled(), p.rep.State)
		}
	})
	rw.asksAgain(p.signBtn, "signing")
	refused.free()
	rw.waitUntil("the refused signature answered", 20*time.Second, func() bool { return p.signing == nil })
	rw.do(func() {
		if p.rep.State != report.StateDraft || p.findings.Text != findings || p.impression.Text != impression {
			rw.errorf("after a refused signature: report %s, findings %q, impression %q; want a draft with the text as typed",
				p.rep.State, p.findings.Text, p.impression.Text)
		}
		if p.signBtn.Disabled() || p.findings.Disabled() {
			rw.errorf("after a refused signature: Sign disabled %v, findings disabled %v; want both enabled", p.signBtn.Disabled(), p.findings.Disabled())
		}
		if msg := rw.ws.status.message.Text; !strings.Contains(msg, "sign: disk full") {
			rw.errorf("after a refused signature the status line says %q; want the operation and the error", msg)
		}
	})
	if n := h.count("SignReport"); n != 1 {
		rw.errorf("the cache was asked to sign %d times; want 1", n)
	}
	if n := rw.signedOutbox(uid); n != 0 {
		rw.errorf("a refused signature left %d SRs in the outbox", n)
	}
	rw.closeErrorDialog()

	// Signed: once, whatever the reader clicks while the cache works.
	held := h.hold("SignReport", nil)
	rw.confirmSign(p.signBtn)
	rw.heldOffUI(held, "signing", uiG)
	rw.answers(held, "signing")
	rw.asksAgain(p.signBtn, "signing")
	held.free()
	rw.waitUntil("the report signed", 20*time.Second, func() bool { return p.signing == nil })
	rw.do(func() {
		if p.rep.State != report.StateSigned || p.findings.Text != findings {
			rw.errorf("after signing: report %s, findings %q; want signed with the findings as typed", p.rep.State, p.findings.Text)
		}
		if !p.signBtn.Disabled() || p.addBtn.Disabled() {
			rw.errorf("after signing: Sign disabled %v, addendum enabled %v", p.signBtn.Disabled(), !p.addBtn.Disabled())
		}
	})
	if n := h.count("SignReport"); n != 2 {
		rw.errorf("the cache was asked to sign %d times; want 2 (the refused one and one more)", n)
	}
	if n := rw.signedOutbox(uid); n != 1 {
		rw.errorf("the outbox holds %d SRs of the study; want exactly 1", n)
	}
}

func signDialogCheckingScenario(rw *realWindow) {
	uiG := rw.uiGoroutine()
	uid := rw.importStudy("ct_small_explicit_le.dcm")
	rw.makeIncomplete(uid)
	h := rw.openForReport(uid)
	p := rw.ws.viewer.report
	rw.do(func() { p.findings.SetText("No acute finding.") })

	check := h.hold("StudyCompleteness", nil)
	defer check.free()
	fyne.Do(func() { test.Tap(p.signBtn) })
	rw.heldOffUI(check, "the signing dialog's completeness read", uiG)
	rw.answers(check, "the signing dialog's completeness read")
	rw.waitUntil("the signing dialog", 10*time.Second, func() bool { pr, _ := rw.topOverlayPrompt(); return pr != nil })
	rw.do(func() {
		pr, shown := rw.topOverlayPrompt()
		if !pr.checking || !strings.Contains(shown, "Checking") {
			rw.errorf("before the completeness read answered the signing dialog says %q; want that it is checking", shown)
		}
		walk(rw.topOverlay(), func(o fyne.CanvasObject) {
			if b, ok := o.(*widget.Button); ok && strings.HasPrefix(b.Text, "Sign") && !b.Disabled() {
				rw.errorf("before the completeness read answered the dialog offers %q", b.Text)
			}
		})
		if rw.win.Canvas().Focused() != pr {
			rw.errorf("the checking dialog does not hold the keyboard (focus on %T)", rw.win.Canvas().Focused())
		}
	})
	rw.key(fyne.KeyReturn) // the reader's Enter before the cache answered
	rw.do(func() {
		if p.rep.State != report.StateDraft || p.signing != nil {
			rw.errorf("Enter before the completeness read answered signed: report %s", p.rep.State)
		}
	})
	if n := h.count("SignReport"); n != 0 {
		rw.errorf("Enter before the completeness read answered asked the cache to sign (%d)", n)
	}
	check.free()
	rw.checkSignDialog("1 of 2 instances is not in the cache", "")
	rw.do(func() {
		_, shown := rw.topOverlayPrompt()
		if !strings.Contains(shown, "incomplete study") {
			rw.errorf("the signing dialog of an incomplete study says %q; want the incomplete study's title", shown)
		}
	})
	rw.key(fyne.KeyEscape)
	rw.do(func() {
		if rw.topOverlay() != nil || p.rep.State != report.StateDraft || p.confirming != nil {
			rw.errorf("Esc: dialog %v, report %s; want closed and a draft", rw.topOverlay() != nil, p.rep.State)
		}
	})

	// Cancelled while checking: the answer opens nothing.
	check = h.hold("StudyCompleteness", nil)
	defer check.free()
	fyne.Do(func() { test.Tap(p.signBtn) })
	rw.heldOffUI(check, "the signing dialog's completeness read", uiG)
	rw.waitUntil("the checking dialog", 10*time.Second, func() bool { pr, _ := rw.topOverlayPrompt(); return pr != nil })
	rw.key(fyne.KeyEscape)
	check.free()
	time.Sleep(200 * time.Millisecond)
	rw.do(func() {
		if rw.topOverlay() != nil || p.confirming != nil {
			rw.errorf("a signing dialog cancelled while checking opened again when the read answered")
		}
	})
}

func addendumRetryOffUIScenario(rw *realWindow) {
	uiG := rw.uiGoroutine()
	uid := rw.importStudy("ct_small_explicit_le.dcm")
	h := rw.openForReport(uid)
	p := rw.ws.viewer.report
	rw.do(func() { p.findings.SetText("No acute finding.") })
	rw.confirmSign(p.signBtn)
	rw.waitUntil("the report signed", 20*time.Second, func() bool { return p.signing == nil && p.rep.State == report.StateSigned })

	// The addendum.
	const text = "Comparison with the prior: unchanged."
	rw.do(func() { p.addendum.SetText(text) })
	held := h.hold("AddAddendum", nil)
	rw.confirmSign(p.addBtn)
	rw.heldOffUI(held, "the addendum", uiG)
	rw.answers(held, "the addendum")
	rw.do(func() {
		if p.addendum.Text != text || !p.addendum.Disabled() {
			rw.errorf("while the addendum is stored: text %q, disabled %v; want the text kept and disabled", p.addendum.Text, p.addendum.Disabled())
		}
	})
	rw.asksAgain(p.addBtn, "the addendum")
	held.free()
	rw.waitUntil("the addendum signed", 20*time.Second, func() bool { return p.signing == nil })
	rw.do(func() {
		if len(p.rep.Documents) != 2 || p.addendum.Text != "" || !strings.Contains(p.history.Text, "addendum signed") {
			rw.errorf("after the addendum: %d documents, addendum field %q, history %q; want 2, empty, the addendum listed",
				len(p.rep.Documents), p.addendum.Text, p.history.Text)
		}
	})
	if n := h.count("AddAddendum"); n != 1 {
		rw.errorf("the cache was asked for %d addenda; want 1", n)
	}
	if n := rw.signedOutbox(uid); n != 2 {
		rw.errorf("the outbox holds %d SRs of the study; want 2 (the report and its addendum)", n)
	}

	// The archive refused both; Retry delivery puts them back.
	all, err := rw.cache.Outbox()
	if err != nil {
		rw.fatalf("%v", err)
	}
	for _, it := range all {
		if err := rw.cache.MarkFailed(it.SOPInstanceUID, "refused"); err != nil {
			rw.fatalf("%v", err)
		}
	}
	rw.do(p.refreshDelivery)
	rw.waitUntil("Retry delivery offered", 20*time.Second, func() bool { return p.retryBtn.Visible() })
	retry := h.hold("RetryFailed", nil)
	fyne.Do(func() { test.Tap(p.retryBtn) })
	rw.heldOffUI(retry, "retrying delivery", uiG)
	rw.answers(retry, "retrying delivery")
	rw.do(func() {
		if !p.retryBtn.Disabled() {
			rw.errorf("Retry delivery is enabled while a retry is under way")
		}
	})
	retry.free()
	rw.waitUntil("the retry done", 20*time.Second, func() bool { return !p.retrying })
	all, err = rw.cache.Outbox()
	if err != nil {
		rw.fatalf("%v", err)
	}
	for _, it := range all {
		if it.StudyInstanceUID == uid && it.State != cache.OutboxPending {
			rw.errorf("after Retry delivery an SR is %s; want pending", it.State)
		}
	}
}

func firstCompletenessOffUIScenario(rw *realWindow) {
	uiG := rw.uiGoroutine()
	if sum := rw.cache.ImportPaths([]string{os.Getenv("TELEREAD_GUI_SERIES")}, nil); sum.Imported != 3 {
		rw.fatalf("import: %+v", sum)
	}
	// The prior is on the worklist, one of its two instances cached.
	if err := rw.cache.PutWorkItem(comparePrior, "Doe^Jane", "prior", compareCurrent, tsync.PrioritySTAT, map[string]string{"PatientID": "TLR-CMP-9"}); err != nil {
		rw.fatalf("%v", err)
	}
	if err := rw.cache.SetStudyState(comparePrior, tsync.StateDownloading, 1, 2, ""); err != nil {
		rw.fatalf("%v", err)
	}
	s := rw.ws.viewer
	read := newGate(nil)
	defer read.free()
	s.reader.setReadComplete(func(id string) (cache.Completeness, error) {
		read.pass()
		return rw.cache.StudyCompleteness(id)
	})
	rw.reloadWorklist()
	rw.do(func() { rw.ws.openStudy(compareCurrent) })
	rw.waitUntil("the study open with its prior", 20*time.Second, func() bool {
		return s.study.StudyInstanceUID == compareCurrent && s.prior != nil && s.prior.StudyInstanceUID == comparePrior
	})
	fyne.Do(s.toggleCompare)
	rw.heldOffUI(read, "the prior's first completeness read", uiG)
	rw.answers(read, "the prior's first completeness read")
	right := s.viewports[1]
	rw.waitUntil("the prior drawn", 20*time.Second, func() bool { return right.study == comparePrior && right.hasLast })
	rw.do(func() {
		if c, known := s.completenessOf(comparePrior); known {
			rw.errorf("before the read answered the prior's completeness is known: %+v", c)
		}
		if !hasOverlay(right, "completeness unknown") || hasOverlay(right, "incomplete") {
			rw.errorf("before the read answered the prior's overlay says %v; want the completeness unknown", overlayLines(right))
		}
	})
	read.free()
	rw.waitUntil("the completeness read answered", 20*time.Second, func() bool { _, known := s.completenessOf(comparePrior); return known })
	rw.do(func() { rw.checkOverlay(right, "Im 1/1", "incomplete 1/2") })
}

// heldSessions is a sign-in store whose reads are held by a gate.
type heldSessions struct{ g *gate }

func (s heldSessions) Load(string) ([]byte, error) {
	s.g.pass()
	return nil, signin.ErrNoRecord
}
func (heldSessions) Save(string, []byte) error { return nil }
func (heldSessions) Delete(string) error       { return signin.ErrNoRecord }

func signInStatusOffUIScenario(rw *realWindow) {
	uiG := rw.uiGoroutine()
	read := newGate(nil)
	defer read.free()
	const issuer = "http://127.0.0.1:9/oidc"
	s, err := signin.New(signin.Config{Issuer: issuer, ClientID: "teleread", Store: heldSessions{read}})
	if err != nil {
		rw.fatalf("%v", err)
	}
	made := make(chan *signInPanel, 1)
	fyne.Do(func() { made <- newSignInPanel(s, func() {}, func(error) {}) })
	rw.heldOffUI(read, "the sign-in status read", uiG)
	rw.answers(read, "the sign-in status read")
	p := <-made
	rw.do(func() {
		if strings.Contains(p.status.Text, "Not signed in") {
			rw.errorf("before the session was read the panel says %q", p.status.Text)
		}
	})
	read.free()
	rw.waitUntil("the panel says nobody is signed in", 20*time.Second, func() bool {
		return p.status.Text == "Not signed in to "+issuer
	})
}

func draftOffUIScenario(rw *realWindow) {
	uiG := rw.uiGoroutine()
	uid := rw.importStudy("ct_small_explicit_le.dcm")
	h := rw.openForReport(uid)
	p := rw.ws.viewer.report
	rw.do(func() { p.saver.use(h) })
	held := h.hold("SaveDraft", nil)
	defer held.free()
	const text = "Typed just before leaving the study."
	rw.do(func() { p.findings.SetText(text) })
	fyne.Do(rw.ws.showWorklist) // the draft is handed over on leaving
	rw.heldOffUI(held, "writing the draft", uiG)
	rw.answers(held, "writing the draft")
	rw.do(func() {
		if rw.ws.onViewer {
			rw.errorf("Q did not bring the worklist back while the draft was being written")
		}
	})
	// Opened again while the draft is still being written: the report is
	// read once it is.
	fyne.Do(func() { rw.ws.openStudy(uid) })
	time.Sleep(100 * time.Millisecond)
	held.free()
	rw.waitUntil("the study opened again with its report", 20*time.Second, func() bool {
		return p.study.StudyInstanceUID == uid && p.rep != nil && rw.ws.onViewer
	})
	rw.do(func() {
		if p.findings.Text != text {
			rw.errorf("the study opened again shows the findings %q; want the text typed last %q", p.findings.Text, text)
		}
	})
	r, err := rw.cache.LoadReport(uid, report.KindReport)
	if err != nil || r.Sections.Findings != text {
		rw.errorf("the cache's draft: %v, %v; want the text typed last", r, err)
	}
}
