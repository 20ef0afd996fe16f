package app

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"teleread/app/internal/format"
	tsync "teleread/sync"
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

// link is the archive link the sync service uses.
func (d *demoArchive) link(priors int, turnaround tsync.Turnaround) (*tsync.Link, error) {
	c, err := tsync.New(tsync.Config{BaseURL: d.server.DICOMwebURL})
	if err != nil {
		return nil, fmt.Errorf("app: demo archive: %w", err)
	}
	return &tsync.Link{Client: c, ID: "demo", Reader: DemoReader, Priors: tsync.PriorPolicy{Max: priors},
		Turnaround: turnaround, Display: d.server.DICOMwebURL + " (demo archive)",
		Note:  "demo archive: a private Orthanc with the sample studies, assigned to " + format.PersonName(DemoReader),
		Close: d.server.Stop}, nil
}
