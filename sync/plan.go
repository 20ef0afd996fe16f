package sync

import (
	"context"
	"fmt"
	"slices"

	"teleread/cache"
)

// studyPlan says what to fetch of one study and in which order: the series
// the reader sees first leads (see readingOrder), a partly cached first
// series fills from the middle of its stack outward, instances already
// durable are counted and skipped, and instances remembered as cut off are
// left alone (they keep the study from being ready, and say why). It holds no
// lock: it is built before the retrieve starts and read while it runs.
type studyPlan struct {
	p       *Puller
	uid     string
	study   Object // the QIDO-RS study result
	archive string // the archive's base URL (cut-offs are kept per archive)

	// series is what to fetch, in fetch order; the first is the series the
	// reader sees first. On the fast path (or whole) it holds no instance
	// lists, only the archive's counts.
	series []seriesWork
	// fast: nothing of the study is stored, so whole series are retrieved
	// without listing their instances first (an instance-level QIDO costs an
	// archive like Orthanc about 2 ms per instance); the archive's counts are
	// checked against what arrived, and only a shortfall is listed (relist).
	fast bool
	// wholeWant is the study's count when it is retrieved whole (one series,
	// nothing cached): neither its series nor its instances are listed, a
	// round trip less per study, about 5 ms on Orthanc.
	wholeWant int
	// total is what the archive lists (or counts, on the fast path); done
	// what of it is durable so far.
	total, done int

	cutInstance map[string]CutOff // instances left alone
	cutSeries   map[string]bool   // series fetched one instance at a time
	leftAlone   []CutOff          // listed instances not fetched, being cut off
}

// seriesWork is one series of a study plan.
type seriesWork struct {
	uid     string // "" for the whole study
	obj     Object
	all     []string       // SOP Instance UIDs
	number  map[string]int // Instance Numbers, where the archive gave them
	missing []string       // what to fetch, in fetch order
	ordered bool           // fetched one instance at a time, in the order of missing
	want    int            // the archive's count (fast path)
	cutOff  bool           // an instance of it is left alone (cut off)
	// cachedSize is the mean size of its instances already cached, what a
	// series request would bring again of each; 0 when none is, or the
	// store cannot say.
	cachedSize int64
}

// planStudy decides what to fetch of a study. On error the plan still holds
// the counts known so far (for the study's state).
func (p *Puller) planStudy(ctx context.Context, a Assignment) (*studyPlan, error) {
	uid := a.StudyUID
	pl := &studyPlan{p: p, uid: uid, study: a.Study, archive: p.Client.BaseURL(),
		cutInstance: map[string]CutOff{}, cutSeries: map[string]bool{}}
	cutOffs := p.CutOffs.Study(pl.archive, uid)
	for _, c := range cutOffs {
		if c.SOPInstanceUID != "" {
			pl.cutInstance[c.SOPInstanceUID] = c
		} else {
			pl.cutSeries[c.SeriesUID] = true
		}
	}
	// A study the cache has nothing of is retrieved without listing its
	// instances first (the fast path); one the archive counts as a single
	// series is retrieved whole, without asking for its series either.
	empty := false
	if sc, ok := p.Store.(SeriesCounter); ok && len(cutOffs) == 0 {
		// A study with a remembered cut-off is listed instance by instance
		// (below), never retrieved whole: that would bring the part again.
		if n, err := sc.StudyInstanceCount(uid); err == nil && n == 0 {
			empty = true
		}
	}
	// The first series' slices come in an order of our choosing only when
	// it is fetched instance by instance, which needs its instances listed
	// (and its UID: the study is not retrieved whole then).
	order := p.FirstSeriesOrder
	ordered := order != SliceOrderArchive
	if ns, ok := a.Study.Int(TagNumberOfStudyRelatedSeries); empty && ok && ns == 1 && !ordered {
		if ni, ok := a.Study.Int(TagNumberOfStudyRelatedInstances); ok && ni > 0 {
			pl.wholeWant = ni
		}
	}
	// Otherwise the instance list comes from QIDO, series by series: the
	// archive's count per series and per study must agree with what is
	// listed.
	var series []Object
	if pl.wholeWant == 0 {
		var err error
		if series, err = pl.searchSeries(ctx); err != nil {
			return pl, err
		}
	}
	pl.fast = empty
	for _, s := range series {
		if n, ok := s.Int(TagNumberOfSeriesRelatedInstances); !ok || n <= 0 {
			pl.fast = false
		}
	}
	if pl.wholeWant > 0 {
		pl.series, pl.total = []seriesWork{{want: pl.wholeWant}}, pl.wholeWant
	}
	for _, s := range series {
		if !ValidUID(s.SeriesUID()) {
			return pl, fmt.Errorf("sync: study %s: %w: series UID %.80q", uid, ErrBadResponse, s.SeriesUID())
		}
		sw := seriesWork{uid: s.SeriesUID(), obj: s}
		if pl.fast {
			sw.want, _ = s.Int(TagNumberOfSeriesRelatedInstances)
			pl.total += sw.want
			pl.series = append(pl.series, sw)
			continue
		}
		if err := pl.list(ctx, &sw); err != nil {
			return pl, err
		}
		for _, sop := range sw.all {
			has, err := p.Store.HasInstance(sop)
			if err != nil {
				return pl, fmt.Errorf("sync: study %s: %w", uid, err)
			}
			if c, ok := pl.cutInstance[sop]; ok && !has {
				pl.leftAlone = append(pl.leftAlone, c)
				sw.cutOff = true
				continue
			}
			if has {
				pl.done++
			} else {
				sw.missing = append(sw.missing, sop)
			}
		}
		pl.total += len(sw.all)
		if len(sw.missing) > 0 {
			if len(sw.missing) < len(sw.all) {
				sw.cachedSize = pl.cachedSize(sw.uid)
			}
			pl.series = append(pl.series, sw)
		}
	}
	if len(pl.series) > 0 && pl.fast && ordered {
		// Nothing of the study is cached and FirstSeriesOrder asks for an
		// order: the series the reader sees first is listed and fetched one
		// instance at a time in that order, the others whole.
		sw := &pl.series[0]
		if err := pl.list(ctx, sw); err != nil {
			return pl, err
		}
		sw.missing, sw.ordered = order.arrange(sw.all, sw.number), true
	} else if len(pl.series) > 0 {
		// The first series' missing slices, when fetched one at a time,
		// come from the middle of the stack outward: where a reader who
		// opens the partial study looks first.
		pl.series[0].missing = middleOut(pl.series[0].missing, pl.series[0].number)
	}
	if want, ok := a.Study.Int(TagNumberOfStudyRelatedInstances); !pl.fast && ok && want != pl.total && !p.headerCount(ctx, uid, "", TagNumberOfStudyRelatedInstances, want) {
		return pl, fmt.Errorf("sync: study %s: the archive counts %d instances but lists %d", uid, want, pl.total)
	}
	if pl.total == 0 {
		pl.done = 0
		return pl, fmt.Errorf("sync: study %s: the archive lists no instance", uid)
	}
	return pl, nil
}

