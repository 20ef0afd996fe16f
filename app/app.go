package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"teleread/cache"
	"teleread/sync/config"
	"teleread/viewer"
)

// AppID is the Fyne application ID; it names where Fyne keeps the preferences.
const AppID = "org.teleread.workstation"

// RendererInfo says which renderer draws the images, for the status bar.
type RendererInfo struct {
	Kind string // "CPU" or "GPU"
	// GL is the GL renderer string of the context the GPU renderer uses, or why
	// the CPU renderer was chosen ("no GL context", "software GL: llvmpipe").
	GL string
}

// String formats the information for the status bar.
func (r RendererInfo) String() string {
	if r.GL == "" {
		return r.Kind + " renderer"
	}
	return r.Kind + " renderer (" + r.GL + ")"
}

// NewRendererFunc makes the renderer for one viewport. Each viewport calls it once
// and uses the renderer from one goroutine only.
type NewRendererFunc func() (viewer.Renderer, error)

// Config is what Run needs. The zero value of every field but Cache is usable.
// The archive, the reader, the credentials and the reader's targets come from
// the configuration every command reads (package sync/config: the file at
// config.Path(), then the environment), read anew whenever Settings change
// it; the demo archive starts only when it names no archive.
type Config struct {
	// Home is the cache directory; it also holds the key that protects stored
	// secrets and the demo archive's storage. "" is Cache.Home().
	Home string
	// Cache is the open study cache; reports and their drafts live in it too.
	// Required, unless OpenCache is set.
	Cache *cache.Cache
	// OpenCache, when Cache is nil, opens the cache with a passphrase the
	// window asks for first (a cache whose master key is wrapped by a
	// passphrase that neither TELEREAD_PASSPHRASE nor a terminal gave).
	// Run closes the cache it opened so.
	OpenCache OpenCacheFunc
	// NewPassphrase says the passphrase OpenCache gets will protect a new
	// cache: it is asked twice.
	NewPassphrase bool
	// SamplesDir holds the sample studies of the first run: when no archive is
	// configured, a private Orthanc is started and seeded with them (see
	// NoDemoArchive); without Orthanc they are imported into an empty cache.
	// "" means no first-run studies.
	SamplesDir string
	// NoDemoArchive, when set, imports SamplesDir into an empty cache instead of
	// starting the demo archive.
	NoDemoArchive bool
	// SyncInterval is the time between worklist pulls; 0 is 30 s. The outbox is
	// flushed every 2 s (or the interval, when shorter) and right after signing.
	SyncInterval time.Duration
	// NewRenderer makes viewport renderers; nil uses viewer.CPURenderer.
	NewRenderer NewRendererFunc
	// Renderer describes what NewRenderer makes, for the status bar; the zero
	// value says "CPU renderer".
	Renderer RendererInfo
	// Status delivers online state, sync progress and outbox counts from a sync
	// run outside the app, beside the app's own sync loop; nil is none.
	Status <-chan StatusEvent
	// Metrics, when not nil, receives the app's timings (first image, scroll rate,
	// cine drops) for benchmarks and tests; nil keeps them internal.
	Metrics *Metrics
	// Preferences are where an earlier version kept its settings (moved into
	// the configuration file on start); nil uses the Fyne app's preferences.
	Preferences fyne.Preferences
	// Now returns the current time; nil is time.Now.
	Now func() time.Time
	// OpenStudies are cached studies to show when the window opens (those
	// `teleread open` imported): the first as the worklist lists them is
	// opened in the viewer. Empty: the worklist is shown.
	OpenStudies []string
}

// ErrNoCache is returned by Run when Config.Cache is nil.
var ErrNoCache = errors.New("app: no cache")

func (c *Config) defaults() error {
	if c.Cache == nil {
		return ErrNoCache
	}
	if c.Home == "" {
		c.Home = c.Cache.Home()
	}
	if c.NewRenderer == nil {
		c.NewRenderer = func() (viewer.Renderer, error) { return &viewer.CPURenderer{}, nil }
		if c.Renderer.Kind == "" {
			c.Renderer = RendererInfo{Kind: "CPU"}
		}
	}
	if c.Renderer.Kind == "" {
		c.Renderer.Kind = "CPU"
	}
	if c.Metrics == nil {
		c.Metrics = &Metrics{}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// Run opens the workstation window and returns when it is closed. It must be
// called from the main goroutine (Fyne's rule).
func Run(cfg Config) error {
	if cfg.Cache == nil && cfg.OpenCache == nil {
		return ErrNoCache
	}
	a := fyneapp.NewWithID(AppID)
	if cfg.Preferences == nil {
		cfg.Preferences = a.Preferences()
	}
	a.Settings().SetTheme(newTheme())
	w := a.NewWindow("Teleread")
	w.Resize(fyne.NewSize(1600, 960))
	if cfg.Cache == nil {
		runLocked(cfg, a, w)
		return nil
	}
	firstRun(cfg, cfg.Cache)
	ws, err := startWorkstation(cfg, a, w)
	if err != nil {
		return err
	}
	defer ws.close()
	w.ShowAndRun()
	return nil
}

// startWorkstation fills the window with the workstation over cfg.Cache and
// starts its sync.
func startWorkstation(cfg Config, a fyne.App, w fyne.Window) (*workstation, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	// Settings of an earlier version, kept in the preferences, go into the
	// configuration file once.
	note, merr := migratePreferences(cfg.Preferences, cfg.Home, config.Path())
	if merr != nil {
		note = merr.Error()
	}
	ws, err := newWorkstation(cfg, a, w)
	if err != nil {
		return nil, err
	}
	if note != "" {
		ws.status.setMessage(note)
	}
	ws.startSync()
	return ws, nil
}

// firstRun imports the samples into c when it holds no study and no demo
// archive is started. It reads and writes the cache, so it runs before the
// window is shown or, behind the unlock form, on the goroutine that opened
// the cache: never on the UI goroutine of a window on screen.
func firstRun(cfg Config, c *cache.Cache) {
	if !cfg.NoDemoArchive {
		return
	}
	if _, err := ImportSamplesIfEmpty(c, cfg.SamplesDir); err != nil {
		fmt.Fprintln(os.Stderr, "teleread:", err)
	}
}

// ImportSamplesIfEmpty imports every file under dir when c holds no study yet, and
// returns how many instances were imported. An empty dir or a cache with studies
// imports nothing.
func ImportSamplesIfEmpty(c *cache.Cache, dir string) (int, error) {
	if dir == "" {
		return 0, nil
	}
	studies, err := c.Studies()
	if err != nil {
		return 0, fmt.Errorf("app: first run: %w", err)
	}
	if len(studies) > 0 {
		return 0, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("app: first run: samples %s: %w", dir, err)
	}
	var paths []string
	for _, e := range entries {
		if !e.IsDir() && filepath.Ext(e.Name()) == ".dcm" {
			paths = append(paths, filepath.Join(dir, e.Name()))
		}
	}
	sum := c.ImportPaths(paths, nil)
	if len(sum.Rejected) > 0 {
		return sum.Imported, fmt.Errorf("app: first run: %d sample files rejected (first: %s: %s)",
			len(sum.Rejected), sum.Rejected[0].Name, sum.Rejected[0].Reason)
	}
	return sum.Imported, nil
}
