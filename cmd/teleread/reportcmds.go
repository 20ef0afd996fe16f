package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"teleread/cache"
	"teleread/cache/report"
	tsync "teleread/sync"
)

// textArg reads a TEXT|@FILE argument.
func textArg(v string) (string, error) {
	if strings.HasPrefix(v, "@") {
		b, err := os.ReadFile(v[1:])
		if err != nil {
			return "", err
		}
		return string(b), nil
	}
	return v, nil
}

func runReport(g *globals, args []string) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	study := fs.String("study", "", "Study Instance UID")
	findings := fs.String("findings", "", "findings: TEXT or @FILE")
	impression := fs.String("impression", "", "impression: TEXT or @FILE")
	recommendation := fs.String("recommendation", "", "recommendation: TEXT or @FILE")
	sign := fs.Bool("sign", false, "sign the report (it can no longer change; corrections are addenda)")
	addendum := fs.String("addendum", "", "add a signed addendum: TEXT or @FILE")
	export := fs.String("export", "", "write the latest signed SR to this file")
	consult := fs.Bool("consult", false, "a consultation note instead of the reading report")
	reader := fs.String("reader", "", "reader's name (default: config / TELEREAD_READER)")
	incompleteOK := fs.Bool("incomplete-ok", false, "sign even though the study is not completely in the cache")
	if _, err := interleaved(fs, args); err != nil {
		return 2
	}
	if *study == "" {
		fmt.Fprintln(stderr, "usage: teleread report --study UID [--findings TEXT|@FILE] [--impression TEXT|@FILE] [--sign [--incomplete-ok]] | --addendum TEXT|@FILE | --export OUT.dcm")
		return 2
	}
	conf, err := loadConfig()
	if err != nil {
		return fail(err)
	}
	if *reader == "" {
		*reader = conf.Reader
	}
	if *reader == "" {
		*reader = "Reader"
	}
	kind := report.KindReport
	if *consult {
		kind = report.KindConsult
	}
	c, err := g.openCache()
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	st, err := c.StudyByUID(*study)
	if err != nil {
		return fail(err)
	}
	now := time.Now()
	observer := report.Observer{Name: *reader, Organization: conf.Organization}
	r, err := c.LoadReport(*study, kind)
	if errors.Is(err, cache.ErrNotFound) {
		tmpl := report.Template{}
		if ts, err := report.BuiltinTemplates(); err == nil {
			mod := ""
			if len(st.ModalitiesInStudy) > 0 {
				mod = st.ModalitiesInStudy[0]
			}
			tmpl, _ = report.SelectTemplate(ts, mod, "")
		}
		r = report.NewDraft(kind, *study, observer, tmpl, now)
	} else if err != nil {
		return fail(err)
	}

	if *findings != "" || *impression != "" || *recommendation != "" {
		s := r.Sections
		for _, f := range []struct {
			v   string
			dst *string
		}{{*findings, &s.Findings}, {*impression, &s.Impression}, {*recommendation, &s.Recommendation}} {
			if f.v == "" {
				continue
			}
			text, err := textArg(f.v)
			if err != nil {
				return fail(err)
			}
			*f.dst = text
		}
		if err := r.Edit(s); err != nil {
			return fail(err)
		}
		if err := c.SaveDraft(r); err != nil {
			return fail(err)
		}
	}
	if *sign {
		// A signature cannot be taken back: signing on part of a study needs
		// the reader to say so.
		comp, err := c.StudyCompleteness(*study)
		if err != nil {
			return fail(err)
		}
		if !comp.Complete() && !*incompleteOK {
			return fail(fmt.Errorf("%w; not signed (--incomplete-ok signs anyway)",
				&cache.IncompleteError{StudyInstanceUID: *study, Completeness: comp}))
		}
		if r.State == report.StateDraft {
			if err := c.SaveDraft(r); err != nil {
				return fail(err)
			}
		}
		doc, err := c.SignReport(r, now)
		if err != nil {
			return fail(err)
		}
		if !comp.Complete() {
			fmt.Fprintf(stdout, "signed on an incomplete study: %s\n", comp.Describe())
		}
		fmt.Fprintf(stdout, "signed: SR %s queued for delivery\n", doc.SOPInstanceUID)
	}
	if *addendum != "" {
		text, err := textArg(*addendum)
		if err != nil {
			return fail(err)
		}
		doc, err := c.AddAddendum(r, text, observer, now)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "addendum: SR %s queued for delivery\n", doc.SOPInstanceUID)
	}
	if *export != "" {
		if len(r.Documents) == 0 {
			return fail(fmt.Errorf("report for %s is not signed: nothing to export", *study))
		}
		last := r.Documents[len(r.Documents)-1]
		sr, err := c.OutboxSR(last.SOPInstanceUID)
		if err != nil {
			return fail(err)
		}
		if err := writePrivate(*export, sr); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "exported SR %s to %s\n", last.SOPInstanceUID, *export)
	}
	if !*sign && *addendum == "" && *export == "" {
		fmt.Fprintf(stdout, "state: %s\nfindings: %s\nimpression: %s\n", r.State, r.Sections.Findings, r.Sections.Impression)
		if r.Sections.Recommendation != "" {
			fmt.Fprintf(stdout, "recommendation: %s\n", r.Sections.Recommendation)
		}
	}
	return 0
}

func runOutbox(g *globals, args []string) int {
	fs := flag.NewFlagSet("outbox", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	send := fs.Bool("send", false, "try to deliver what is due now")
	archive := fs.String("archive", "", "DICOMweb root URL (default: config / TELEREAD_ARCHIVE)")
	if _, err := interleaved(fs, args); err != nil {
		return 2
	}
	c, err := g.openCache()
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	if *send {
		conf, err := g.signedInConfig(c)
		if err != nil {
			return fail(err)
		}
		if *archive != "" {
			conf.Archive = *archive
		}
		client, err := conf.Client()
		if err != nil {
			return fail(err)
		}
		res, err := (&tsync.Outbox{Cache: c, Client: client, IgnoreBackoff: true}).Flush(context.Background())
		if err != nil {
			return fail(err)
		}
		if res.Offline {
			fmt.Fprintln(stderr, "teleread: archive offline: reports stay in the outbox")
		}
	}
	items, err := c.Outbox()
	if err != nil {
		return fail(err)
	}
	if *asJSON {
		return printJSON(items)
	}
	for _, it := range items {
		line := fmt.Sprintf("%-9s %s  study %s  attempts %d", it.State, it.SOPInstanceUID, it.StudyInstanceUID, it.Attempts)
		if it.LastError != "" && it.State != cache.OutboxDelivered {
			line += "  (" + it.LastError + ")"
		}
		fmt.Fprintln(stdout, line)
	}
	if len(items) == 0 {
		fmt.Fprintln(stdout, "outbox empty")
	}
	return 0
}

// fail prints err as the command's error and returns the exit status 1.
func fail(err error) int {
	fmt.Fprintln(stderr, "teleread:", err)
	return 1
}
