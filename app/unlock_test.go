package app

import (
	"errors"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"teleread/cache"
)

// unlockHarness shows an unlock form for home in a test window; opened
// receives what it opened.
type unlockHarness struct {
	t      *testing.T
	form   *unlockForm
	q      *uiQueue
	opened chan *cache.Cache
}

func newUnlockHarness(t *testing.T, home string, isNew bool) *unlockHarness {
	t.Helper()
	q := &uiQueue{}
	old := ui
	ui = q.push
	t.Cleanup(func() { ui = old })
	test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	h := &unlockHarness{t: t, q: q, opened: make(chan *cache.Cache, 1)}
	open := func(pass []byte) (*cache.Cache, error) {
		return cache.OpenWith(home, cache.Options{Keystore: cache.KeystorePassphrase, Passphrase: func(r cache.PassphraseRequest) ([]byte, error) {
			if r.Retry {
				return nil, cache.ErrWrongPassphrase
			}
			return pass, nil
		}})
	}
	h.form = newUnlockForm(home, isNew, open, func(c *cache.Cache) error {
		h.opened <- c
		return nil
	})
	w.SetContent(h.form.content)
	return h
}

// submit types the passphrase(s), presses the button and waits for the
// answer to reach the form.
func (h *unlockHarness) submit(pass, again string) {
	h.t.Helper()
	h.form.pass.SetText("")
	test.Type(h.form.pass, pass)
	if h.form.again != nil {
		h.form.again.SetText("")
		test.Type(h.form.again, again)
	}
	test.Tap(h.form.button)
	deadline := time.Now().Add(30 * time.Second)
	for h.form.button.Disabled() || h.form.status.Text == "Unlocking…" {
		if time.Now().After(deadline) {
			h.t.Fatal("the form never got an answer")
		}
		h.q.runPending()
		if len(h.opened) > 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestUnlockFormExisting: without TELEREAD_PASSPHRASE the app asks for the
// passphrase in its window: a wrong one is said on the form and opens
// nothing; the right one opens the cache with the keys it had.
func TestUnlockFormExisting(t *testing.T) {
	home := t.TempDir()
	t.Setenv(cache.EnvPassphrase, "the right one")
	c, err := cache.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	want, err := c.StudyKey("1.2.3.4")
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	t.Setenv(cache.EnvPassphrase, "")

	h := newUnlockHarness(t, home, false)
	if h.form.again != nil {
		t.Fatal("an existing cache's passphrase is asked twice")
	}
	h.submit("the wrong one", "")
	if len(h.opened) > 0 || h.form.status.Text != "Wrong passphrase." || h.form.button.Disabled() {
		t.Fatalf("wrong passphrase: opened %d, status %q", len(h.opened), h.form.status.Text)
	}
	h.submit("the right one", "")
	select {
	case c := <-h.opened:
		defer c.Close()
		got, err := c.StudyKey("1.2.3.4")
		if err != nil || string(got) != string(want) {
			t.Fatalf("the cache opened with other keys (%v)", err)
		}
	default:
		t.Fatalf("right passphrase: nothing opened, status %q", h.form.status.Text)
	}
}

// TestUnlockFormNew: a new cache's passphrase is asked twice; two different
// answers open nothing; the same twice makes a passphrase cache.
func TestUnlockFormNew(t *testing.T) {
	home := t.TempDir()
	t.Setenv(cache.EnvPassphrase, "")
	h := newUnlockHarness(t, home, true)
	if h.form.again == nil {
		t.Fatal("a new passphrase is asked once")
	}
	h.submit("one", "two")
	if len(h.opened) > 0 || h.form.status.Text != "The two passphrases differ." {
		t.Fatalf("differing passphrases: opened %d, status %q", len(h.opened), h.form.status.Text)
	}
	h.submit("a new one", "a new one")
	select {
	case c := <-h.opened:
		c.Close()
	default:
		t.Fatalf("nothing opened, status %q", h.form.status.Text)
	}
	t.Setenv(cache.EnvPassphrase, "a new one")
	c, err := cache.Open(home)
	if err != nil {
		t.Fatalf("reopen with the chosen passphrase: %v", err)
	}
	c.Close()
	t.Setenv(cache.EnvPassphrase, "another")
	if _, err := cache.Open(home); !errors.Is(err, cache.ErrWrongPassphrase) {
		t.Fatalf("reopen with another passphrase: %v", err)
	}
}
