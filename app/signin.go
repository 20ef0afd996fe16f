package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"teleread/sync/config"
	"teleread/sync/signin"
)

// signInConfig attaches to conf the sign-in session of an archive that wants
// its reader signed in (oauth2 issuer): kept in the keyring or sealed in the
// home under a key of the cache's hierarchy, the store the commands use, so
// a `teleread login` counts for the app and the reverse. The process has one
// session per provider and client (config.WithSignIn), shared by the sync
// service and Settings.
func (cfg *Config) signInConfig(conf config.Config) (config.Config, error) {
	c, err := conf.WithSignIn(filepath.Join(cfg.Home, "signin"), signin.SealKey(cfg.Cache.RecordKey()))
	if err != nil {
		return conf, fmt.Errorf("app: %w", err)
	}
	return c, nil
}

// signInMessage is the status bar's line when the archive wants a sign-in.
func signInMessage(err error) string {
	return "not signed in to the archive (" + err.Error() + "): Settings → Sign in"
}

// signInSession is what the sign-in panel needs of a session
// (signin.Session): who it is with, its state, and signing in and out.
type signInSession interface {
	Issuer() string
	Status() (signin.Status, error)
	Login(ctx context.Context, open func(authURL string) error) (signin.Status, error)
	LoginDevice(ctx context.Context, show func(signin.DeviceCode)) (signin.Status, error)
	Logout(ctx context.Context) (revoked bool, err error)
}

var _ signInSession = (*signin.Session)(nil)

// signInPanel says who is signed in to the archive's provider and when the
// access token and the session expire, with Sign in (the system browser),
// Sign in on another device (the device authorization grant, RFC 8628: a
// code to enter at the provider from any device with a browser), Cancel
// while either waits, and Sign out. It is a widget of its own so that
// Settings can place it.
type signInPanel struct {
	s        signInSession
	changed  func()      // after a sign-in or sign-out: reconnect
	showErr  func(error) // on the UI goroutine
	status   *widget.Label
	signIn   *widget.Button
	device   *widget.Button
	cancel   *widget.Button
	signOut  *widget.Button
	content  fyne.CanvasObject
	inFlight context.CancelFunc
	stopped  bool // Cancel ended the sign-in in flight
	// asked numbers the reads of the stored session refresh starts: an
	// answer is shown only if no newer read was started after it.
	asked uint64

	// The device sign-in's code and where to enter it, shown while it
	// waits: selectable, and each with a button that copies it.
	code     *widget.Label
	uri      *widget.Label
	copyCode *widget.Button
	copyURI  *widget.Button
	codeBox  *fyne.Container
}

// newSignInPanel returns the panel of s; changed runs after the session
// began or ended, showErr shows a failure.
func newSignInPanel(s signInSession, changed func(), showErr func(error)) *signInPanel {
	p := &signInPanel{s: s, changed: changed, showErr: showErr, status: widget.NewLabel("Reading the sign-in…")}
	p.status.Wrapping = fyne.TextWrapWord
	p.signIn = widget.NewButton("Sign in", p.startSignIn)
	p.device = widget.NewButton("Sign in on another device", p.startDeviceSignIn)
	p.cancel = widget.NewButton("Cancel", p.stop)
	p.cancel.Hide()
	p.signOut = widget.NewButton("Sign out", p.startSignOut)
	p.code = &widget.Label{Selectable: true, TextStyle: fyne.TextStyle{Monospace: true}}
	p.uri = &widget.Label{Selectable: true}
	p.code.ExtendBaseWidget(p.code)
	p.uri.ExtendBaseWidget(p.uri)
	p.copyCode = widget.NewButton("Copy code", func() { fyne.CurrentApp().Clipboard().SetContent(p.code.Text) })
	p.copyURI = widget.NewButton("Copy address", func() { fyne.CurrentApp().Clipboard().SetContent(p.uri.Text) })
	p.codeBox = container.NewVBox(
		widget.NewLabel("On a device with a browser, open this address and enter the code:"),
		container.NewBorder(nil, nil, nil, p.copyURI, p.uri),
		container.NewBorder(nil, nil, nil, p.copyCode, p.code))
	p.codeBox.Hide()
	p.content = container.NewVBox(p.status, p.codeBox, container.NewHBox(p.signIn, p.device, p.cancel, p.signOut))
	p.refresh()
	return p
}

// refresh shows the stored session (no network), read off the UI
// goroutine: the keyring may take its time, and a renewal under way holds
// the session. Each then runs once the session read is shown.
func (p *signInPanel) refresh(then ...func()) {
	p.showButtons()
	p.asked++
	ask, s := p.asked, p.s
	go func() {
		st, err := s.Status()
		ui(func() {
			if ask != p.asked {
				return // a newer read was started
			}
			p.showStatus(st, err)
			for _, fn := range then {
				fn()
			}
		})
	}()
}

// showStatus shows what refresh read. A sign-in under way keeps its own
// line.
func (p *signInPanel) showStatus(st signin.Status, err error) {
	var msg string
	switch {
	case errors.Is(err, signin.ErrNotSignedIn):
		msg = "Not signed in to " + p.s.Issuer()
		p.signOut.Disable()
	case err != nil:
		msg = "Sign-in: " + err.Error()
		p.signOut.Enable()
	default:
		msg = describeSession(st)
		p.signOut.Enable()
	}
	if p.inFlight == nil {
		p.status.SetText(msg)
	}
	p.showButtons()
}

