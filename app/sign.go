package app

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"teleread/app/internal/format"
	"teleread/cache"
	"teleread/cache/report"
)

// A signature cannot be taken back (corrections are addenda), so signing
// always asks first: the Sign button or Ctrl+Enter opens a dialog that names
// the patient and the study and, when the cache does not hold the whole study,
// what is missing; Enter (or the dialog's button) signs, Esc cancels.

// signShortcuts are the keys that ask to sign: Ctrl+Enter on either Enter key.
var signShortcuts = []fyne.Shortcut{
	&desktop.CustomShortcut{KeyName: fyne.KeyReturn, Modifier: fyne.KeyModifierControl},
	&desktop.CustomShortcut{KeyName: fyne.KeyEnter, Modifier: fyne.KeyModifierControl},
}

func isSignShortcut(s fyne.Shortcut) bool {
	for _, k := range signShortcuts {
		if s.ShortcutName() == k.ShortcutName() {
			return true
		}
	}
	return false
}

// installSignShortcut makes Ctrl+Enter ask to sign wherever the keyboard is
// on the viewer (a focused report field handles it itself: reportEntry).
func (ws *workstation) installSignShortcut() {
	for _, s := range signShortcuts {
		ws.win.Canvas().AddShortcut(s, func(fyne.Shortcut) {
			if ws.onViewer {
				ws.viewer.report.askSign()
			}
		})
	}
}

// reportEntry is a report text field: Ctrl+Enter asks to sign instead of
// reaching the text.
type reportEntry struct {
	widget.Entry
	onSign func()
}

func newReportEntry(placeholder string, onSign func()) *reportEntry {
	e := &reportEntry{onSign: onSign}
	e.MultiLine = true
	e.Wrapping = fyne.TextWrapWord
	e.SetPlaceHolder(placeholder)
	e.ExtendBaseWidget(e)
	return e
}

// TypedShortcut asks to sign on Ctrl+Enter and passes every other shortcut
// to the entry.
func (e *reportEntry) TypedShortcut(s fyne.Shortcut) {
	if isSignShortcut(s) {
		if e.onSign != nil {
			e.onSign()
		}
		return
	}
	e.Entry.TypedShortcut(s)
}

// askSign asks to sign the draft, or, once the report is signed, the addendum
// typed.
func (p *reportPanel) askSign() {
	switch {
	case p.rep == nil || p.confirming != nil || p.signing != nil:
		// Nothing to sign, or a signature already asked for or being stored.
	case p.rep.State == report.StateDraft:
		if strings.TrimSpace(p.findings.Text) == "" && strings.TrimSpace(p.impression.Text) == "" {
			dialog.ShowInformation("Sign report", "The report is empty.", p.host.window())
			return
		}
		what := "the report"
		if p.kind == report.KindConsult {
			what = "the consultation note"
		}
		p.confirmSignature(what, p.sign)
	case strings.TrimSpace(p.addendum.Text) != "":
		p.confirmSignature("the addendum", p.signAddendum)
	}
}

// confirmSignature shows the signing dialog for what ("the report") and
// calls sign when the reader confirms. What the cache holds of the study is
// read off the UI goroutine; until it answers the dialog says it is
// checking and cannot be confirmed, so that an incomplete study is never
// signed without its warning.
func (p *reportPanel) confirmSignature(what string, sign func()) {
	st, store := p.study, p.cache
	prompt := newSignPrompt(signChecking(what, st))
	prompt.checking = true
	d := dialog.NewCustomWithoutButtons("Sign "+what+"?", prompt, p.host.window())
	wait := widget.NewButtonWithIcon("Checking the study…", theme.ConfirmIcon(), nil)
	wait.Disable()
	d.SetButtons([]fyne.CanvasObject{widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), d.Hide), wait})
	d.SetOnClosed(func() {
		if p.confirming == prompt { // cancelled while checking
			p.confirming = nil
			p.host.focusViewer()
		}
	})
	prompt.onEscape = d.Hide
	p.confirming = prompt
	d.Show()
	d.Resize(fyne.NewSize(560, d.MinSize().Height))
	p.host.window().Canvas().Focus(prompt)
	go func() {
		comp, err := store.StudyCompleteness(st.StudyInstanceUID)
		ui(func() {
			if p.confirming != prompt {
				return // cancelled meanwhile
			}
			p.confirming = nil
			d.Hide()
			switch {
			case err != nil:
				p.host.note(fmt.Errorf("sign: what the cache holds of the study: %w", err).Error())
				p.host.focusViewer()
			case p.study.StudyInstanceUID != st.StudyInstanceUID:
				p.host.focusViewer() // another study was opened meanwhile
			default:
				p.askConfirmation(what, st, comp, sign)
			}
		})
	}()
}