// searchSeries lists the study's series, the one the reader sees first
// first.
func (pl *studyPlan) searchSeries(ctx context.Context) ([]Object, error) {
	series, err := pl.p.Client.SearchSeries(ctx, pl.uid, Query{IncludeFields: []string{"SeriesInstanceUID", "NumberOfSeriesRelatedInstances", "Modality", "SeriesNumber"}})
	if err != nil {
		return nil, err
	}
	return readingOrder(series), nil
}

// list fills a series' instance list from QIDO and checks it against the
// archive's count.
func (pl *studyPlan) list(ctx context.Context, sw *seriesWork) error {
	sw.all = sw.all[:0]
	err := pl.p.Client.SearchAll(ctx, "/studies/"+pl.uid+"/series/"+sw.uid+"/instances",
		Query{IncludeFields: []string{"SOPInstanceUID", "InstanceNumber"}}, 1000, func(o Object) error {
			if !ValidUID(o.SOPInstanceUID()) {
				return fmt.Errorf("sync: study %s: %w: SOP Instance UID %.80q", pl.uid, ErrBadResponse, o.SOPInstanceUID())
			}
			sw.all = append(sw.all, o.SOPInstanceUID())
			if n, ok := o.Int(TagInstanceNumber); ok {
				if sw.number == nil {
					sw.number = map[string]int{}
				}
				sw.number[o.SOPInstanceUID()] = n
			}
			return nil
		})
	if err != nil {
		return err
	}
	if want, ok := sw.obj.Int(TagNumberOfSeriesRelatedInstances); ok && want != len(sw.all) && !pl.p.headerCount(ctx, pl.uid, sw.uid, TagNumberOfSeriesRelatedInstances, want) {
		return fmt.Errorf("sync: study %s series %s: the archive counts %d instances but lists %d", pl.uid, sw.uid, want, len(sw.all))
	}
	return nil
}

// retrieveWhole reports whether a series is retrieved with one series (or
// study) request rather than instance by instance: when none of it is
// stored and nothing of it was cut off before (a whole retrieve would bring
// the cut-off part again).
func (pl *studyPlan) retrieveWhole(sw *seriesWork) bool {
	if sw.ordered {
		return false
	}
	return pl.fast || (len(sw.missing) == len(sw.all) && !pl.cutSeries[sw.uid] && !pl.cutSeries[""])
}

