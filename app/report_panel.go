package app

import (
	"errors"
	"fmt"
	"strings"
	gosync "sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"teleread/app/internal/format"
	"teleread/app/internal/mailbox"
	"teleread/cache"
	"teleread/cache/report"
)

// autosaveDelay is the longest a typed change waits before its draft is written
// to the cache: a crash loses at most this much typing. The timer is not reset
// by further typing, so continuous typing is saved this often.
const autosaveDelay = 750 * time.Millisecond

// reportStore is what the report panel needs of the cache: the study's
// report, its drafts, signatures and addenda, the outbox that delivers them,
// and how much of the study is cached (the signing dialog says). The panel
// calls it off the UI goroutine.
type reportStore interface {
	LoadReport(studyUID string, kind report.Kind) (*report.Report, error)
	SaveDraft(r *report.Report) error
	SignReport(r *report.Report, at time.Time) (report.Document, error)
	AddAddendum(r *report.Report, text string, signer report.Observer, at time.Time) (report.Document, error)
	Outbox() ([]cache.OutboxItem, error)
	RetryFailed(sop string) error
	StudyCompleteness(studyUID string) (cache.Completeness, error)
}

var _ reportStore = (*cache.Cache)(nil)

// draftStore is where the draft saver writes.
type draftStore interface {
	SaveDraft(r *report.Report) error
}

// draftSaver writes drafts to the cache on a goroutine of its own, newest first:
// a draft posted while another is being written replaces any still waiting.
type draftSaver struct {
	onErr func(error) // called on the saver goroutine, or settle's caller

	write gosync.Mutex                    // held while a draft is written
	c     draftStore                      // guarded by write
	inbox *mailbox.Latest[*report.Report] // the newest snapshot not yet written
	stop  chan struct{}
	done  chan struct{}
}

func newDraftSaver(c draftStore, onErr func(error)) *draftSaver {
	s := &draftSaver{c: c, onErr: onErr, inbox: mailbox.New[*report.Report](), stop: make(chan struct{}), done: make(chan struct{})}
	go s.run()
	return s
}

func (s *draftSaver) run() {
	defer close(s.done)
	for {
		select {
		case <-s.stop:
			return
		case <-s.inbox.Ready():
		}
		s.settle()
	}
}

// post queues a snapshot of a draft for writing.
func (s *draftSaver) post(r *report.Report) { s.inbox.Put(r) }

// settle writes the snapshot waiting, if any, after any write under way:
// once it returns, the cache holds the newest draft posted before.
func (s *draftSaver) settle() {
	s.write.Lock()
	defer s.write.Unlock()
	if r, _ := s.inbox.Take(); r != nil {
		// A draft signed meanwhile is not written back (ErrSigned).
		if err := s.c.SaveDraft(r); err != nil && !errors.Is(err, report.ErrSigned) && s.onErr != nil {
			s.onErr(err)
		}
	}
}

// use makes the saver write to c (tests: to hold the writes).
func (s *draftSaver) use(c draftStore) {
	s.write.Lock()
	s.c = c
	s.write.Unlock()
}

// drop forgets a queued snapshot (the report was just signed).
func (s *draftSaver) drop() {
	s.write.Lock()
	defer s.write.Unlock()
	s.inbox.Clear()
}

// close stops the saver once the snapshot waiting is written.
func (s *draftSaver) close() {
	close(s.stop)
	<-s.done
	s.settle()
}

// snapshot copies a report so that the saver's copy never shares a slice the
// UI goroutine appends to.
func snapshot(r *report.Report) *report.Report {
	c := *r
	c.Documents = append([]report.Document(nil), r.Documents...)
	c.Events = append([]report.Event(nil), r.Events...)
	return &c
}

