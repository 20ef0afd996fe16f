package app

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"teleread/app/internal/worklist"
	"teleread/cache"
	"teleread/cache/report"
	"teleread/sync/config"
)

// workstation is the whole window: the worklist and viewer screens, the status
// bar, and the keyboard shortcuts. Everything here runs on the UI goroutine.
type workstation struct {
	cfg    Config
	app    fyne.App
	win    fyne.Window
	bridge *bridge

	worklist *worklistScreen
	rows     *worklistLoader // reads the worklist off the UI goroutine
	viewer   *viewerScreen
	status   *statusBar
	body     *fyne.Container
	onViewer bool
	tool     tool

	modal dialog.Dialog // the dialog on screen, which Esc closes; nil when none

	// opener reads a study being opened off the UI goroutine; openingView
	// is what the window shows meanwhile: nothing of any study.
	opener      *studyOpener
	openingView fyne.CanvasObject
	openingBusy *widget.Activity
	openChanged map[string]bool // studies sync changed while one was being opened

	signIn *signInPanel // nil until Settings first shows it

	lastStatus StatusEvent
	stopTicker chan struct{}
	sync       *syncLoop     // nil until startSync
	conf       config.Config // the configuration as last loaded or saved (reader, targets)
	closed     bool

	opened   int // studies opened so far: an import finishing later opens its study only if the reader opened none meanwhile
	imports  int // imports of dropped or chosen paths in flight
	lastOpen openResult
}

func newWorkstation(cfg Config, a fyne.App, w fyne.Window) (*workstation, error) {
	ws := &workstation{cfg: cfg, app: a, win: w, bridge: newBridge(), stopTicker: make(chan struct{})}
	ws.status = newStatusBar(cfg.Renderer, cfg.Metrics)
	conf, confErr := loadConfig()
	ws.conf = conf
	ws.worklist = newWorklistScreen(conf.Turnaround(), cfg.Now, func(uid string) { ws.openStudy(uid) })
	ws.viewer = newViewerScreen(ws, cfg.Cache, cfg.Now, cfg.NewRenderer, cfg.Metrics)
	ws.opener = newStudyOpener(func(uid string) studyOpening { return readStudy(cfg.Cache, uid, ws.viewer.report.readReport) },
		func(uid string) error { return recordOpen(cfg.Cache, uid) }, ws.studyRead)
	ws.openingBusy = widget.NewActivity()
	ws.openingView = container.NewCenter(container.NewVBox(ws.openingBusy,
		widget.NewLabelWithStyle("Opening study…", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})))
	ws.body = container.NewStack(ws.worklist.content)
	settingsBtn := widget.NewButtonWithIcon("Settings", theme.SettingsIcon(), ws.showSettings)
	reload := widget.NewButtonWithIcon("Refresh", theme.ViewRefreshIcon(), func() { ws.reloadWorklist() })
	help := widget.NewButtonWithIcon("Help", theme.HelpIcon(), ws.showHelp)
	open := ws.installOpen()
	ws.status.extra.Objects = []fyne.CanvasObject{open, reload, settingsBtn, help}
	w.SetContent(container.NewBorder(nil, ws.status.content, nil, nil, ws.body))
	w.Canvas().SetOnTypedKey(ws.typedKey)
	w.Canvas().SetOnTypedRune(ws.typedRune)
	ws.installSignShortcut()
	ws.rows = newWorklistLoader(func() ([]worklist.Row, error) { return worklist.Load(cfg.Cache) }, ws.showRows)
	// The studies asked for on the command line open once the worklist
	// says which of them it lists first.
	ws.reloadWorklist(func() {
		if uid := ws.firstListed(cfg.OpenStudies); uid != "" && ws.opened == 0 {
			ws.openStudy(uid)
		}
	})
	ws.bridge.forward(cfg.Status, ws.applyStatus)
	ws.updateStatus()
	if confErr != nil {
		ws.status.setMessage(confErr.Error())
	}
	// The worklist's "time since assigned" and due columns age while it is
	// on screen: a study turns overdue without any sync event.
	go func() {
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ws.stopTicker:
				return
			case <-t.C:
				ui(func() {
					if !ws.onViewer {
						ws.worklist.table.Refresh()
					}
				})
			}
		}
	}()
	return ws, nil
}

