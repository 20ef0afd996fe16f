package main

import (
	"archive/zip"
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"teleread/cache"
	"teleread/cache/share"
)

func runExport(g *globals, args []string) int {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	deid := fs.Bool("deidentify", false, "apply the DICOM Basic Application Level Confidentiality Profile (PS3.15 E)")
	out := fs.String("o", "", "write a zip file set (files under DICOM/ and a DICOMDIR)")
	keepDates := fs.Bool("keep-dates", false, "with --deidentify: keep longitudinal dates, shifted by one offset for the export")
	keepDevice := fs.Bool("keep-device", false, "with --deidentify: keep device identity (serial numbers, station names)")
	burnedIn := fs.Bool("include-burned-in", false, "with --deidentify: include images whose Burned In Annotation is YES or absent")
	cleanPixels := fs.Bool("clean-pixels", false, "with --deidentify: blank burned-in text (Clean Pixel Data Option): outside the ultrasound regions, or a band at the top of other images")
	cleanBand := fs.String("clean-band", share.DefaultBand.String(), "with --clean-pixels: the top band blanked in images other than ultrasound, in rows (48) or percent of the rows (10%)")
	stow := fs.String("stow", "", "DICOMweb root to send the copy to with STOW-RS (e.g. https://host/dicom-web)")
	tokenFile := fs.String("token-file", "", "file holding the bearer token for --stow")
	studies, err := interleaved(fs, args)
	if err != nil {
		return 2
	}
	if len(studies) == 0 || (*out == "" && *stow == "") {
		fmt.Fprintln(stderr, "usage: teleread export [--deidentify [--keep-dates] [--keep-device] [--include-burned-in] [--clean-pixels [--clean-band N|N%]]] STUDY_UID... (-o OUT.zip | --stow URL [--token-file F])")
		return 2
	}
	if !*deid && (*keepDates || *keepDevice || *burnedIn || *cleanPixels) {
		fmt.Fprintln(stderr, "teleread: export: --keep-dates, --keep-device, --include-burned-in and --clean-pixels need --deidentify")
		return 2
	}
	band, err := share.ParseBand(*cleanBand)
	if err != nil {
		fmt.Fprintln(stderr, "teleread: export: --clean-band:", err)
		return 2
	}
	c, err := g.openCache()
	if err != nil {
		return fail(err)
	}
	defer c.Close()

	// The zip is written first, also when only STOW-RS was asked for, so that
	// what is sent is exactly the copy written (same replacement UIDs).
	zipPath := *out
	var tmp *os.File
	if zipPath != "" {
		tmp, err = os.CreateTemp(filepath.Dir(zipPath), ".export-*.zip")
	} else {
		tmp, err = os.CreateTemp("", "teleread-export-*.zip")
	}
	if err != nil {
		fmt.Fprintln(stderr, "teleread: export:", err)
		return 1
	}
	defer os.Remove(tmp.Name())
	x := &share.Exporter{Cache: c, Deidentify: *deid, Options: share.Options{
		KeepDates: *keepDates, KeepDevice: *keepDevice, IncludeBurnedIn: *burnedIn,
		CleanPixels: *cleanPixels, CleanBand: band}}
	// On a terminal a line shows instances written of those cached, the
	// bytes of the zip so far and the rate.
	line := newLiveLine(isTerminal(os.Stderr))
	written := &countingWriter{w: tmp}
	if line.tty {
		total := instancesCached(c, studies)
		start := time.Now()
		x.Progress = func(n int) {
			line.draw("export: " + progressLine("files", n, total, written.n, time.Since(start)))
		}
	}
	sum, err := x.WriteZip(written, studies)
	line.clear()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	printExportSummary(sum)
	if err != nil {
		fmt.Fprintln(stderr, "teleread: export:", err)
		return 1
	}
	if zipPath != "" {
		if err := os.Rename(tmp.Name(), zipPath); err != nil {
			fmt.Fprintln(stderr, "teleread: export:", err)
			return 1
		}
		fmt.Fprintf(stdout, "wrote %s\n", zipPath)
	}
	code := 0
	if len(sum.Failed) > 0 {
		code = 1
	}
	action := cache.AuditExport
	if *deid {
		action = cache.AuditExportDeid
	}
	audit := func(dest string) bool {
		for _, uid := range studies {
			if err := c.Audit(action, uid, dest); err != nil {
				fmt.Fprintln(stderr, "teleread: export:", err)
				return false
			}
		}
		return true
	}
	if zipPath != "" && !audit("zip "+zipPath) {
		return 1
	}
	if *stow != "" {
		src := tmp.Name()
		if zipPath != "" {
			src = zipPath
		}
		if err := stowZip(g, c, src, *stow, *tokenFile, sum); err != nil {
			fmt.Fprintln(stderr, "teleread: export: stow:", err)
			return 1
		}
		if !audit("stow " + redacted(*stow)) {
			return 1
		}
	}
	return code
}

