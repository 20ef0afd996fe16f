package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"teleread/app"
	"teleread/cache"
	tsync "teleread/sync"
)

func runOpen(g *globals, args []string) int {
	fs := flag.NewFlagSet("open", flag.ContinueOnError)
	tokenFile := fs.String("token-file", "", "file holding the bearer token for a DICOMweb study URL")
	noApp := fs.Bool("no-app", false, "only import and list the studies; do not open the app")
	targets, err := interleaved(fs, args)
	if err != nil {
		return 2
	}
	if len(targets) == 0 {
		fmt.Fprintln(stderr, "usage: teleread open FOLDER|ZIP|DICOMDIR|https://host/dicom-web/studies/UID [--token-file F] [--no-app]")
		return 2
	}
	c, err := g.openCache()
	if err != nil {
		return fail(err)
	}
	defer c.Close()

	studies := map[string]bool{}
	failed := false
	for _, t := range targets {
		t, err := fromLink(t)
		if err != nil {
			fmt.Fprintln(stderr, "teleread: open:", err)
			failed = true
			continue
		}
		if strings.HasPrefix(t, "https://") || strings.HasPrefix(t, "http://") {
			got, err := openStudyURL(g, c, t, *tokenFile)
			for uid := range got {
				studies[uid] = true
			}
			if err != nil {
				fmt.Fprintln(stderr, "teleread: open:", err)
				failed = true
			}
			continue
		}
		sum := c.ImportPaths([]string{t}, nil)
		for _, r := range sum.Rejected {
			fmt.Fprintf(stdout, "rejected: %q: %s\n", r.Name, r.Reason)
		}
		for _, r := range sum.Conflicts {
			fmt.Fprintf(stdout, "conflict: %q: %s (the cached copy is kept)\n", r.Name, r.Reason)
		}
		for uid := range sum.Studies {
			studies[uid] = true
		}
		if sum.AuditErr != nil {
			fmt.Fprintln(stderr, "teleread: open:", sum.AuditErr)
			failed = true
		}
	}
	if len(studies) == 0 {
		fmt.Fprintln(stderr, "teleread: open: no study found")
		return 1
	}
	uids := make([]string, 0, len(studies))
	for uid := range studies {
		uids = append(uids, uid)
	}
	sort.Strings(uids)
	for _, uid := range uids {
		if err := c.SetSource(uid, cache.SourceShared); err != nil {
			return fail(err)
		}
		s, err := c.StudyByUID(uid)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "%-10s %-24s %-12s %-8v %3d series %4d instances  %s  %s\n", s.StudyDate, s.PatientName, s.PatientID,
			s.ModalitiesInStudy, s.NumberOfSeries, s.NumberOfInstances, s.StudyDescription, s.StudyInstanceUID)
	}
	fmt.Fprintf(stdout, "opened %d studies (marked shared)\n", len(uids))
	status := 0
	if failed {
		status = 1
	}
	switch {
	case *noApp:
	case !hasDisplay():
		fmt.Fprintln(stdout, "no display: read them in the app (teleread app), where shared studies are listed first")
	default:
		// The app starts on the first of them as its worklist lists them.
		if code := startApp(g, "auto", app.Config{Cache: c, SamplesDir: defaultSamples(), SyncInterval: 30 * time.Second,
			OpenStudies: uids}); code != 0 {
			status = code
		}
	}
	return status
}

// parseStudyURL splits a DICOMweb study URL (…/studies/UID, optionally with
// a series or instance path after it) into the service root and the study.
func parseStudyURL(s string) (root, study string, err error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", "", fmt.Errorf("%q is not an http(s) URL", s)
	}
	i := strings.LastIndex(u.Path, "/studies/")
	if i < 0 {
		return "", "", fmt.Errorf("%s: not a DICOMweb study URL (…/studies/UID)", u.Redacted())
	}
	rest := strings.Split(strings.Trim(u.Path[i+len("/studies/"):], "/"), "/")
	study = rest[0]
	if study == "" {
		return "", "", fmt.Errorf("%s: no study UID", u.Redacted())
	}
	if len(rest) > 1 && rest[1] != "series" {
		return "", "", fmt.Errorf("%s: not a DICOMweb study URL (…/studies/UID)", u.Redacted())
	}
	r := *u
	r.Path, r.RawPath, r.RawQuery, r.Fragment = u.Path[:i], "", "", ""
	return r.String(), study, nil
}

// openStudyURL retrieves a study from a DICOMweb URL into the cache with the
// puller a sync uses (negotiation and link policy, staged group commits,
// cut-offs, reading order; a study already partly cached is completed). The
// bearer token comes from tokenFile; otherwise the configured credentials
// are used, but only for the configured archive's origin (see
// config.forTarget).
func openStudyURL(g *globals, c *cache.Cache, target, tokenFile string) (map[string]bool, error) {
	root, study, err := parseStudyURL(target)
	if err != nil {
		return nil, err
	}
	cfg, err := g.signedInConfig(c)
	if err != nil {
		return nil, err
	}
	cl, err := cfg.ForTarget(root, tokenFile).Client()
	if err != nil {
		return nil, err
	}
	if ls, err := tsync.OpenLinkStats(tsync.LinkStatsPath(c.Home())); err == nil {
		cl.UseLinkStats(ls)
	}
	// Without the cut-off table (an unreadable home) the study is still
	// fetched; a part cut off is then not remembered.
	co, err := tsync.OpenCutOffs(tsync.CutOffsPath(c.Home()), time.Duration(cfg.CutOffRetryHours*float64(time.Hour)))
	if err != nil {
		co = nil
	}
	n, bytes, err := tsync.FetchSharedStudy(context.Background(), cl, c, co, study)
	got := map[string]bool{}
	if s, serr := c.StudyByUID(study); serr == nil && s.NumberOfInstances > 0 {
		got[study] = true
		if aerr := c.Audit(cache.AuditImport, study, "retrieved from "+root); aerr != nil && err == nil {
			err = aerr
		}
	}
	if err != nil {
		return got, fmt.Errorf("retrieve study %s after %d instances: %w", study, n, err)
	}
	if len(got) == 0 {
		return got, fmt.Errorf("study %s: the archive returned no instance", study)
	}
	fmt.Fprintf(stdout, "retrieved %d instances of study %s (%s; link: %s)\n", n, study, humanBytes(bytes), cl.LinkEstimate())
	return got, nil
}

// fromLink turns a teleread:// link (what the desktop entry hands over when a
// link in a mail or a web page is clicked) into the DICOMweb study URL it
// names: teleread://HOST/PATH is https://HOST/PATH, and
// teleread://open?url=ENCODED carries any URL. Other targets are returned as
// they are. A link comes from anywhere on the web, so it may name only an
// http(s) URL: teleread://open?url=/dev/zero wrote 5.7 GB to tmp/.
func fromLink(t string) (string, error) {
	if !strings.HasPrefix(t, "teleread://") {
		return t, nil
	}
	u, err := url.Parse(t)
	if err != nil {
		return "", fmt.Errorf("link %q: %w", t, err)
	}
	if u.Host == "open" {
		inner := u.Query().Get("url")
		iu, err := url.Parse(inner)
		if err != nil || (iu.Scheme != "https" && iu.Scheme != "http") || iu.Host == "" {
			return "", fmt.Errorf("link %q: only an http(s) URL can be opened from a link", t)
		}
		return inner, nil
	}
	u.Scheme = "https"
	return u.String(), nil
}
