package app

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"teleread/sync/oidctest"
)

func init() { guiScenarios["device-sign-in"] = deviceSignInScenario }

// TestDeviceSignInInRealWindow: in a real window, Settings' "Sign in on
// another device" shows the code the provider (a real OpenID provider run
// by the test) gave and the address to enter it at, both selectable, and
// Copy code puts the code on the clipboard. Cancel stops a device sign-in
// nobody approved; approved at the provider as the user would on another
// device, the next one ends with the panel naming who is signed in.
func TestDeviceSignInInRealWindow(t *testing.T) {
	p := oidctest.New(t, oidctest.Options{})
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus")) // the sealed store
	path := filepath.Join(t.TempDir(), "config.json")
	// The archive is never asked here: the child runs no sync.
	writeConfig(t, path, map[string]any{"archive": "http://127.0.0.1:9/dicom-web", "reader": "Doe^Jane",
		"oauth2": map[string]any{"issuer": p.Issuer, "client_id": p.ClientID}})
	t.Setenv("TELEREAD_CONFIG", path)
	runInRealWindow(t, "device-sign-in")
	if n := len(p.RefreshTokens()); n != 1 {
		t.Errorf("the provider issued %d refresh tokens; want the one of the approved device sign-in", n)
	}
	if p.DevicePolls() == 0 {
		t.Error("the app never polled the provider's token endpoint with the device code")
	}
}

func deviceSignInScenario(rw *realWindow) {
	rw.do(rw.ws.showSettings)
	rw.waitUntil("Settings with the sign-in panel", 20*time.Second, func() bool { return rw.ws.signIn != nil })
	var p *signInPanel
	rw.do(func() { p = rw.ws.signIn })
	shown := func() (code, uri string) {
		rw.waitUntil("a device code shown", 20*time.Second, func() bool {
			code, uri = p.code.Text, p.uri.Text
			return p.codeBox.Visible() && code != "" && uri != ""
		})
		return code, uri
	}

	// Cancel stops a device sign-in nobody approved.
	rw.do(func() { test.Tap(p.device) })
	shown()
	rw.do(func() {
		if !p.device.Disabled() || !p.signIn.Disabled() || !p.cancel.Visible() {
			rw.errorf("while a code waits: device button disabled %v, sign-in disabled %v, Cancel shown %v",
				p.device.Disabled(), p.signIn.Disabled(), p.cancel.Visible())
		}
		test.Tap(p.cancel)
	})
	rw.waitUntil("the device sign-in cancelled", 20*time.Second, func() bool {
		return strings.Contains(p.status.Text, "cancelled") && !p.codeBox.Visible() && !p.device.Disabled()
	})

	// The code and the address, selectable and copied, entered on another
	// device.
	rw.do(func() { test.Tap(p.device) })
	code, uri := shown()
	rw.do(func() {
		if !p.code.Selectable || !p.uri.Selectable {
			rw.errorf("the code (selectable %v) and the address (selectable %v) cannot be selected", p.code.Selectable, p.uri.Selectable)
		}
		if !strings.Contains(p.status.Text, "Waiting") {
			rw.errorf("while the code waits the panel says %q", p.status.Text)
		}
		test.Tap(p.copyCode)
	})
	var clip string
	rw.do(func() { clip = fyne.CurrentApp().Clipboard().Content() })
	if clip != code {
		rw.errorf("Copy code put %q on the clipboard; want the code %q", clip, code)
	}
	if err := (oidctest.Browser{User: "reader", Password: "reader-pass"}).Approve(uri, code); err != nil {
		rw.fatalf("approving the code at %s: %v", uri, err)
	}
	rw.waitUntil("the panel names who signed in", 30*time.Second, func() bool {
		return strings.Contains(p.status.Text, "Signed in as") && strings.Contains(p.status.Text, "Ann Reader")
	})
	rw.do(func() {
		if p.codeBox.Visible() || p.cancel.Visible() || p.device.Disabled() {
			rw.errorf("after the sign-in: code shown %v, Cancel shown %v, device button disabled %v",
				p.codeBox.Visible(), p.cancel.Visible(), p.device.Disabled())
		}
	})
}
