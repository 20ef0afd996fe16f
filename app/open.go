package app

import (
	"fmt"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"teleread/app/internal/worklist"
	"teleread/cache"
)

// openResult is what an import of dropped or chosen paths did.
type openResult struct {
	sum     cache.Summary
	studies []string // the studies found, marked shared
	err     error    // the first study that could not be marked shared
}

// installOpen wires the ways of opening studies from outside the archive: files
// and folders dropped onto the window, the Open… button and Ctrl+O.
func (ws *workstation) installOpen() *widget.Button {
	ws.win.SetOnDropped(ws.dropped)
	ws.win.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyO, Modifier: fyne.KeyModifierShortcutDefault},
		func(fyne.Shortcut) { ws.showOpen() })
	var btn *widget.Button
	btn = widget.NewButtonWithIcon("Open…", theme.FolderOpenIcon(), func() {
		menu := fyne.NewMenu("",
			fyne.NewMenuItem("Folder, CD or USB stick…", ws.showOpenFolder),
			fyne.NewMenuItem("File, zip or DICOMDIR…", ws.showOpenFile))
		c := ws.win.Canvas()
		pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(btn)
		widget.ShowPopUpMenuAtPosition(menu, c, pos.Subtract(fyne.NewPos(0, 80)))
	})
	return btn
}

// dropped imports what the user dropped onto the window.
func (ws *workstation) dropped(_ fyne.Position, uris []fyne.URI) {
	var paths []string
	for _, u := range uris {
		if u != nil && u.Scheme() == "file" && u.Path() != "" {
			paths = append(paths, u.Path())
		}
	}
	if len(paths) == 0 {
		ws.status.setMessage("Nothing to open in what was dropped (only files and folders can be opened)")
		return
	}
	ws.openPaths(paths)
}

// showOpen asks for a folder (the common case: a CD, a USB stick, an unpacked
// download); files are chosen from the Open… button's menu.
func (ws *workstation) showOpen() { ws.showOpenFolder() }

func (ws *workstation) showOpenFolder() {
	d := dialog.NewFolderOpen(func(l fyne.ListableURI, err error) {
		if err != nil {
			dialog.ShowError(err, ws.win)
			return
		}
		if l != nil {
			ws.openPaths([]string{l.Path()})
		}
	}, ws.win)
	d.Resize(fyne.NewSize(900, 620))
	d.Show()
}

func (ws *workstation) showOpenFile() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil {
			dialog.ShowError(err, ws.win)
			return
		}
		if r == nil {
			return
		}
		p := r.URI().Path()
		r.Close()
		ws.openPaths([]string{p})
	}, ws.win)
	d.Resize(fyne.NewSize(900, 620))
	d.Show()
}

// openPaths imports files, folders, zip archives and DICOMDIRs off the UI
// goroutine, marks their studies shared (they go to the top of the worklist)
// and opens the first one. The user asked for it, so it may take the screen;
// but if another study was opened while the import ran, that reading is left
// alone and the status bar says where the new studies are.
func (ws *workstation) openPaths(paths []string) {
	opened := ws.opened
	ws.imports++
	ws.status.setMessage(fmt.Sprintf("Opening %s…", paths[0]))
	var files atomic.Int64
	var last atomic.Int64
	c := ws.cfg.Cache
	go func() {
		progress := func(name string, _ cache.Result, _ error) {
			n := files.Add(1)
			// The status bar hears of the progress at most a few times a second.
			if t := time.Now().UnixMilli(); t-last.Load() >= 250 {
				last.Store(t)
				ui(func() {
					if !ws.closed {
						ws.status.setMessage(fmt.Sprintf("Opening %s… %d files", paths[0], n))
					}
				})
			}
		}
		var sum cache.Summary
		gerr := guard("open "+paths[0], func() { sum = c.ImportPaths(paths, progress) })
		res := openResult{sum: sum, err: gerr}
		for uid := range sum.Studies {
			if err := c.SetSource(uid, worklist.SourceShared); err != nil && res.err == nil {
				res.err = err
			}
			res.studies = append(res.studies, uid)
		}
		ui(func() { ws.openDone(res, opened) })
	}()
}

// openDone lists the opened studies and shows the first, unless the reader
// opened another study meanwhile.
func (ws *workstation) openDone(res openResult, opened int) {
	if ws.closed {
		ws.imports--
		return
	}
	// The import is done when the worklist lists what it brought.
	ws.reloadWorklist(func() { ws.listImported(res, opened) })
}

// listImported says what an import brought, once the worklist lists it, and
// opens the study it lists first.
func (ws *workstation) listImported(res openResult, opened int) {
	ws.imports--
	ws.lastOpen = res
	if res.err != nil {
		ws.status.setMessage(res.err.Error())
	}
	sum := res.sum
	msg := fmt.Sprintf("Opened %s (shared): %d files imported, %d already cached", plural(len(res.studies), "study", "studies"),
		sum.Imported, sum.AlreadyPresent)
	if n := len(sum.Rejected); n > 0 {
		msg += fmt.Sprintf(", %d not DICOM or unreadable (first: %s: %s)", n, sum.Rejected[0].Name, sum.Rejected[0].Reason)
	}
	if n := len(sum.Conflicts); n > 0 {
		msg += fmt.Sprintf(", %d differ from the cached copy (kept)", n)
	}
	if len(res.studies) == 0 {
		ws.status.setMessage("No DICOM study found: " + msg)
		return
	}
	first := ws.firstListed(res.studies)
	if ws.opened != opened {
		ws.status.setMessage(msg + " — listed at the top of the worklist")
		return
	}
	ws.openStudy(first)
	ws.status.setMessage(msg)
}

// firstListed returns the study of uids that the worklist lists first (shared
// studies lead it), uids[0] when it lists none of them, "" when uids is empty.
func (ws *workstation) firstListed(uids []string) string {
	if len(uids) == 0 {
		return ""
	}
	in := map[string]bool{}
	for _, uid := range uids {
		in[uid] = true
	}
	for _, r := range ws.worklist.view.Rows {
		if in[r.UID] {
			return r.UID
		}
	}
	return uids[0]
}
