package app

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"teleread/cache"
	"teleread/cache/report"
)

// draftStore keeps reports as they are written, one JSON file per study written
// atomically (temp file, fsync, rename), so a crash or a closed window loses no
// draft. Signed SRs go into the study cache itself.
type draftStore struct {
	dir string
	mu  gosync.Mutex
}

func newDraftStore(home string) *draftStore { return &draftStore{dir: filepath.Join(home, "reports")} }

func (s *draftStore) path(study string) string {
	return filepath.Join(s.dir, uidFileName(study)+".json")
}

// load returns the stored report of a study, or nil when there is none.
func (s *draftStore) load(study string) (*report.Report, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := os.ReadFile(s.path(study))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("app: load report %s: %w", study, err)
	}
	var r report.Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("app: load report %s: %w", study, err)
	}
	return &r, nil
}

// save writes r durably.
func (s *draftStore) save(r *report.Report) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("app: save report: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("app: save report: %w", err)
	}
	p := s.path(r.StudyInstanceUID)
	f, err := os.CreateTemp(s.dir, ".draft-*")
	if err != nil {
		return fmt.Errorf("app: save report: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("app: save report: %w", err)
	}
	return nil
}

// reportPanel is the report beside the images: template, findings, impression,
// recommendation, sign, addenda, delivery state.
type reportPanel struct {
	ws        *workstation
	store     *draftStore
	templates []report.Template

	study    cache.Study
	rep      *report.Report
	loading  bool
	saveTime *time.Timer

	title      *canvas.Text
	state      *widget.Label
	delivery   *widget.Label
	template   *widget.Select
	findings   *widget.Entry
	impression *widget.Entry
	recommend  *widget.Entry
	signBtn    *widget.Button
	addendum   *widget.Entry
	addBtn     *widget.Button
	history    *widget.Label
	content    fyne.CanvasObject
}

func newReportPanel(ws *workstation) *reportPanel {
	p := &reportPanel{ws: ws, store: newDraftStore(ws.cfg.Home)}
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
	p.template = widget.NewSelect(names, p.applyTemplate)
	p.template.PlaceHolder = "Template"
	p.findings = multiline("Findings")
	p.impression = multiline("Impression")
	p.recommend = multiline("Recommendation")
	p.findings.SetMinRowsVisible(10)
	p.impression.SetMinRowsVisible(4)
	p.recommend.SetMinRowsVisible(2)
	for _, e := range []*widget.Entry{p.findings, p.impression, p.recommend} {
		e.OnChanged = func(string) { p.edited() }
	}
	p.signBtn = widget.NewButtonWithIcon("Sign report", theme.ConfirmIcon(), p.sign)
	p.addendum = multiline("Addendum (after signing)")
	p.addendum.SetMinRowsVisible(2)
	p.addBtn = widget.NewButton("Sign addendum", p.signAddendum)
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
		label("Delivery"), p.delivery, p.history,
	)
	bg := canvas.NewRectangle(colPanel)
	p.content = container.NewStack(bg, container.NewVScroll(container.NewPadded(form)))
	return p
}

func multiline(placeholder string) *widget.Entry {
	e := widget.NewMultiLineEntry()
	e.Wrapping = fyne.TextWrapWord
	e.SetPlaceHolder(placeholder)
	return e
}

// reader returns the signing reader from the settings.
func (p *reportPanel) reader() report.Observer {
	s, _ := LoadSettings(p.ws.cfg.Preferences, p.ws.cfg.Home)
	name := s.ReaderName
	if name == "" {
		name = "Reader^Demo"
	}
	return report.Observer{Name: name, Organization: s.ReaderOrg}
}

// open shows the study's report: the stored draft or signed report, else a new
// draft from the template that fits the study.
func (p *reportPanel) open(st cache.Study) {
	p.flush()
	p.study = st
	r, err := p.store.load(st.StudyInstanceUID)
	if err != nil {
		p.ws.status.setMessage(err.Error())
	}
	if r == nil {
		mod := ""
		if len(st.ModalitiesInStudy) > 0 {
			mod = st.ModalitiesInStudy[0]
		}
		tmpl, _ := report.SelectTemplate(p.templates, mod, "")
		r = report.NewDraft(report.KindReport, st.StudyInstanceUID, p.reader(), tmpl, p.ws.cfg.Now())
	}
	r.Record(report.EventOpened, p.reader().Name, p.ws.cfg.Now())
	p.rep = r
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
	draft := r.State == report.StateDraft
	for _, e := range []*widget.Entry{p.findings, p.impression, p.recommend} {
		if draft {
			e.Enable()
		} else {
			e.Disable()
		}
	}
	if draft {
		p.template.Enable()
		p.signBtn.Enable()
		p.addendum.Disable()
		p.addBtn.Disable()
	} else {
		p.template.Disable()
		p.signBtn.Disable()
		p.addendum.Enable()
		p.addBtn.Enable()
	}
	p.state.SetText(strings.ToUpper(string(r.State)))
	p.delivery.SetText(deliveryText(r))
	var hist []string
	for _, d := range r.Documents {
		what := "report"
		if d.Addendum != "" {
			what = "addendum"
		}
		hist = append(hist, fmt.Sprintf("%s signed %s by %s", what, d.SignedAt.Local().Format("2006-01-02 15:04"), personName(d.Signer.Name)))
	}
	p.history.SetText(strings.Join(hist, "\n"))
}