func (ws *workstation) close() {
	ws.closed = true
	close(ws.stopTicker)
	ws.rows.close()
	ws.opener.Close()
	ws.openingBusy.Stop()
	ws.viewer.report.flush()
	ws.viewer.report.close()
	ws.stopSync()
	if ws.signIn != nil {
		ws.signIn.close()
	}
	ws.bridge.close()
	ws.viewer.close()
}

// startSync starts the sync service with the configured archive (or the demo
// archive); its events reach the status bar and the worklist through the
// bridge.
func (ws *workstation) startSync() {
	if ws.closed {
		return
	}
	ws.stopSync()
	l := newSyncLoop(ws.cfg.Cache, ws.cfg.SyncInterval, ws.cfg.connector())
	ws.sync = l
	ws.bridge.forwardLatest(l.wake, l.take, ws.applyStatus)
	l.start()
}

// stopSync stops the sync loop (an interrupted download resumes at the next
// start).
func (ws *workstation) stopSync() {
	if ws.sync != nil {
		ws.sync.close()
		ws.sync = nil
	}
}

// reloadWorklist has the worklist read again, off the UI goroutine; the
// selection and focus stay. Each then runs once the rows read are shown.
func (ws *workstation) reloadWorklist(then ...func()) { ws.rows.reload(then...) }

// showRows shows rows the loader read (UI goroutine).
func (ws *workstation) showRows(a worklistRows) {
	if a.err != nil {
		ws.status.setMessage(a.err.Error())
		return
	}
	ws.worklist.setRows(a.rows)
}

// applyStatus shows a sync event. A changed study refreshes the worklist rows but
// never moves the focus or the screen.
func (ws *workstation) applyStatus(ev StatusEvent) {
	msg := ev.Message
	ws.lastStatus = ev
	ws.lastStatus.Changed, ws.lastStatus.Progress, ws.lastStatus.Message, ws.lastStatus.Turnaround = nil, nil, "", nil
	if ev.Turnaround != nil {
		ws.worklist.setTurnaround(*ev.Turnaround)
	}
	changed := ev.Changed
	if ev.StudyChanged != "" {
		changed = append(changed, ev.StudyChanged)
	}
	if len(changed) > 0 {
		ws.reloadWorklist()
	}
	arrived := false
	for uid, p := range ev.Progress {
		if ws.worklist.setProgress(uid, p) {
			arrived = true
		}
	}
	if arrived && len(changed) == 0 {
		ws.reloadWorklist() // a study's first instances: it can be opened now
	}
	rp := ws.viewer.report
	for _, uid := range changed {
		if ws.onViewer && uid == rp.study.StudyInstanceUID {
			rp.refreshDelivery()
		}
	}
	// The open study (or its prior) grows as its instances arrive.
	seen := map[string]bool{}
	defer func() {
		if ws.opening() {
			for uid := range seen {
				ws.openChanged[uid] = true // read again once shown (studyRead)
			}
		}
	}()
	for uid := range ev.Progress {
		seen[uid] = true
		ws.viewer.studyChanged(uid)
	}
	for _, uid := range changed {
		if !seen[uid] {
			seen[uid] = true
			ws.viewer.studyChanged(uid)
		}
	}
	ws.updateStatus()
	if msg != "" {
		ws.status.setMessage(msg)
	}
}

func (ws *workstation) updateStatus() { ws.status.update(ws.lastStatus) }

// openStudy shows a cached study in the viewer. The cache is read off the
// UI goroutine (studyOpener); meanwhile the window says the study is opening
// and shows nothing of the study left, and the answer to the newest open is
// the one shown.
func (ws *workstation) openStudy(uid string) {
	if ws.closed {
		return
	}
	ws.viewer.leave()
	ws.openChanged = map[string]bool{}
	ws.opened++
	ws.cfg.Metrics.startOpen(uid, time.Now())
	ws.opener.Ask(uid)
	ws.onViewer = false
	ws.body.Objects = []fyne.CanvasObject{ws.openingView}
	ws.body.Refresh()
	ws.openingBusy.Start()
	// Keys typed meanwhile reach the window's handler (typedKey), not the
	// worklist left behind.
	ws.win.Canvas().Unfocus()
	ws.updateStatus()
}