// reportPanel is the report beside the images: template, findings, impression,
// recommendation, sign, addenda, delivery state. Drafts, signed reports and
// their SR documents live in the cache (its reports and outbox tables), so a
// closed window or a crash loses at most the last autosaveDelay of typing.
type reportPanel struct {
	host      reportHost  // what the panel needs of the workstation
	cache     reportStore // set on the UI goroutine; each cache call takes the value it had when asked
	now       func() time.Time
	saver     *draftSaver
	templates []report.Template

	study   cache.Study
	kind    report.Kind
	rep     *report.Report
	loading bool
	dirty   bool // typed since the last snapshot was posted
	timer   *time.Timer

	title    *canvas.Text
	state    *widget.Label
	delivery *widget.Label
	retryBtn *widget.Button
	// deliveryAsk numbers the outbox reads refreshDelivery starts: an
	// answer is shown only if no newer read was started after it.
	deliveryAsk uint64
	template    *widget.Select
	findings    *reportEntry
	impression  *reportEntry
	recommend   *reportEntry
	signBtn     *widget.Button
	addendum    *reportEntry
	addBtn      *widget.Button
	history     *widget.Label
	content     fyne.CanvasObject

	confirming *signPrompt // the signing dialog while it is open (sign.go)

	// signing is the report whose signature or addendum is being stored,
	// nil when none: no other signature is asked for meanwhile, so a
	// double click or a second Ctrl+Enter cannot sign twice. retrying says
	// a retry of refused deliveries is under way. inflight counts the
	// cache writes under way, which close waits for.
	signing  *report.Report
	retrying bool
	inflight gosync.WaitGroup
}

// reportHost is what the report panel needs of the workstation: its window
// for dialogs, the status line, the outbox to be told of a signed report, the
// keyboard back to the images, and who is signing.
type reportHost interface {
	window() fyne.Window
	note(msg string)
	reportSigned()
	focusViewer()
	signer() report.Observer
}

func newReportPanel(host reportHost, c reportStore, now func() time.Time) *reportPanel {
	p := &reportPanel{host: host, cache: c, now: now, kind: report.KindReport}
	p.saver = newDraftSaver(c, func(err error) { ui(func() { p.host.note(err.Error()) }) })
	p.templates, _ = report.BuiltinTemplates()
	var names []string
	for _, t := range p.templates {
		names = append(names, t.Name)
	}
	p.title = canvas.NewText("Report", theme.Color(theme.ColorNameForeground))
	p.title.TextStyle.Bold = true
	p.title.TextSize = 16
	p.state = widget.NewLabel("")
	p.delivery = widget.NewLabel("")
	p.delivery.Wrapping = fyne.TextWrapWord
	p.retryBtn = widget.NewButtonWithIcon("Retry delivery", theme.MailSendIcon(), p.retryDelivery)
	p.retryBtn.Hide()
	p.template = widget.NewSelect(names, p.applyTemplate)
	p.template.PlaceHolder = "Template"
	p.findings = newReportEntry("Findings", p.askSign)
	p.impression = newReportEntry("Impression", p.askSign)
	p.recommend = newReportEntry("Recommendation", p.askSign)
	p.findings.SetMinRowsVisible(10)
	p.impression.SetMinRowsVisible(4)
	p.recommend.SetMinRowsVisible(2)
	for _, e := range []*reportEntry{p.findings, p.impression, p.recommend} {
		e.OnChanged = func(string) { p.edited() }
	}
	// Both buttons ask first (sign.go): a signature cannot be taken back.
	p.signBtn = widget.NewButtonWithIcon("Sign report…", theme.ConfirmIcon(), p.askSign)
	p.addendum = newReportEntry("Addendum (after signing)", p.askSign)
	p.addendum.SetMinRowsVisible(2)
	p.addBtn = widget.NewButton("Sign addendum…", p.askSign)
	p.history = widget.NewLabel("")
	p.history.Wrapping = fyne.TextWrapWord
	label := func(s string) *widget.Label {
		l := widget.NewLabel(s)
		l.TextStyle.Bold = true
		return l
	}
	form := container.NewVBox(
		container.NewHBox(p.title, p.state), p.template,
		label("Findings"), p.findings,
		label("Impression"), p.impression,
		label("Recommendation"), p.recommend,
		p.signBtn,
		label("Addendum"), p.addendum, p.addBtn,
		label("Delivery"), p.delivery, p.retryBtn, p.history,
	)
	bg := canvas.NewRectangle(colPanel)
	p.content = container.NewStack(bg, container.NewVScroll(container.NewPadded(form)))
	return p
}

