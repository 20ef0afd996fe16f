package app

import (
	"context"
	"fmt"
	"slices"
	"time"

	"teleread/app/internal/reading"
	"teleread/cache"
)

// The slices of an incomplete study that the cache lacks (slicefetch.go), on
// the UI goroutine: the listing that places them in the stacks, the reader
// landing on one, and the instance arriving.

// listTimeout bounds asking the archive for one series' instances.
const listTimeout = 30 * time.Second

// listMissing asks the archive, off the UI goroutine, for the instances of
// the open study's series while the study is incomplete; the stacks then
// hold a placeholder for each the cache lacks. Offline, or with no archive,
// the stacks stay what the cache holds.
func (s *viewerScreen) listMissing(stacks []*reading.Stack) {
	uid, gen := s.study.StudyInstanceUID, s.gen
	if c, known := s.completenessOf(uid); !known || c.Complete() {
		return // studyRead lists them once it knows the study incomplete
	}
	src := s.host.sliceSource()
	for _, st := range stacks {
		series := st.Series.SeriesInstanceUID
		if _, ok := s.listed[series]; ok || s.listing[series] {
			continue
		}
		s.listing[series] = true
		go guard("series listing", func() {
			ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
			defer cancel()
			ls, err := src.listInstances(ctx, uid, series)
			ui(func() { s.seriesListed(gen, series, ls, err) })
		})
	}
}

// seriesListed takes a series' listing for the study opened as gen.
func (s *viewerScreen) seriesListed(gen int, series string, ls []reading.Listed, err error) {
	if gen != s.gen {
		return // another study was opened meanwhile
	}
	delete(s.listing, series)
	if err != nil {
		return // the stack shows what the cache holds, as without an archive
	}
	s.listed[series] = ls
	for _, st := range s.stacks {
		if st.Series.SeriesInstanceUID == series {
			if s.restack(st, s.withListed(st.Series.SeriesInstanceUID, cachedItems(st.Items))) {
				s.relabelThumbs()
			}
		}
	}
}

// withListed returns a series' cached items of the open study with its
// listed placeholders.
func (s *viewerScreen) withListed(series string, items []reading.Item) []reading.Item {
	ls, ok := s.listed[series]
	if !ok {
		return items
	}
	return reading.WithMissing(items, ls)
}

// cachedItems returns the items that are not placeholders.
func cachedItems(items []reading.Item) []reading.Item {
	return slices.DeleteFunc(slices.Clone(items), func(it reading.Item) bool { return it.Missing })
}

// wantSlice asks for the placeholder viewport v is on, then its neighbours
// (the way the reader scrolls first); the fetcher coalesces rapid scrolling.
func (s *viewerScreen) wantSlice(v *viewport) {
	if v.st == nil || v.index >= len(v.st.Items) || !v.st.Items[v.index].Missing {
		return
	}
	sop := v.st.Items[v.index].SOP
	delete(s.sliceErr, sop) // scrolled onto again: try again
	sops := []string{sop}
	dir := v.direction
	if dir == 0 {
		dir = 1
	}
	for _, i := range []int{v.index + dir, v.index - dir} {
		if i >= 0 && i < len(v.st.Items) && v.st.Items[i].Missing {
			sops = append(sops, v.st.Items[i].SOP)
		}
	}
	s.fetcher.want(sliceRequest{src: s.host.sliceSource(), study: v.study, series: v.st.Series.SeriesInstanceUID, sops: sops})
}

// sliceError returns why a placeholder's instance could not be fetched,
// nil while it is being fetched.
func (s *viewerScreen) sliceError(sop string) error { return s.sliceErr[sop] }

// sliceFetched takes a fetch's outcome: the instance takes its placeholder's
// place and is drawn where a viewport is on it, or the viewport says why not.
func (s *viewerScreen) sliceFetched(r sliceResult) {
	if r.study != s.study.StudyInstanceUID {
		return
	}
	if r.err != nil {
		s.sliceErr[r.sop] = r.err
		s.refreshStudy(r.study)
		return
	}
	delete(s.sliceErr, r.sop)
	if r.hasComp {
		s.complete[r.study] = r.comp
	}
	for _, st := range s.stacks {
		if st.Series.SeriesInstanceUID != r.series {
			continue
		}
		at := slices.IndexFunc(st.Items, func(it reading.Item) bool { return it.Missing && it.SOP == r.sop })
		if at < 0 {
			continue // a sync event brought it first
		}
		arrived := reading.NewStack(s.store, st.Series, []cache.Instance{r.inst}).Items
		items := slices.Concat(st.Items[:at], arrived, st.Items[at+1:])
		if s.restack(st, items) {
			s.relabelThumbs()
		}
		for _, vp := range s.viewports {
			if vp.st == st && vp.index < len(st.Items) && st.Items[vp.index].SOP == r.sop {
				vp.request(false)
			}
		}
	}
	s.refreshStudy(r.study)
}

// refreshStudy repaints the viewports showing a study (message, overlay).
func (s *viewerScreen) refreshStudy(uid string) {
	for _, vp := range s.viewports {
		if vp.study == uid {
			vp.Refresh()
		}
	}
}

// missingMessage is what a viewport on a placeholder says instead of an
// image, and whether it is a problem.
func (v *viewport) missingMessage() (msg string, problem bool) {
	if !v.onMissing() {
		return "", false
	}
	n, m := v.index+1, len(v.st.Items)
	if err := v.host.sliceError(v.st.Items[v.index].SOP); err != nil {
		return fmt.Sprintf("Slice %d of %d: %s", n, m, sliceProblem(err)), true
	}
	return fmt.Sprintf("Fetching slice %d of %d…", n, m), false
}

// onMissing reports whether the viewport is on a slice the cache lacks.
func (v *viewport) onMissing() bool {
	return v.st != nil && v.index < len(v.st.Items) && v.st.Items[v.index].Missing
}
