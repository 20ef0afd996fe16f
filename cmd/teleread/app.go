package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"teleread/app"
	"teleread/cache"
)

func runApp(g *globals, args []string) int {
	fs := flag.NewFlagSet("app", flag.ContinueOnError)
	samples := fs.String("samples", defaultSamples(), "sample studies of the first run: a private Orthanc is seeded with them when no archive is configured")
	renderer := fs.String("renderer", "auto", "image renderer: auto (GPU on a hardware GL driver, else CPU), gpu or cpu")
	noDemo := fs.Bool("no-demo", false, "without a configured archive, import the samples into the cache instead of starting the demo archive")
	interval := fs.Duration("sync-interval", 30*time.Second, "time between worklist pulls")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if !hasDisplay() {
		fmt.Fprintln(stderr, "teleread: no display (DISPLAY and WAYLAND_DISPLAY are unset).\n"+
			"The reading app needs a graphical session. On a headless machine run it under a virtual display:\n"+
			"    xvfb-run -a teleread\n"+
			"Headless commands work without one: teleread import|studies|info|render|verify ...")
		return 1
	}
	cfg := app.Config{SamplesDir: *samples, NoDemoArchive: *noDemo, SyncInterval: *interval}
	c, err := g.openCache()
	switch {
	case err == nil:
		defer c.Close()
		cfg.Cache = c
	case errors.Is(err, cache.ErrPassphraseRequired) || errors.Is(err, cache.ErrNoKeystore):
		// No keyring, no TELEREAD_PASSPHRASE and no terminal (started from
		// the desktop): the window asks for the passphrase.
		info, ierr := cache.ReadKeyInfo(g.home)
		cfg.NewPassphrase = ierr == nil && info.Keystore == ""
		cfg.OpenCache = func(pass []byte) (*cache.Cache, error) {
			return cache.OpenWith(g.home, cache.Options{Keystore: keystoreForDialog(), Passphrase: func(req cache.PassphraseRequest) ([]byte, error) {
				if req.Retry {
					return nil, cache.ErrWrongPassphrase
				}
				return pass, nil
			}})
		}
	default:
		return fail(err)
	}
	return startApp(g, *renderer, cfg)
}

// keystoreForDialog is the keystore the app's passphrase dialog opens with:
// $TELEREAD_KEYSTORE when set, else the passphrase (auto would try the
// keyring again, which just failed).
func keystoreForDialog() string {
	if k := os.Getenv(cache.EnvKeystore); k != "" {
		return k
	}
	return cache.KeystorePassphrase
}

// hasDisplay reports whether a graphical session is there for the app.
func hasDisplay() bool { return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != "" }

// startApp runs the reading app with cfg (its Cache open) until its window is
// closed, with the renderer asked for (auto, gpu or cpu). The app reads the
// configuration the commands read (file, then environment): when it names an
// archive the app syncs from it and starts no demo archive. A configuration
// that cannot be read stops it here, as it stops every command.
func startApp(g *globals, renderer string, cfg app.Config) int {
	if _, err := loadConfig(); err != nil {
		return fail(err)
	}
	newRenderer, info, closeGL, err := app.ChooseRenderer(renderer)
	if err != nil {
		return fail(err)
	}
	defer closeGL()
	cfg.Home, cfg.NewRenderer, cfg.Renderer = g.home, newRenderer, info
	if err := app.Run(cfg); err != nil {
		return fail(err)
	}
	return 0
}

// defaultSamples is $TELEREAD_SAMPLES, else testdata/samples beside the working
// directory or the executable (where `make run` finds them), else none.
func defaultSamples() string {
	if d := os.Getenv("TELEREAD_SAMPLES"); d != "" {
		return d
	}
	cands := []string{filepath.Join("testdata", "samples")}
	if exe, err := os.Executable(); err == nil {
		cands = append(cands, filepath.Join(filepath.Dir(exe), "testdata", "samples"),
			filepath.Join(filepath.Dir(exe), "..", "testdata", "samples"))
	}
	for _, d := range cands {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
	}
	return ""
}
