package app

import (
	"fmt"
	gosync "sync"

	"teleread/app/internal/newest"
	"teleread/app/internal/reading"
	"teleread/cache"
	"teleread/cache/report"
)

// Opening a study reads the cache off the UI goroutine: the study's row, its
// series as stacks, its priors and its report are read on a goroutine of
// their own, and the UI goroutine then shows them all at once. Meanwhile the
// window shows that a study is opening and nothing of any study, so the
// reader never sees the images of one study beside the name or the report
// of another. The newest open wins: a slow read of study A that returns
// after the reader chose B is dropped, never shown.

// studyOpening is what the viewer shows of a study, read from the cache in
// one go.
type studyOpening struct {
	study  cache.Study
	stacks []*reading.Stack
	// prior is the most recent cached prior of the same Patient ID; other is
	// a study listed as its prior under another Patient ID (never paired).
	prior, other *cache.Study
	// comp is what the cache holds of the study, when compKnown.
	comp      cache.Completeness
	compKnown bool
	report    *report.Report // the stored report; nil when there is none
	reportErr error          // why the stored report could not be read (the study still opens)
	err       error          // why the study cannot be shown
}

// readStudy reads what the viewer shows of a study (any goroutine).
// readReport reads its stored report.
func readStudy(c *cache.Cache, uid string, readReport func(cache.Study) (*report.Report, error)) studyOpening {
	st, err := c.StudyByUID(uid)
	if err != nil {
		return studyOpening{err: fmt.Errorf("open study: %w", err)}
	}
	stacks, err := loadStacks(c, uid)
	if err != nil {
		return studyOpening{err: fmt.Errorf("open study %s: %w", uid, err)}
	}
	o := studyOpening{study: st, stacks: stacks}
	// Unknown, the viewer reads it again later (partial.go).
	if comp, err := c.StudyCompleteness(uid); err == nil {
		o.comp, o.compKnown = comp, true
	}
	// Without its priors the study still opens, only nothing is offered for
	// comparison.
	if priors, err := priorsOf(c, st); err == nil {
		for i := range priors {
			switch {
			case priors[i].PatientID == st.PatientID && o.prior == nil:
				o.prior = &priors[i]
			case priors[i].PatientID != st.PatientID && o.other == nil:
				o.other = &priors[i]
			}
		}
	}
	o.report, o.reportErr = readReport(st)
	return o
}

// studyOpener reads the studies the reader opens, each on a goroutine of
// its own so that a slow read never delays a later open, and hands the
// answer to the newest open to show on the UI goroutine.
type studyOpener struct {
	*newest.Runner[string, studyOpening]

	mu   gosync.Mutex
	read func(uid string) studyOpening // tests wrap it
	// record writes, before a study is shown, that it was opened (the audit
	// trail, the worklist's read mark); a study whose opening cannot be
	// recorded is not shown.
	record func(uid string) error
}

func newStudyOpener(read func(string) studyOpening, record func(string) error, show func(studyOpening)) *studyOpener {
	o := &studyOpener{read: read, record: record}
	o.Runner = newest.New(o.run, func(fn func()) { ui(fn) }, show)
	return o
}

// run reads a study for open request ask (its own goroutine).
func (o *studyOpener) run(ask uint64, uid string) studyOpening {
	var res studyOpening
	read := o.reader()
	if perr := guard("open study", func() { res = read(uid) }); perr != nil {
		res = studyOpening{err: perr}
	}
	// Record only an open that can still be shown: a request already
	// superseded is dropped unrecorded. (One superseded between this check
	// and its answer is recorded and not shown: the audit errs on the side
	// of an access.)
	if res.err == nil && o.Current(ask) {
		if err := o.record(uid); err != nil {
			res = studyOpening{err: err}
		}
	}
	return res
}

// setRead replaces the read (tests: to hold it, or see where it runs).
func (o *studyOpener) setRead(read func(string) studyOpening) {
	o.mu.Lock()
	o.read = read
	o.mu.Unlock()
}

// reader returns the read in use.
func (o *studyOpener) reader() func(string) studyOpening {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.read
}