// reader returns the signing reader (the workstation says who).
func (p *reportPanel) reader() report.Observer { return p.host.signer() }

// kindFor is the kind of report a study gets: a consultation note on a study
// shared with us (a link, a CD, a zip), a reading report otherwise.
func kindFor(st cache.Study) report.Kind {
	if st.Source == "shared" {
		return report.KindConsult
	}
	return report.KindReport
}

// readReport reads a study's stored report for open (any goroutine), nil
// when it has none. A draft the panel handed to the saver on leaving its
// last study is written first: that study opened again shows what was typed.
func (p *reportPanel) readReport(st cache.Study) (*report.Report, error) {
	p.saver.settle()
	r, err := p.cache.LoadReport(st.StudyInstanceUID, kindFor(st))
	if errors.Is(err, cache.ErrNotFound) {
		return nil, nil
	}
	return r, err
}

// leave hands the draft typed so far to the saver (the reader is going to
// another study; readReport writes it before it reads).
func (p *reportPanel) leave() {
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	p.dirty = false
	if p.rep != nil && p.rep.State == report.StateDraft {
		_ = p.rep.Edit(p.sections())
		p.saver.post(snapshot(p.rep))
	}
}

// open shows the study's report as readReport read it (r, err): the stored
// draft or signed report, else a new draft from the template that fits the
// study.
func (p *reportPanel) open(st cache.Study, r *report.Report, err error) {
	p.study = st
	p.kind = kindFor(st)
	if err != nil {
		p.host.note(err.Error())
	}
	if r == nil {
		mod := ""
		if len(st.ModalitiesInStudy) > 0 {
			mod = st.ModalitiesInStudy[0]
		}
		tmpl, _ := report.SelectTemplate(p.templates, mod, "")
		r = report.NewDraft(p.kind, st.StudyInstanceUID, p.reader(), tmpl, p.now())
	}
	if r.State == report.StateDraft {
		r.Record(report.EventOpened, p.reader().Name, p.now())
	}
	p.rep = r
	p.title.Text = "Report"
	if p.kind == report.KindConsult {
		p.title.Text = "Consultation note"
	}
	p.title.Refresh()
	p.show()
}

// show puts the report into the widgets.
func (p *reportPanel) show() {
	r := p.rep
	p.loading = true
	p.findings.SetText(r.Sections.Findings)
	p.impression.SetText(r.Sections.Impression)
	p.recommend.SetText(r.Sections.Recommendation)
	p.template.SetSelected(r.Template)
	p.loading = false
	p.enableFor()
	p.state.SetText(strings.ToUpper(string(r.State)))
	var hist []string
	for _, d := range r.Documents {
		what := "report"
		if d.Addendum != "" {
			what = "addendum"
		}
		hist = append(hist, fmt.Sprintf("%s signed %s by %s", what, d.SignedAt.Local().Format("2006-01-02 15:04"), format.PersonName(d.Signer.Name)))
	}
	p.history.SetText(strings.Join(hist, "\n"))
	p.refreshDelivery()
}

