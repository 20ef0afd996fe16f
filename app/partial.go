package app

import (
	gosync "sync"

	"teleread/app/internal/reading"
	"teleread/cache"
)

// A study can be opened while it downloads: its stacks grow as instances
// arrive, the reader's place stays on the image it shows, and the overlay, the
// worklist and the signing dialog say that the study is incomplete until the
// cache holds every instance the archive counts (cache.Completeness).

// completenessOf returns what the cache holds of a study shown in the viewer,
// kept up to date by studyChanged. known is false until the first read
// answers: that read runs off the UI goroutine (studyReader), and the study
// is not taken as complete meanwhile. It reads the stacks too, so that
// instances that arrived since the study was opened join them.
func (s *viewerScreen) completenessOf(uid string) (c cache.Completeness, known bool) {
	if uid == "" {
		return cache.Completeness{}, true
	}
	if c, ok := s.complete[uid]; ok {
		return c, true
	}
	if !s.checking[uid] {
		if s.checking == nil {
			s.checking = map[string]bool{}
		}
		s.checking[uid] = true
		s.reader.want(uid)
	}
	return cache.Completeness{}, false
}

// shownStudy reports whether uid is the open study or its compared prior.
func (s *viewerScreen) shownStudy(uid string) bool {
	return uid != "" && (uid == s.study.StudyInstanceUID || (s.prior != nil && uid == s.prior.StudyInstanceUID))
}

// studyChanged takes a sync event about a study (instances arrived, its state
// changed). For the open study or its compared prior, what the cache holds is
// read again off the UI goroutine (studyReader), then studyRead extends the
// stacks with what arrived and repaints the overlays.
func (s *viewerScreen) studyChanged(uid string) {
	if s.shownStudy(uid) {
		s.reader.want(uid)
	}
}

// studyRead takes what the cache holds of a study shown, read after a sync
// event.
func (s *viewerScreen) studyRead(r studyReading) {
	if !s.shownStudy(r.uid) {
		delete(s.checking, r.uid)
		return // closed meanwhile
	}
	if r.err != nil {
		// The study stays "completeness unknown" (a failed first read is
		// not asked again at every repaint); the next sync event about it
		// reads it again.
		s.host.note(r.err.Error())
		return
	}
	delete(s.checking, r.uid)
	old, known := s.complete[r.uid]
	if s.complete == nil {
		s.complete = map[string]cache.Completeness{}
	}
	s.complete[r.uid] = r.comp
	if !known || r.comp.Have != old.Have {
		s.growStacks(r.uid, r.stacks)
	}
	if !known && r.uid == s.study.StudyInstanceUID && !r.comp.Complete() {
		s.listMissing(s.stacks) // skipped while the completeness was unknown
	}
	s.refreshStudy(r.uid)
}

// studyReading is what the cache holds of a study: its completeness and its
// image series as stacks.
type studyReading struct {
	uid    string
	comp   cache.Completeness
	stacks []*reading.Stack
	err    error
}

// studyReader reads studies from the cache on a goroutine of its own: the
// studies asked for since it last looked, each once, in one pass, so a burst
// of sync events reads each study once and the UI goroutine runs no query.
type studyReader struct {
	store *cache.Cache
	done  func(studyReading) // called on the reader's goroutine
	wake  chan struct{}
	stop  chan struct{}

	mu           gosync.Mutex
	pending      map[string]bool
	readComplete func(uid string) (cache.Completeness, error) // the completeness query; tests wrap it
}

func newStudyReader(store *cache.Cache, done func(studyReading)) *studyReader {
	r := &studyReader{store: store, done: done, wake: make(chan struct{}, 1), stop: make(chan struct{}), pending: map[string]bool{},
		readComplete: store.StudyCompleteness}
	go guard("study reader", r.run)
	return r
}