// askConfirmation shows the signing dialog once what the cache holds of the
// study is known.
func (p *reportPanel) askConfirmation(what string, st cache.Study, comp cache.Completeness, sign func()) {
	prompt := newSignPrompt(signQuestion(what, st, comp))
	title, button := "Sign "+what+"?", "Sign"
	if !comp.Complete() {
		title, button = "Sign "+what+" on an incomplete study?", "Sign incomplete study"
	}
	d := dialog.NewCustomConfirm(title, button, "Cancel", prompt, func(ok bool) {
		p.confirming = nil
		if ok {
			sign()
		}
		p.host.focusViewer()
	}, p.host.window())
	if !comp.Complete() {
		d.SetConfirmImportance(widget.WarningImportance)
	}
	prompt.onEnter, prompt.onEscape = d.Confirm, d.Hide
	p.confirming = prompt
	d.Show()
	d.Resize(fyne.NewSize(560, d.MinSize().Height))
	p.host.window().Canvas().Focus(prompt)
}

// signLine is one paragraph of the signing dialog.
type signLine struct {
	text string
	warn bool // what is missing: shown in the warning colour
}

// signQuestion is what the signing dialog says: whose study, that a
// signature is final, and what the cache lacks of an incomplete study.
func signQuestion(what string, st cache.Study, comp cache.Completeness) []signLine {
	study := strings.TrimSpace(format.Date(st.StudyDate) + " " + st.StudyDescription)
	lines := []signLine{{text: fmt.Sprintf("Sign %s on %s (ID %s), study %s?", what, format.PersonName(st.PatientName), st.PatientID, study)}}
	if !comp.Complete() {
		lines = append(lines, signLine{text: "The study is incomplete: " + comp.Describe() + ". You would sign on part of the study.", warn: true})
	}
	lines = append(lines, signLine{text: "A signature cannot be taken back; corrections are addenda."})
	return lines
}

// signChecking is what the signing dialog says while what the cache holds
// of the study is being read.
func signChecking(what string, st cache.Study) []signLine {
	lines := signQuestion(what, st, cache.Completeness{})
	return append(lines[:1:1], signLine{text: "Checking what the cache holds of the study…"}, lines[len(lines)-1])
}

// signPrompt is the signing dialog's text. It holds the keyboard while the
// dialog is open: Enter confirms, Esc cancels, and no other key reaches the
// viewer behind it.
type signPrompt struct {
	widget.BaseWidget
	lines    []signLine
	checking bool // what the cache holds of the study is not known yet: no Sign
	onEnter  func()
	onEscape func()
}

func newSignPrompt(lines []signLine) *signPrompt {
	p := &signPrompt{lines: lines}
	p.ExtendBaseWidget(p)
	return p
}

// Text is the dialog's text, one paragraph a line.
func (p *signPrompt) Text() string {
	var s []string
	for _, l := range p.lines {
		s = append(s, l.text)
	}
	return strings.Join(s, "\n")
}

func (p *signPrompt) CreateRenderer() fyne.WidgetRenderer {
	box := container.NewVBox()
	for _, l := range p.lines {
		lbl := widget.NewLabel(l.text)
		lbl.Wrapping = fyne.TextWrapWord
		if l.warn {
			lbl.Importance = widget.WarningImportance
			lbl.TextStyle.Bold = true
		}
		box.Add(lbl)
	}
	return widget.NewSimpleRenderer(box)
}

// MinSize keeps the wrapped paragraphs readable.
func (p *signPrompt) MinSize() fyne.Size {
	return p.BaseWidget.MinSize().Max(fyne.NewSize(520, 0))
}

// FocusGained is part of fyne.Focusable.
func (p *signPrompt) FocusGained() {}

// FocusLost is part of fyne.Focusable.
func (p *signPrompt) FocusLost() {}

// TypedRune is part of fyne.Focusable; characters do nothing here.
func (p *signPrompt) TypedRune(rune) {}

// TypedKey confirms on Enter and cancels on Esc.
func (p *signPrompt) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		if p.onEnter != nil {
			p.onEnter()
		}
	case fyne.KeyEscape:
		if p.onEscape != nil {
			p.onEscape()
		}
	}
}