// seriesRequestPays reports whether the last missing instances of a partly
// cached series come with one series request, whose cached parts are
// dropped as they stream (skipStored), rather than one request each: when
// the requests saved would cost more than the cached bytes it brings again
// (LinkEstimate.SeriesRequestPays, with what the link and the single
// instances measured so far). Never for a series with a cut-off (the request
// would bring the part again), nor for the first series when
// FirstSeriesOrder asks for an order of its own.
func (pl *studyPlan) seriesRequestPays(sw *seriesWork, missing int) bool {
	if pl.fast || sw.uid == "" || sw.ordered || sw.cutOff || pl.cutSeries[sw.uid] || pl.cutSeries[""] ||
		missing > len(sw.all) {
		return false
	}
	if len(pl.series) > 0 && sw == &pl.series[0] && pl.p.FirstSeriesOrder != SliceOrderArchive {
		return false
	}
	return pl.p.Client.LinkEstimate().SeriesRequestPays(missing, len(sw.all)-missing, sw.cachedSize)
}

// cachedSize returns the mean size of a series' cached instances; 0 when
// the store cannot list them (SeriesLister) or holds none.
func (pl *studyPlan) cachedSize(seriesUID string) int64 {
	sl, ok := pl.p.Store.(SeriesLister)
	if !ok {
		return 0
	}
	insts, err := sl.InstancesOf(seriesUID)
	if err != nil || len(insts) == 0 {
		return 0
	}
	var n int64
	for _, in := range insts {
		n += in.Size
	}
	return n / int64(len(insts))
}

// cutOffErr says why an instance left alone keeps the study from being
// ready; nil when none is.
func (pl *studyPlan) cutOffErr() error {
	if len(pl.leftAlone) == 0 {
		return nil
	}
	return pl.p.CutOffs.cutOffError(pl.leftAlone[0])
}

// relist, after a fast-path retrieve that fell short of the counts (or whose
// counts the archive took from the files' own headers), lists every instance
// of every series, all of them to be checked: the plan becomes an ordinary
// one whose missing instances are those not stored.
func (pl *studyPlan) relist(ctx context.Context) error {
	if pl.wholeWant > 0 {
		// Listing what is missing needs the series after all.
		series, err := pl.searchSeries(ctx)
		if err != nil {
			return err
		}
		pl.series = pl.series[:0]
		for _, s := range series {
			if !ValidUID(s.SeriesUID()) {
				return fmt.Errorf("sync: study %s: %w: series UID %.80q", pl.uid, ErrBadResponse, s.SeriesUID())
			}
			pl.series = append(pl.series, seriesWork{uid: s.SeriesUID(), obj: s})
		}
	}
	pl.total, pl.done = 0, 0
	for i := range pl.series {
		sw := &pl.series[i]
		if err := pl.list(ctx, sw); err != nil {
			return err
		}
		sw.missing = sw.all
		pl.total += len(sw.all)
	}
	return nil
}

// settle counts what of the plan is durable now, whatever the errors were,
// and returns the instances still missing (not those left alone).
func (pl *studyPlan) settle() (missing []string) {
	pl.done = pl.total
	for _, sw := range pl.series {
		for _, sop := range sw.missing {
			if has, err := pl.p.Store.HasInstance(sop); err != nil || !has {
				missing = append(missing, sop)
				pl.done--
			}
		}
	}
	pl.done -= len(pl.leftAlone)
	return missing
}

// SliceOrder is the order in which the slices of the series the reader sees
// first are fetched when nothing of the study is cached. The home-link
// figures in the README chose the default.
type SliceOrder int

const (
	// SliceOrderArchive, the default, fetches it with one series request, in
	// whatever order the archive sends, without listing its instances first.
	// Orthanc sends about the order it stored the instances in, which for a
	// series sent to it by a scanner is mostly the stack's.
	SliceOrderArchive SliceOrder = iota
	// SliceOrderStack lists it and fetches it one instance at a time in the
	// viewer's stack order (cache.CompareStackOrder), from the slice the
	// viewer opens a series on (the first) onward.
	SliceOrderStack
	// SliceOrderMiddleOut lists it and fetches it one instance at a time
	// from the middle of the stack outward (see middleOut).
	SliceOrderMiddleOut
)

// arrange orders a series' instances for fetching; number holds the Instance
// Numbers the archive listed.
func (o SliceOrder) arrange(sops []string, number map[string]int) []string {
	switch o {
	case SliceOrderMiddleOut:
		return middleOut(sops, number)
	case SliceOrderStack:
		out := slices.Clone(sops)
		slices.SortStableFunc(out, func(a, b string) int {
			return cache.CompareStackOrder(number[a], a, number[b], b)
		})
		return out
	}
	return sops
}
