package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	tsync "teleread/sync"
	"teleread/sync/config"
	"teleread/sync/localarchive"
)

// connector returns how the sync service reaches the archive. It reads the
// configuration anew on every connect, so that what Settings saved takes
// effect when the service reloads: the configured archive when there is one,
// else (with sample studies and the demo allowed) the demo archive seeded
// from them, else ErrNoArchive. Without Orthanc the samples are imported into
// the cache instead and the error says why there is no archive.
func (cfg *Config) connector() tsync.ConnectFunc {
	return func(ctx context.Context) (*tsync.Link, error) {
		conf, err := loadConfig()
		if err != nil {
			return nil, err
		}
		if conf, err = cfg.signInConfig(conf); err != nil {
			return nil, err
		}
		if conf.Configured() {
			return conf.Link(cfg.Cache)
		}
		if cfg.SamplesDir == "" || cfg.NoDemoArchive {
			return nil, fmt.Errorf("app: %w", tsync.ErrNoArchive)
		}
		d, err := startDemoArchive(filepath.Join(cfg.Home, "demo-archive"), cfg.SamplesDir, cfg.Now())
		if err != nil {
			n, ierr := ImportSamplesIfEmpty(cfg.Cache, cfg.SamplesDir)
			why := err.Error()
			if errors.Is(err, localarchive.ErrNotInstalled) {
				why = "Orthanc is not installed (Debian packages orthanc, orthanc-dicomweb)"
			}
			if ierr != nil {
				return nil, fmt.Errorf("no archive: %s; the sample studies could not be imported: %v", why, ierr)
			}
			if n > 0 {
				return nil, fmt.Errorf("no archive: %s; the %d sample instances were imported into the local cache instead", why, n)
			}
			return nil, fmt.Errorf("no archive: %s; reading the local cache", why)
		}
		if ctx.Err() != nil {
			d.server.Stop()
			return nil, ctx.Err()
		}
		return d.link(conf.PriorsPerStudy(), conf.Turnaround())
	}
}

// loadConfig is config.Load, the loader every command uses.
func loadConfig() (config.Config, error) { return config.Load() }