// recordOpen records that a study is shown (any goroutine): every access to
// patient data is recorded before it is shown, and the worklist marks the
// study read.
func recordOpen(c *cache.Cache, uid string) error {
	if err := c.Audit(cache.AuditOpen, uid, "shown in the viewer"); err != nil {
		return fmt.Errorf("open study: %w", err)
	}
	_ = c.MarkRead(uid) // the mark is a hint on the worklist; the study opens without it
	return nil
}

// studyRead shows the study the newest open read (UI goroutine), or says
// in the status line why it cannot be shown and goes back to the worklist.
func (ws *workstation) studyRead(res studyOpening) {
	ws.openingBusy.Stop()
	if res.err != nil {
		ws.showWorklist()
		ws.status.setMessage(res.err.Error())
		return
	}
	ws.viewer.open(res)
	if ws.openChanged[res.study.StudyInstanceUID] {
		// The cache may have grown after the read: read it again.
		ws.viewer.studyChanged(res.study.StudyInstanceUID)
	}
	ws.onViewer = true
	ws.body.Objects = []fyne.CanvasObject{ws.viewer.content}
	ws.body.Refresh()
	ws.focusViewer()
	ws.updateStatus()
}

// opening reports whether a study is being read to be shown (UI goroutine).
func (ws *workstation) opening() bool { return ws.opener.Pending() }

func (ws *workstation) showWorklist() {
	ws.opener.Cancel() // a study still being read is not shown
	ws.openingBusy.Stop()
	for _, vp := range ws.viewer.viewports {
		vp.stopCine()
	}
	ws.viewer.report.flush()
	ws.onViewer = false
	ws.body.Objects = []fyne.CanvasObject{ws.worklist.content}
	ws.body.Refresh()
	ws.reloadWorklist()
	ws.win.Canvas().Focus(ws.worklist.table)
	ws.updateStatus()
}

// showModal shows a dialog that Esc closes (as cancel) and that takes the
// keys typed while it is up, so that none reaches the viewer behind it.
func (ws *workstation) showModal(d dialog.Dialog) {
	if ws.modal != nil {
		ws.modal.Hide()
	}
	ws.modal = d
	d.SetOnClosed(func() {
		if ws.modal == d {
			ws.modal = nil
		}
	})
	d.Show()
}

// focusViewer gives the keyboard to the active viewport.
func (ws *workstation) focusViewer() {
	if ws.onViewer && ws.viewer.active != nil {
		ws.win.Canvas().Focus(ws.viewer.active)
	}
}

// applyPreset applies preset i of the active image.
func (ws *workstation) applyPreset(i int) { ws.viewer.applyPreset(i) }

func (ws *workstation) setTool(t tool) {
	ws.tool = t
	ws.viewer.toolSel.SetSelectedIndex(int(t))
}

// reportSigned asks the sync loop to deliver at once and shows the outbox count.
func (ws *workstation) reportSigned() {
	// One more waits; the service's next outbox pass says how many exactly
	// (no query here, on the UI goroutine).
	ws.lastStatus.Outbox++
	if ws.sync != nil {
		ws.sync.kick()
	}
	ws.reloadWorklist()
	ws.updateStatus()
}

// The report panel's and the viewer screen's view of the workstation
// (reportHost, screenHost).
var (
	_ reportHost = (*workstation)(nil)
	_ screenHost = (*workstation)(nil)
)

func (ws *workstation) activeTool() tool { return ws.tool }

func (ws *workstation) useTool(t tool) { ws.tool = t }

// sliceSource is the running sync service, else none (every fetch fails
// as offline).
func (ws *workstation) sliceSource() sliceSource {
	if ws.sync == nil {
		return noArchive{}
	}
	return ws.sync
}

func (ws *workstation) window() fyne.Window { return ws.win }

func (ws *workstation) note(msg string) { ws.status.setMessage(msg) }

// signer is who signs reports: the configured reader, else the demo reader
// (the demo archive assigns its studies to it).
func (ws *workstation) signer() report.Observer {
	if ws.conf.Reader == "" {
		return report.Observer{Name: DemoReader, Organization: ws.conf.Organization}
	}
	return report.Observer{Name: ws.conf.Reader, Organization: ws.conf.Organization}
}