// want asks for a study to be read again.
func (r *studyReader) want(uid string) {
	r.mu.Lock()
	r.pending[uid] = true
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// setReadComplete replaces the completeness query (tests: to hold it, or
// see where it runs).
func (r *studyReader) setReadComplete(fn func(uid string) (cache.Completeness, error)) {
	r.mu.Lock()
	r.readComplete = fn
	r.mu.Unlock()
}

func (r *studyReader) close() { close(r.stop) }

func (r *studyReader) run() {
	for {
		select {
		case <-r.stop:
			return
		case <-r.wake:
		}
		r.mu.Lock()
		uids, readComplete := r.pending, r.readComplete
		r.pending = map[string]bool{}
		r.mu.Unlock()
		for uid := range uids {
			out := studyReading{uid: uid}
			if out.comp, out.err = readComplete(uid); out.err == nil {
				out.stacks, out.err = loadStacks(r.store, uid)
			}
			r.done(out)
		}
	}
}

// growStacks brings what arrived (fresh, the study's series as the cache now
// holds them) into the stacks shown. A stack keeps its identity (the viewports,
// thumbnails and comparison hold it), a new series gets a stack of its own,
// and a viewport stays on the image it shows even when new images sort
// before it.
func (s *viewerScreen) growStacks(uid string, fresh []*reading.Stack) {
	var stacks *[]*reading.Stack
	switch {
	case uid == s.study.StudyInstanceUID:
		stacks = &s.stacks
	case s.prior != nil && uid == s.prior.StudyInstanceUID && s.priorStacks != nil:
		stacks = &s.priorStacks
	default:
		return
	}
	bySeries := map[string]*reading.Stack{}
	for _, st := range *stacks {
		bySeries[st.Series.SeriesInstanceUID] = st
	}
	out := make([]*reading.Stack, 0, len(fresh))
	added, grown := false, false
	for _, f := range fresh {
		st := bySeries[f.Series.SeriesInstanceUID]
		if st == nil {
			out = append(out, f)
			added = true
			continue
		}
		delete(bySeries, f.Series.SeriesInstanceUID)
		st.Series = f.Series
		items := f.Items
		if uid == s.study.StudyInstanceUID {
			items = s.withListed(st.Series.SeriesInstanceUID, items)
		}
		if s.restack(st, items) {
			grown = true
		}
		out = append(out, st)
	}
	// A series no longer in the index (it cannot be, while a study is read;
	// eviction spares it) stays where it is rather than vanish under the reader.
	for _, st := range *stacks {
		if bySeries[st.Series.SeriesInstanceUID] == st {
			out = append(out, st)
		}
	}
	*stacks = out
	if uid == s.study.StudyInstanceUID && added {
		s.listMissing(out) // a series that arrived: its slices not here yet
	}
	if uid == s.study.StudyInstanceUID && !s.comparing {
		// A viewport left empty for want of a series gets the one that
		// arrived, as a layout change would give it.
		for k, vp := range s.viewports[:s.cells()] {
			if vp.st == nil && k < len(s.stacks) {
				vp.setStack(uid, s.stacks[k])
			}
		}
	}
	switch {
	case added:
		s.buildThumbs()
	case grown:
		s.relabelThumbs()
	}
}

// restack replaces a stack's items with a fresh list of the same series and
// moves every viewport showing it to the place its image now has. It reports
// whether the items changed.
func (s *viewerScreen) restack(st *reading.Stack, items []reading.Item) bool {
	type move struct {
		vp   *viewport
		from int
	}
	var moves []move
	for _, vp := range s.viewports {
		if vp.st == st {
			moves = append(moves, move{vp, vp.index})
		}
	}
	remap, changed := st.Replace(items)
	if !changed {
		return false
	}
	// remap maps indices into the old list: every one is mapped before a
	// viewport moves.
	news := make([]int, len(moves))
	measures := make([]map[int][]*measurement, len(moves))
	lastIdx := make([]int, len(moves))
	for k, m := range moves {
		news[k] = remap(m.from)
		lastIdx[k] = remap(m.vp.last.req.index)
		measures[k] = map[int][]*measurement{}
		for i, ms := range m.vp.measures {
			measures[k][remap(i)] = ms
		}
	}
	for k, m := range moves {
		m.vp.restacked(news[k], lastIdx[k], measures[k])
	}
	return true
}

// restacked takes the place the image on screen has in its grown stack. The
// picture stays; only its index, the measurements' indices and a cine loop's
// first frame move with it.
func (v *viewport) restacked(index, lastIndex int, measures map[int][]*measurement) {
	moved := index != v.index
	v.index = index
	v.measures = measures
	if v.hasLast {
		v.last.req.index = lastIndex
	}
	switch {
	case v.last.req.seq != v.seq:
		// A picture asked for under the old indices is still being drawn:
		// ask again so that the one that stays carries the new index.
		v.request(false)
	case v.hasLast && v.last.req.index != v.index && !v.onMissing():
		// The slice the reader waited on (a placeholder) has arrived.
		v.request(false)
	}
	if moved && v.playing() {
		v.restartCine() // the loop counts frames from its instance's first item
	}
	v.Refresh()
}

// relabelThumbs updates the thumbnails' image counts after stacks grew.
func (s *viewerScreen) relabelThumbs() {
	for _, o := range s.thumbs.Objects {
		if t, ok := o.(*thumb); ok {
			t.label.SetText(thumbLabel(t.st))
		}
	}
}