func printExportSummary(sum share.Summary) {
	if sum.Deidentified {
		opts := []string{"Basic Application Confidentiality Profile"}
		if sum.Options.KeepDates {
			opts = append(opts, "dates kept, shifted")
		}
		if sum.Options.KeepDevice {
			opts = append(opts, "device identity kept")
		}
		if sum.Options.CleanPixels {
			opts = append(opts, fmt.Sprintf("pixels cleaned in %d images", sum.Cleaned))
		}
		fmt.Fprintf(stdout, "de-identified (%s)\n", strings.Join(opts, "; "))
	} else {
		fmt.Fprintln(stdout, "NOT de-identified: the copy carries the patient's identity")
	}
	fmt.Fprintf(stdout, "exported %d instances in %d series of %d studies\n", sum.Instances, sum.Series, sum.Studies)
	if n := len(sum.BurnedIn); n > 0 {
		if sum.Options.CleanPixels {
			fmt.Fprintf(stdout, "left out: %d images whose Burned In Annotation is absent or YES and whose pixels could not be cleaned safely:\n", n)
		} else {
			fmt.Fprintf(stdout, "left out: %d images whose Burned In Annotation is absent or YES (burned-in text may identify the patient); --include-burned-in exports them, --clean-pixels blanks the text:\n", n)
		}
		for _, s := range sum.BurnedIn {
			fmt.Fprintf(stdout, "  %s, instance %s: %s\n", s.Series, s.InstanceNumber, s.Reason)
		}
	} else if sum.Deidentified && sum.Options.IncludeBurnedIn {
		fmt.Fprintln(stdout, "images whose Burned In Annotation is absent or YES are included (--include-burned-in): check their pixels for burned-in text")
	} else if sum.Deidentified {
		fmt.Fprintln(stdout, "no image left out for burned-in annotation (each says Burned In Annotation NO)")
	}
	for _, s := range sum.Failed {
		fmt.Fprintf(stdout, "failed: %s, instance %s: %s\n", s.Series, s.InstanceNumber, s.Reason)
	}
}

// stowBatch bounds the bytes sent in one STOW-RS request.
const stowBatch = 32 << 20

// stowZip sends the files of an exported zip to a DICOMweb archive and checks
// that the archive referenced every SOP Instance UID sent.
func stowZip(g *globals, c *cache.Cache, zipPath, root, tokenFile string, sum share.Summary) error {
	cfg, err := g.signedInConfig(c)
	if err != nil {
		return err
	}
	cl, err := cfg.ForTarget(root, tokenFile).Client()
	if err != nil {
		return err
	}
	uidOf := map[string]string{}
	for _, r := range sum.Records {
		uidOf[strings.Join(r.FileID, "/")] = r.SOPInstanceUID
	}
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return err
	}
	defer zr.Close()
	var batch [][]byte
	var uids []string
	size, stored := 0, 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		res, err := cl.Store(context.Background(), "", batch...)
		if err != nil {
			return err
		}
		for _, u := range uids {
			if !res.StoredUID(u) {
				return fmt.Errorf("the archive did not confirm instance %s", u)
			}
		}
		stored += len(uids)
		batch, uids, size = nil, nil, 0
		return nil
	}
	for _, zf := range zr.File {
		uid, ok := uidOf[zf.Name]
		if !ok {
			continue // the DICOMDIR
		}
		rc, err := zf.Open()
		if err != nil {
			return err
		}
		b, err := io.ReadAll(io.LimitReader(rc, int64(zf.UncompressedSize64)+1))
		rc.Close()
		if err != nil {
			return err
		}
		batch, uids, size = append(batch, b), append(uids, uid), size+len(b)
		if size >= stowBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "stored %d instances at %s\n", stored, cl.BaseURL())
	return nil
}

// writePrivate writes a file of patient data (an exported report) readable
// by its owner alone, also when it replaces a wider one: os.WriteFile keeps
// an existing file's mode and applies the umask to a new one.
func writePrivate(p string, data []byte) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", p, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", p, err)
	}
	return f.Close()
}

// redacted returns a URL without user information, for the audit trail.
func redacted(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	return u.String()
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// instancesCached is the number of instances the cache holds for studies,
// the total an export's progress line counts towards (0, no total, when
// the cache cannot say).
func instancesCached(c *cache.Cache, studies []string) int {
	n := 0
	for _, uid := range studies {
		series, err := c.SeriesOf(uid)
		if err != nil {
			return 0
		}
		for _, s := range series {
			n += s.NumberOfInstances
		}
	}
	return n
}
