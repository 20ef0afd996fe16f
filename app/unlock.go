package app

import (
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"teleread/cache"
)

// OpenCacheFunc opens the cache with a passphrase (see Config.OpenCache). It
// may clear the slice it is given once done with it.
type OpenCacheFunc func(passphrase []byte) (*cache.Cache, error)

// runLocked is Run for a cache that waits for its passphrase: the window
// first shows the unlock form; once the cache opens the workstation replaces
// it in the same window (Fyne runs one event loop per process, so the
// passphrase cannot be asked in a window of its own before Run). The cache
// it opened is closed when the window is.
func runLocked(cfg Config, a fyne.App, w fyne.Window) {
	var ws *workstation
	// The first run's import is done where the cache is opened, off the UI
	// goroutine: the window is on screen already.
	open := func(pass []byte) (*cache.Cache, error) {
		c, err := cfg.OpenCache(pass)
		if err == nil {
			firstRun(cfg, c)
		}
		return c, err
	}
	form := newUnlockForm(cfg.Home, cfg.NewPassphrase, open, func(c *cache.Cache) error {
		run := cfg
		run.Cache = c
		s, err := startWorkstation(run, a, w)
		if err != nil {
			c.Close()
			return err
		}
		ws = s
		return nil
	})
	w.SetContent(form.content)
	w.Canvas().Focus(form.pass)
	w.ShowAndRun()
	if ws != nil {
		ws.close()
		ws.cfg.Cache.Close()
	}
}

// unlockForm asks for the cache's passphrase (twice for a new cache) and
// opens the cache with it off the UI goroutine (argon2id takes about a
// second); a wrong passphrase is said on the form, which stays for another
// try.
type unlockForm struct {
	content *fyne.Container
	pass    *widget.Entry
	again   *widget.Entry // nil unless the passphrase is new
	button  *widget.Button
	status  *widget.Label
}

func newUnlockForm(home string, isNew bool, open OpenCacheFunc, onOpen func(*cache.Cache) error) *unlockForm {
	f := &unlockForm{pass: widget.NewPasswordEntry(), status: widget.NewLabel("")}
	f.status.Wrapping = fyne.TextWrapWord
	intro := "The cache's master key is protected by a passphrase (this session has no OS keyring)."
	label := "Unlock"
	if isNew {
		intro = "This session has no OS keyring: choose a passphrase to protect the new cache's master key.\n" +
			"Keep it safe: without it the cache cannot be read."
		label = "Create"
	}
	heading := widget.NewLabel(intro)
	heading.Wrapping = fyne.TextWrapWord
	items := []*widget.FormItem{widget.NewFormItem("Passphrase", f.pass)}
	if isNew {
		f.again = widget.NewPasswordEntry()
		items = append(items, widget.NewFormItem("Again", f.again))
	}
	submit := func() {
		pass := []byte(f.pass.Text)
		if len(pass) == 0 {
			f.status.SetText("Type the passphrase.")
			return
		}
		if f.again != nil && f.again.Text != f.pass.Text {
			f.status.SetText("The two passphrases differ.")
			return
		}
		f.button.Disable()
		f.status.SetText("Unlocking…")
		go func() {
			c, err := open(pass)
			ui(func() {
				if err == nil {
					err = onOpen(c)
				}
				if err == nil {
					return
				}
				f.button.Enable()
				if errors.Is(err, cache.ErrWrongPassphrase) {
					f.status.SetText("Wrong passphrase.")
					f.pass.SetText("")
					return
				}
				f.status.SetText(err.Error())
			})
		}()
	}
	f.button = widget.NewButton(label, submit)
	f.button.Importance = widget.HighImportance
	f.pass.OnSubmitted = func(string) { submit() }
	if f.again != nil {
		f.again.OnSubmitted = func(string) { submit() }
	}
	box := container.NewVBox(widget.NewLabelWithStyle("Teleread: cache "+home, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		heading, widget.NewForm(items...), f.button, f.status)
	f.content = container.NewCenter(container.NewGridWrap(fyne.NewSize(560, 320), box))
	return f
}