// enableFor enables what the report's state allows: the text, the template
// and Sign on a draft, the addendum once signed; nothing of either while a
// signature is being stored, so that the text signed is the text shown.
func (p *reportPanel) enableFor() {
	draft := p.rep != nil && p.rep.State == report.StateDraft
	busy := p.signing != nil
	enable := func(w fyne.Disableable, on bool) {
		if on {
			w.Enable()
		} else {
			w.Disable()
		}
	}
	for _, e := range []*reportEntry{p.findings, p.impression, p.recommend} {
		enable(e, draft && !busy)
	}
	enable(p.template, draft && !busy)
	enable(p.signBtn, draft && !busy)
	enable(p.addendum, !draft && !busy)
	enable(p.addBtn, !draft && !busy)
	p.signBtn.SetText("Sign report…")
	p.addBtn.SetText("Sign addendum…")
	if busy && draft {
		p.signBtn.SetText("Signing…")
	} else if busy {
		p.addBtn.SetText("Signing addendum…")
	}
}

// refreshDelivery shows where the report's SR documents are, from the cache's
// outbox (the sync loop changes it as it delivers). The outbox is read off
// the UI goroutine; the newest read wins.
func (p *reportPanel) refreshDelivery() {
	rep := p.rep
	if rep == nil {
		return
	}
	p.deliveryAsk++
	ask := p.deliveryAsk
	if rep.State == report.StateDraft {
		p.showDelivery(rep, nil, nil)
		return
	}
	uid, kind := rep.StudyInstanceUID, string(rep.Kind)
	go func() {
		all, err := p.cache.Outbox()
		var items []cache.OutboxItem
		for _, it := range all {
			if it.StudyInstanceUID == uid && it.Kind == kind {
				items = append(items, it)
			}
		}
		ui(func() {
			if p.deliveryAsk == ask && p.rep == rep {
				p.showDelivery(rep, items, err)
			}
		})
	}()
}

// showDelivery shows what refreshDelivery read.
func (p *reportPanel) showDelivery(rep *report.Report, items []cache.OutboxItem, err error) {
	if err != nil {
		p.delivery.SetText(err.Error())
		return
	}
	text, failed := deliveryText(rep, items, p.now())
	p.delivery.SetText(text)
	if failed {
		p.retryBtn.Show()
	} else {
		p.retryBtn.Hide()
	}
}

// deliveryText says where each signed SR is: waiting (and why), being sent,
// delivered, refused (and why), or kept locally. failed reports a refusal the
// reader can retry.
func deliveryText(r *report.Report, items []cache.OutboxItem, now time.Time) (text string, failed bool) {
	if r.State == report.StateDraft {
		return "Draft — saved in the local cache as you type.", false
	}
	if len(items) == 0 {
		return "Signed — no SR in the outbox.", false
	}
	names := map[string]string{}
	for i, d := range r.Documents {
		names[d.SOPInstanceUID] = "Report"
		if d.Addendum != "" {
			names[d.SOPInstanceUID] = fmt.Sprintf("Addendum %d", i)
		}
	}
	var lines []string
	for _, it := range items {
		name := names[it.SOPInstanceUID]
		if name == "" {
			name = "SR"
		}
		var line string
		switch it.State {
		case cache.OutboxDelivered:
			line = "delivered to the archive"
			if it.DeliveredAt != nil {
				line += " at " + it.DeliveredAt.Local().Format("15:04:05")
			}
		case cache.OutboxSending:
			line = "sending…"
		case cache.OutboxFailed:
			line = "refused by the archive: " + it.LastError
			failed = true
		case cache.OutboxLocal:
			line = "kept locally (the study has no archive of its own; export it with the study)"
		default:
			line = "waiting for delivery (signed and stored locally)"
			if it.Attempts > 0 {
				line = fmt.Sprintf("waiting for delivery: attempt %d failed (%s); next try in %s", it.Attempts, it.LastError,
					max(it.NextAttemptAt.Sub(now), 0).Round(time.Second))
			}
		}
		lines = append(lines, name+": "+line)
	}
	return strings.Join(lines, "\n"), failed
}