// showButtons shows Cancel instead of the sign-ins while one is under way.
func (p *signInPanel) showButtons() {
	p.signIn.Enable()
	p.device.Enable()
	p.cancel.Hide()
	if p.inFlight != nil {
		p.signIn.Disable()
		p.device.Disable()
		p.cancel.Show()
	}
}

// describeSession says who is signed in and what expires when.
func describeSession(st signin.Status) string {
	msg := fmt.Sprintf("Signed in as %s at %s.\nAccess token expires %s", st.Identity, st.Issuer,
		st.AccessExpiry.Local().Format("2006-01-02 15:04"))
	switch {
	case !st.Renewable:
		msg += "; sign in again then."
	case st.SessionExpiry.IsZero():
		msg += "; renewed automatically while the session lasts."
	default:
		msg += "; renewed automatically until the session ends " + st.SessionExpiry.Local().Format("2006-01-02 15:04") + "."
	}
	return msg
}

// startSignIn opens the browser at the provider and waits (off the UI
// goroutine) for the sign-in to come back, at most ten minutes.
func (p *signInPanel) startSignIn() {
	p.begin(10*time.Minute, "Signing in: continue in the browser that opened…", func(ctx context.Context) error {
		_, err := p.s.Login(ctx, signin.OpenBrowser)
		return err
	})
}

// startDeviceSignIn asks the provider for a device code, shows it with the
// address to enter it at, and polls (off the UI goroutine) until the reader
// approved it on another device, the code expired, or Cancel.
func (p *signInPanel) startDeviceSignIn() {
	p.begin(30*time.Minute, "Asking "+p.s.Issuer()+" for a code…", func(ctx context.Context) error {
		_, err := p.s.LoginDevice(ctx, func(dc signin.DeviceCode) { ui(func() { p.showCode(dc) }) })
		return err
	})
}

// showCode shows a device sign-in's code while it waits.
func (p *signInPanel) showCode(dc signin.DeviceCode) {
	if p.inFlight == nil {
		return // cancelled meanwhile
	}
	p.uri.SetText(dc.VerificationURI)
	p.code.SetText(dc.UserCode)
	p.codeBox.Show()
	msg := "Waiting for the code to be entered at " + dc.VerificationURI
	if !dc.Expiry.IsZero() {
		msg += " (it expires " + dc.Expiry.Local().Format("15:04") + ")"
	}
	p.status.SetText(msg + "…")
}

// begin runs login off the UI goroutine with a deadline, the panel showing
// note meanwhile; Cancel stops it. A sign-in already under way wins.
func (p *signInPanel) begin(limit time.Duration, note string, login func(context.Context) error) {
	if p.inFlight != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	p.inFlight, p.stopped = cancel, false
	p.showButtons()
	p.status.SetText(note)
	go func() {
		err := login(ctx)
		ui(func() {
			cancel()
			p.inFlight = nil
			p.codeBox.Hide()
			p.code.SetText("")
			p.uri.SetText("")
			stopped := p.stopped
			switch {
			case err != nil && stopped:
				p.refresh(func() { p.status.SetText(p.status.Text + "\nSign-in cancelled.") })
			case err != nil:
				p.refresh()
				p.showErr(err)
			default:
				p.refresh()
				p.changed()
			}
		})
	}()
}

// stop cancels the sign-in in flight (the browser's or the device's).
func (p *signInPanel) stop() {
	if p.inFlight != nil {
		p.stopped = true
		p.inFlight()
	}
}

// startSignOut revokes the session at the provider and deletes it here.
func (p *signInPanel) startSignOut() {
	p.signOut.Disable()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := p.s.Logout(ctx)
		ui(func() {
			p.refresh()
			if err != nil && !errors.Is(err, signin.ErrNotSignedIn) {
				// The local copy is gone all the same.
				p.showErr(fmt.Errorf("signed out here; the provider did not confirm: %w", err))
			}
			p.changed()
		})
	}()
}

// signInWidget is Settings' sign-in panel for the configuration being
// edited; nil when its archive has no sign-in. The workstation keeps one
// panel per session, so that a sign-in still waiting for the browser shows
// when Settings open again.
func (ws *workstation) signInWidget(conf config.Config) fyne.CanvasObject {
	conf, err := ws.cfg.signInConfig(conf)
	if err != nil {
		return widget.NewLabel(err.Error())
	}
	s := conf.SignIn()
	if s == nil {
		return nil
	}
	if ws.signIn == nil || ws.signIn.s != s {
		if ws.signIn != nil {
			ws.signIn.close()
		}
		ws.signIn = newSignInPanel(s, func() {
			if ws.sync != nil {
				ws.sync.reload()
			}
		}, func(err error) { dialog.ShowError(err, ws.win) })
	}
	ws.signIn.refresh()
	return ws.signIn.content
}

// close stops a sign-in still waiting for the browser.
func (p *signInPanel) close() {
	if p.inFlight != nil {
		p.inFlight()
	}
}