// deliveryText says where the signed SRs are. Until the outbox exists, signed
// reports are kept in the local cache and wait there.
func deliveryText(r *report.Report) string {
	if r.State == report.StateDraft {
		return "Draft — saved locally as you type."
	}
	delivered := map[string]bool{}
	for _, e := range r.Events {
		if e.Kind == report.EventDelivered {
			delivered[e.SOPInstanceUID] = true
		}
	}
	waiting := 0
	for _, d := range r.Documents {
		if !delivered[d.SOPInstanceUID] {
			waiting++
		}
	}
	if waiting == 0 {
		return "Delivered to the archive."
	}
	return fmt.Sprintf("Signed — %d SR document(s) stored in the local cache, waiting for delivery to the archive.", waiting)
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

// edited saves the draft half a second after the last keystroke.
func (p *reportPanel) edited() {
	if p.loading || p.rep == nil || p.rep.State != report.StateDraft {
		return
	}
	if err := p.rep.Edit(p.sections()); err != nil {
		return
	}
	if p.saveTime != nil {
		p.saveTime.Stop()
	}
	r := *p.rep
	p.saveTime = time.AfterFunc(500*time.Millisecond, func() {
		if err := p.store.save(&r); err != nil {
			ui(func() { p.ws.status.setMessage(err.Error()) })
		}
	})
}

// flush writes a pending draft now (on leaving the study or closing the window).
func (p *reportPanel) flush() {
	if p.saveTime != nil {
		p.saveTime.Stop()
		p.saveTime = nil
	}
	if p.rep != nil {
		if p.rep.State == report.StateDraft {
			_ = p.rep.Edit(p.sections())
		}
		p.saveNow()
	}
}

func (p *reportPanel) saveNow() {
	if err := p.store.save(p.rep); err != nil {
		p.ws.status.setMessage(err.Error())
	}
}

// studyContext reads the study's patient and study attributes from its files.
func (p *reportPanel) studyContext() (report.StudyContext, error) {
	ins, err := p.ws.cfg.Cache.StudyInstances(p.study.StudyInstanceUID)
	if err != nil {
		return report.StudyContext{}, err
	}
	var paths []string
	for _, in := range ins {
		if in.SOPClassUID != report.BasicTextSRStorage {
			paths = append(paths, in.Path)
		}
	}
	return report.StudyContextFromFiles(paths)
}

// sign signs the report: the SR is fixed now and stored in the cache.
func (p *reportPanel) sign() {
	if p.rep == nil || p.rep.State != report.StateDraft {
		return
	}
	if strings.TrimSpace(p.findings.Text) == "" && strings.TrimSpace(p.impression.Text) == "" {
		dialog.ShowInformation("Sign report", "The report is empty.", p.ws.win)
		return
	}
	if err := p.rep.Edit(p.sections()); err != nil {
		dialog.ShowError(err, p.ws.win)
		return
	}
	sc, err := p.studyContext()
	if err == nil {
		p.rep.Reader = p.reader()
		var doc report.Document
		if doc, err = p.rep.Sign(sc, p.ws.cfg.Now()); err == nil {
			err = p.storeSR(doc)
		}
	}
	if err != nil {
		dialog.ShowError(fmt.Errorf("sign: %w", err), p.ws.win)
		return
	}
	p.saveNow()
	p.show()
	p.ws.status.setMessage("report signed")
}

func (p *reportPanel) signAddendum() {
	text := strings.TrimSpace(p.addendum.Text)
	if p.rep == nil || p.rep.State == report.StateDraft || text == "" {
		return
	}
	sc, err := p.studyContext()
	if err == nil {
		var doc report.Document
		if doc, err = p.rep.AddAddendum(sc, text, p.reader(), p.ws.cfg.Now()); err == nil {
			err = p.storeSR(doc)
		}
	}
	if err != nil {
		dialog.ShowError(fmt.Errorf("addendum: %w", err), p.ws.win)
		return
	}
	p.addendum.SetText("")
	p.saveNow()
	p.show()
}

// storeSR keeps a signed SR in the study cache, where the outbox will find it.
func (p *reportPanel) storeSR(doc report.Document) error {
	_, err := p.ws.cfg.Cache.Import(bytes.NewReader(doc.SR), "report-"+doc.SOPInstanceUID+".dcm")
	return err
}

// uidFileName turns a UID into a safe file name: a valid UID is used as it is,
// anything else by its SHA-256.
func uidFileName(uid string) string {
	ok := uid != "" && len(uid) <= 64
	for _, c := range uid {
		if (c < '0' || c > '9') && c != '.' {
			ok = false
		}
	}
	if ok {
		return uid
	}
	sum := sha256.Sum256([]byte(uid))
	return hex.EncodeToString(sum[:])
}