// retryDelivery puts refused SRs back in the outbox (after the archive's
// problem was fixed), off the UI goroutine, and asks for a delivery pass.
func (p *reportPanel) retryDelivery() {
	if p.retrying {
		return
	}
	store, uid := p.cache, p.study.StudyInstanceUID
	p.retrying = true
	p.retryBtn.Disable()
	p.inflight.Add(1)
	go func() {
		err := retryRefused(store, uid)
		p.inflight.Done()
		ui(func() {
			p.retrying = false
			p.retryBtn.Enable()
			if err != nil {
				p.host.note(err.Error())
			}
			p.host.reportSigned()
			p.refreshDelivery()
		})
	}()
}

// retryRefused puts the study's refused SRs back in the outbox.
func retryRefused(store reportStore, studyUID string) error {
	all, err := store.Outbox()
	if err != nil {
		return fmt.Errorf("retry delivery: %w", err)
	}
	var errs []error
	for _, it := range all {
		if it.StudyInstanceUID == studyUID && it.State == cache.OutboxFailed {
			if err := store.RetryFailed(it.SOPInstanceUID); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("retry delivery: %w", err)
	}
	return nil
}

func (p *reportPanel) applyTemplate(name string) {
	if p.loading || p.rep == nil || p.rep.State != report.StateDraft || name == p.rep.Template {
		return
	}
	for _, t := range p.templates {
		if t.Name != name {
			continue
		}
		// A template fills empty sections only; the reader's text is never replaced.
		s := p.sections()
		if strings.TrimSpace(s.Findings) == "" {
			s.Findings = t.Sections.Findings
		}
		if strings.TrimSpace(s.Impression) == "" {
			s.Impression = t.Sections.Impression
		}
		if strings.TrimSpace(s.Recommendation) == "" {
			s.Recommendation = t.Sections.Recommendation
		}
		p.rep.Template = name
		_ = p.rep.Edit(s)
		p.show()
		p.saveNow()
	}
}

func (p *reportPanel) sections() report.Sections {
	return report.Sections{Findings: p.findings.Text, Impression: p.impression.Text, Recommendation: p.recommend.Text}
}

// edited records the typed text and makes sure the draft reaches the cache
// within autosaveDelay.
func (p *reportPanel) edited() {
	if p.loading || p.rep == nil || p.rep.State != report.StateDraft {
		return
	}
	if err := p.rep.Edit(p.sections()); err != nil {
		return
	}
	p.dirty = true
	if p.timer != nil {
		return // a save is already due within autosaveDelay
	}
	p.timer = time.AfterFunc(autosaveDelay, func() { ui(p.autosave) })
}

// autosave posts a snapshot of the draft to the saver (on the UI goroutine).
func (p *reportPanel) autosave() {
	p.timer = nil
	if !p.dirty || p.rep == nil || p.rep.State != report.StateDraft {
		return
	}
	p.dirty = false
	p.saver.post(snapshot(p.rep))
}

// flush hands a pending draft to the saver now (on leaving the study or
// closing the window); the saver writes it off the UI goroutine, before the
// report is read again (readReport) and before the panel closes.
func (p *reportPanel) flush() {
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	// A draft being signed is not saved: its text is the signature's, and
	// a failed signature saves it itself.
	if p.rep != nil && p.rep.State == report.StateDraft && p.signing != p.rep {
		_ = p.rep.Edit(p.sections())
		p.saveNow()
	}
}

// saveNow hands the draft to the saver at once, not waiting for the
// autosave.
func (p *reportPanel) saveNow() {
	p.dirty = false
	if p.rep == nil || p.rep.State != report.StateDraft {
		return
	}
	p.saver.post(snapshot(p.rep))
}

// close stops the saver after a final flush, once a signature being
// stored is durable (or failed).
func (p *reportPanel) close() {
	p.flush()
	p.inflight.Wait()
	p.saver.close()
}

// sign signs the report once the reader confirmed (askSign): the SR is fixed
// now and stored with its outbox row in one durable transaction, off the UI
// goroutine; the sync loop delivers it. Until the cache answers, the text
// and Sign are disabled and no other signature can be asked for; a failure
// gives them back with the text as typed.
func (p *reportPanel) sign() {
	if p.rep == nil || p.rep.State != report.StateDraft || p.signing != nil {
		return
	}
	if strings.TrimSpace(p.findings.Text) == "" && strings.TrimSpace(p.impression.Text) == "" {
		dialog.ShowInformation("Sign report", "The report is empty.", p.host.window())
		return
	}
	if err := p.rep.Edit(p.sections()); err != nil {
		p.failed("sign", err)
		return
	}
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	p.dirty = false
	p.rep.Reader = p.reader()
	rep, store, saver, at := p.rep, p.cache, p.saver, p.now()
	signed := snapshot(rep)
	p.signing = rep
	p.enableFor()
	p.inflight.Add(1)
	go func() {
		// A draft being written finishes first, and none waiting is
		// written after the signature.
		saver.drop()
		_, err := store.SignReport(signed, at)
		p.inflight.Done()
		ui(func() { p.signDone(rep, signed, err) })
	}()
}

// signDone takes what the cache answered to signing rep (UI goroutine).
// signed is the report as stored: signed when the cache stored the
// signature, even if it then failed to record it in the audit.
func (p *reportPanel) signDone(rep, signed *report.Report, err error) {
	p.signing = nil
	stored := signed.State != report.StateDraft
	if p.showsReport(rep, signed) {
		if stored {
			p.rep = signed
			p.show()
		} else {
			p.enableFor()
		}
	}
	switch {
	case stored:
	case p.rep == rep:
		// The reader's text stays in the fields and reaches the draft.
		p.saver.post(snapshot(rep))
	case !p.showsReport(rep, signed):
		// The panel moved to another study meanwhile: the text signed
		// is kept as the draft all the same.
		p.saver.post(snapshot(signed))
	}
	if stored {
		p.host.note("report signed")
		p.host.reportSigned()
	}
	if err != nil {
		p.failed("sign", err)
	}
}

// showsReport reports whether the panel still shows rep (or, opened again,
// the same study's report of the same kind) whose signature or addendum
// was stored as stored.
func (p *reportPanel) showsReport(rep, stored *report.Report) bool {
	return p.rep == rep || p.rep != nil && p.rep.StudyInstanceUID == stored.StudyInstanceUID && p.rep.Kind == stored.Kind
}

// failed says in the status line, and in a dialog, that op failed.
func (p *reportPanel) failed(op string, err error) {
	err = fmt.Errorf("%s: %w", op, err)
	p.host.note(err.Error())
	dialog.ShowError(err, p.host.window())
}

// signAddendum signs the addendum typed, off the UI goroutine, as sign does.
func (p *reportPanel) signAddendum() {
	text := strings.TrimSpace(p.addendum.Text)
	if p.rep == nil || p.rep.State == report.StateDraft || text == "" || p.signing != nil {
		return
	}
	rep, store, signer, at := p.rep, p.cache, p.reader(), p.now()
	amended := snapshot(rep)
	before := len(amended.Documents)
	p.signing = rep
	p.enableFor()
	p.inflight.Add(1)
	go func() {
		_, err := store.AddAddendum(amended, text, signer, at)
		p.inflight.Done()
		ui(func() { p.addendumDone(rep, amended, len(amended.Documents) > before, err) })
	}()
}

// addendumDone takes what the cache answered to an addendum to rep (UI
// goroutine); stored says the addendum was stored.
func (p *reportPanel) addendumDone(rep, amended *report.Report, stored bool, err error) {
	p.signing = nil
	if p.showsReport(rep, amended) {
		if stored {
			p.rep = amended
			p.addendum.SetText("")
			p.show()
		} else {
			p.enableFor()
		}
	}
	if stored {
		p.host.note("addendum signed")
		p.host.reportSigned()
	}
	if err != nil {
		p.failed("addendum", err)
	}
}
