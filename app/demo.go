package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"teleread/cache"
	tsync "teleread/sync"
	"teleread/sync/config"
	"teleread/sync/localarchive"
)

// DemoReader is the reader the demo archive assigns its studies to.
const DemoReader = "Demo^Reader"

// demoArchive is the first-run archive: a private Orthanc (with its DICOMweb
// plugin) on a loopback port, its storage in the cache directory so a restart
// finds the same studies and the reports already delivered there.
type demoArchive struct {
	server *localarchive.Server
}

// startDemoArchive starts the private Orthanc in dir and, when it holds no
// study yet, seeds it with the DICOM files of samples: each original stays as
// the patient's earlier study (a prior) and a copy with new UIDs, today's date
// and the demo reader in NameOfPhysiciansReadingStudy is the assigned study.
func startDemoArchive(dir, samples string, now time.Time) (*demoArchive, error) {
	srv, err := localarchive.Start(dir, localarchive.Options{})
	if err != nil {
		return nil, fmt.Errorf("app: demo archive: %w", err)
	}
	d := &demoArchive{server: srv}
	if err := d.seed(samples, now); err != nil {
		srv.Stop()
		return nil, err
	}
	return d, nil
}

func (d *demoArchive) seed(samples string, now time.Time) error {
	b, err := d.server.Get("/studies")
	if err != nil {
		return fmt.Errorf("app: demo archive: %w", err)
	}
	var ids []string
	if err := json.Unmarshal(b, &ids); err != nil {
		return fmt.Errorf("app: demo archive: studies: %w", err)
	}
	if len(ids) > 0 {
		return nil // seeded on an earlier run
	}
	paths, _ := filepath.Glob(filepath.Join(samples, "*.dcm"))
	if len(paths) == 0 {
		return fmt.Errorf("app: demo archive: no sample studies in %q", samples)
	}
	sort.Strings(paths)
	var firstErr error
	for _, p := range paths {
		if _, err := d.server.UploadFile(p); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	b, err = d.server.Get("/studies?expand")
	if err != nil {
		return fmt.Errorf("app: demo archive: %w", err)
	}
	var studies []struct {
		MainDicomTags struct{ StudyInstanceUID, StudyDescription string }
	}
	if err := json.Unmarshal(b, &studies); err != nil {
		return fmt.Errorf("app: demo archive: studies: %w", err)
	}
	if len(studies) == 0 {
		return fmt.Errorf("app: demo archive: no sample was accepted: %v", firstErr)
	}
	for i, st := range studies {
		// Assigned over the last hours of the night, so the turnaround column
		// has something to say; the first one is STAT.
		at := now.Add(-time.Duration(len(studies)-i) * 7 * time.Minute)
		replace := map[string]string{
			"NameOfPhysiciansReadingStudy": DemoReader,
			"StudyDate":                    at.Format("20060102"),
			"StudyTime":                    at.Format("150405"),
		}
		if i == 0 {
			replace["RequestedProcedurePriority"] = "STAT"
		}
		if _, err := d.server.CopyStudy(st.MainDicomTags.StudyInstanceUID, replace); err != nil {
			return fmt.Errorf("app: demo archive: assign %s: %w", st.MainDicomTags.StudyInstanceUID, err)
		}
	}
	return nil
}

// link is the archive link the sync loop uses.
func (d *demoArchive) link(priors int) (*archiveLink, error) {
	c, err := tsync.New(tsync.Config{BaseURL: d.server.DICOMwebURL})
	if err != nil {
		return nil, fmt.Errorf("app: demo archive: %w", err)
	}
	return &archiveLink{client: c, id: "demo", reader: DemoReader, priors: priors,
		display: d.server.DICOMwebURL + " (demo archive)",
		note:    "demo archive: a private Orthanc with the sample studies, assigned to " + personName(DemoReader),
		close:   d.server.Stop}, nil
}

// connector returns how the sync loop reaches the archive: the configured one
// (Config.Archive), else the one in the settings, else (when demo is set) the demo archive seeded from samples, else
// errNoArchive. Without Orthanc the samples are imported into the cache instead
// and the loop reports why there is no archive.
func (cfg *Config) connector() connectFunc {
	return func(ctx context.Context) (*archiveLink, error) {
		if cfg.Archive.Configured() {
			return configuredLink(cfg.Archive, cfg.Cache)
		}
		s, serr := LoadSettings(cfg.Preferences, cfg.Home)
		if s.ArchiveURL != "" {
			if serr != nil && s.AuthKind != "none" {
				return nil, fmt.Errorf("the stored archive password cannot be opened: enter it again in Settings")
			}
			c, err := clientFor(s)
			if err != nil {
				return nil, err
			}
			q, err := parseWorklistQuery(s.WorklistQuery)
			if err != nil {
				return nil, err
			}
			reader := s.ReaderName
			if reader == "" && q == nil {
				return nil, errors.New("no reader name: Settings → Reader name (as the archive writes it)")
			}
			return &archiveLink{client: c, id: c.BaseURL(), reader: reader, query: q, priors: s.Priors, display: c.BaseURL()}, nil
		}
		if cfg.SamplesDir == "" || cfg.NoDemoArchive {
			return nil, errNoArchive
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
		priors := s.Priors
		if priors <= 0 {
			priors = 2
		}
		return d.link(priors)
	}
}

// configuredLink is the link to the archive the configuration names, read the
// way `teleread sync` reads it: credentials (token file, basic, bearer, OAuth2
// client credentials), CA file, UPS worklist and cache limit.
func configuredLink(conf config.Config, c *cache.Cache) (*archiveLink, error) {
	ups, err := conf.UPS()
	if err != nil {
		return nil, err
	}
	if conf.Reader == "" && !ups {
		return nil, fmt.Errorf("no reader: put \"reader\" in %s or set TELEREAD_READER", config.Path())
	}
	client, err := conf.Client()
	if err != nil {
		return nil, err
	}
	link := &archiveLink{client: client, id: client.BaseURL(), reader: conf.Reader, priors: 2,
		display: client.BaseURL(), cacheLimit: conf.CacheLimitBytes()}
	if ups {
		if link.ups, err = conf.UPSProvider(client, c); err != nil {
			return nil, err
		}
	}
	return link, nil
}
