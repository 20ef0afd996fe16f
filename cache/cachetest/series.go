// Package cachetest makes test and benchmark inputs for the cache: series of
// many instances derived from one real file.
package cachetest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"teleread/viewer/dataset"
)

// MakeSeries writes n copies of the DICOM file at src into dir, each with its own
// SOP Instance UID (same length as the original, so no length field changes),
// and returns their paths. The copies share the original's study and series: a
// series of n instances, as a CT scanner would send.
func MakeSeries(src, dir string, n int) ([]string, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, fmt.Errorf("cachetest: %w", err)
	}
	f, err := dataset.Parse(bytes.NewReader(data), int64(len(data)), src)
	if err != nil {
		return nil, fmt.Errorf("cachetest: %w", err)
	}
	sop := f.String(dataset.SOPInstanceUID)
	if len(sop) < 8 {
		return nil, fmt.Errorf("cachetest: %s: SOP Instance UID %q too short to vary", src, sop)
	}
	if n > 89999 {
		return nil, fmt.Errorf("cachetest: at most 89999 instances")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cachetest: %w", err)
	}
	paths := make([]string, n)
	for i := range n {
		// Replace the last 5 characters with 10000+i: a valid UID component
		// (no leading zero) of the same length.
		uid := sop[:len(sop)-5] + fmt.Sprintf("%05d", 10000+i)
		if sop[len(sop)-6] == '.' && uid[len(uid)-5] == '0' {
			return nil, fmt.Errorf("cachetest: cannot vary %q", sop)
		}
		out := bytes.ReplaceAll(data, []byte(sop), []byte(uid))
		paths[i] = filepath.Join(dir, fmt.Sprintf("IM%05d.dcm", i))
		if err := os.WriteFile(paths[i], out, 0o644); err != nil {
			return nil, fmt.Errorf("cachetest: %w", err)
		}
	}
	return paths, nil
}
