package app

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"fyne.io/fyne/v2/theme"

	"teleread/app/internal/format"
	"teleread/app/internal/reading"
	"teleread/cache"
)

// priorsOf returns the cached priors of a study, the most recent first: the
// studies the worklist fetched as its priors, and any other cached study of
// the same patient (cache.SamePatient) with an earlier study date.
func priorsOf(c *cache.Cache, st cache.Study) ([]cache.Study, error) {
	items, err := c.WorklistAll()
	if err != nil {
		return nil, fmt.Errorf("app: priors of %s: %w", st.StudyInstanceUID, err)
	}
	var out []cache.Study
	listed := map[string]bool{}
	for _, w := range items {
		if w.Role != "prior" || w.PriorOf != st.StudyInstanceUID {
			continue
		}
		o, err := c.StudyByUID(w.StudyInstanceUID)
		if errors.Is(err, cache.ErrNotFound) {
			continue // listed, not fetched yet
		}
		if err != nil {
			return nil, fmt.Errorf("app: priors of %s: %w", st.StudyInstanceUID, err)
		}
		listed[o.StudyInstanceUID] = true
		out = append(out, o)
	}
	same, err := c.StudiesOfPatient(st)
	if err != nil {
		return nil, fmt.Errorf("app: priors of %s: %w", st.StudyInstanceUID, err)
	}
	for _, o := range same {
		if !listed[o.StudyInstanceUID] && o.StudyDate != "" && o.StudyDate < st.StudyDate {
			out = append(out, o)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].StudyDate+out[i].StudyTime > out[j].StudyDate+out[j].StudyTime
	})
	return out, nil
}

// loadStacks reads a study's image series as stacks.
func loadStacks(c *cache.Cache, studyUID string) ([]*reading.Stack, error) {
	series, err := c.SeriesOf(studyUID)
	if err != nil {
		return nil, err
	}
	var out []*reading.Stack
	for _, se := range series {
		if !reading.ImageSeries(se) {
			continue
		}
		ins, err := c.InstancesOf(se.SeriesInstanceUID)
		if err != nil {
			return nil, err
		}
		if sk := reading.NewStack(c, se, ins); len(sk.Items) > 0 {
			out = append(out, sk)
		}
	}
	// The series the reader sees first (the first viewport) is the one the
	// puller fetches first.
	return reading.ReadingOrder(out), nil
}

// matchingSeries returns the stack of cands most like cur: the same modality,
// description and body part score, the first of the best wins.
func matchingSeries(cur *reading.Stack, cands []*reading.Stack) *reading.Stack {
	if len(cands) == 0 {
		return nil
	}
	best, bestScore := cands[0], -1
	for _, c := range cands {
		score := 0
		if cur != nil {
			if c.Series.Modality == cur.Series.Modality {
				score += 2
			}
			if d := strings.TrimSpace(cur.Series.Description); d != "" && strings.EqualFold(d, strings.TrimSpace(c.Series.Description)) {
				score += 3
			}
			if b := cur.Series.BodyPart; b != "" && strings.EqualFold(b, c.Series.BodyPart) {
				score++
			}
		}
		if score > bestScore {
			best, bestScore = c, score
		}
	}
	return best
}

// toggleCompare shows the current study and its most recent prior side by
// side (1x2, the prior on the right, scrolling linked by slice position), or
// leaves that comparison.
func (s *viewerScreen) toggleCompare() {
	if s.comparing {
		s.endCompare()
		return
	}
	s.compare()
}

// compare opens the 1x2 layout with the current study left and the most recent
// prior right, their scrolling linked.
func (s *viewerScreen) compare() {
	if s.prior == nil && s.other != nil {
		s.offerOther()
		return
	}
	if s.prior == nil {
		s.host.note("No prior of this patient in the cache")
		return
	}
	if s.prior.PatientID != s.study.PatientID {
		return // priors are chosen by Patient ID when the study opens; never pair two patients
	}
	if s.priorStacks == nil {
		s.readStacks(s.prior.StudyInstanceUID, "Prior", func(st []*reading.Stack) {
			s.priorStacks = st
			s.compare()
		})
		return
	}
	if len(s.priorStacks) == 0 || len(s.stacks) == 0 {
		s.host.note("The prior has no images to show")
		return
	}
	cur, idx := s.stacks[0], 0
	if a := s.active; a != nil && a.st != nil && a.study == s.study.StudyInstanceUID {
		cur, idx = a.st, a.index
	}
	prior := matchingSeries(cur, s.priorStacks)
	// The link needs both stacks' slice positions, read from every header
	// once (about 20 ms for 300 images from a warm disk: BenchmarkPlaceStack),
	// through the cache: off the UI goroutine, the comparison opening when
	// they are in.
	if !cur.Placed() || !prior.Placed() {
		s.host.note("Prior: reading slice positions…")
	}
	s.whenPlaced([]*reading.Stack{cur, prior}, func() {
		if s.comparing {
			return // asked twice while the positions were read
		}
		if a := s.active; a != nil && a.st == cur && a.study == s.study.StudyInstanceUID {
			idx = a.index // the reader may have scrolled meanwhile
		}
		s.comparing, s.linked, s.link = true, true, reading.Link{}
		s.setLayout(1)
		s.viewports[0].setStackAt(s.study.StudyInstanceUID, cur, idx)
		s.viewports[1].setStackAt(s.prior.StudyInstanceUID, prior, s.link.Follow(cur, prior, idx, true))
		s.setActive(s.viewports[0])
		s.buildThumbs()
		s.syncCompareButtons()
		s.host.note(fmt.Sprintf("Comparing with the prior of %s (%s)", format.Date(s.prior.StudyDate), s.prior.StudyDescription))
		s.host.focusViewer()
	})
}

// placeRequest is work that waits for stacks' slice positions.
type placeRequest struct {
	stacks []*reading.Stack
	then   func()
}

// whenPlaced runs then (on the UI goroutine) once every stack's slice
// positions are known, which the link needs. Those not known yet are read
// off the UI goroutine (every instance's header, through the cache), and then
// runs when they are in, unless another study was opened meanwhile; it checks
// its own conditions again, since the screen may have changed. One read runs
// at a time: requests made meanwhile wait for it and then run in order (each
// a different intent: open the comparison, link at the current places,
// follow a scroll; keeping only the newest lost a relink to a scroll).
func (s *viewerScreen) whenPlaced(stacks []*reading.Stack, then func()) {
	var reads []*reading.PlacementRead
	for _, st := range stacks {
		if st != nil && !st.Placed() {
			reads = append(reads, st.BeginPlacement())
		}
	}
	if len(reads) == 0 {
		then()
		return
	}
	if s.placing {
		s.placeWaiting = append(s.placeWaiting, placeRequest{stacks, then})
		return
	}
	s.placing = true
	gen := s.gen
	go func() {
		perr := guard("read slice positions", func() {
			for _, r := range reads {
				r.Read()
			}
		})
		ui(func() {
			if gen != s.gen {
				return // another study was opened meanwhile (it reset placing)
			}
			s.placing = false
			waiting := s.placeWaiting
			s.placeWaiting = nil
			if perr != nil {
				s.host.note(perr.Error())
				return
			}
			for _, r := range reads {
				r.Apply()
			}
			// Placed again: a stack whose items were replaced meanwhile (more
			// slices arrived) is read once more rather than on this goroutine.
			s.whenPlaced(stacks, then)
			for _, w := range waiting {
				s.whenPlaced(w.stacks, w.then)
			}
		})
	}()
}

// offerOther says why the study the worklist lists as its prior is not
// compared (its Patient ID differs) and lists its series under the study's,
// marked as another patient's: a reader who knows both IDs are one patient
// may drag one into a viewport, and is asked to confirm.
func (s *viewerScreen) offerOther() {
	s.host.note(fmt.Sprintf("Not compared: the listed prior of %s has Patient ID %s, this study %s",
		format.Date(s.other.StudyDate), orNone(s.other.PatientID, "(none)"), orNone(s.study.PatientID, "(none)")))
	if s.otherStacks == nil {
		s.readStacks(s.other.StudyInstanceUID, "Listed prior", func(st []*reading.Stack) {
			s.otherStacks = st
			s.offerOther()
		})
		return
	}
	s.showOther = true
	s.buildThumbs()
}

// readStacks reads a study's stacks off the UI goroutine, then hands them
// to use on the UI goroutine, unless another study was opened meanwhile. A
// read already under way for the study is not asked again. what names the
// study in the status line.
func (s *viewerScreen) readStacks(uid, what string, use func([]*reading.Stack)) {
	if s.stackReads[uid] {
		return
	}
	s.stackReads[uid] = true
	gen := s.gen
	s.host.note(what + ": reading its images…")
	go func() {
		var stacks []*reading.Stack
		var err error
		if perr := guard("read stacks", func() { stacks, err = loadStacks(s.store, uid) }); perr != nil {
			err = perr
		}
		ui(func() {
			if gen != s.gen {
				return // another study was opened meanwhile
			}
			delete(s.stackReads, uid)
			if err != nil {
				s.host.note(what + ": " + err.Error())
				return
			}
			use(stacks)
		})
	}()
}

// readingStacks reports whether stacks are being read for a comparison (UI
// goroutine).
func (s *viewerScreen) readingStacks() bool { return len(s.stackReads) > 0 || s.placing }

// endCompare goes back to the current study alone.
func (s *viewerScreen) endCompare() {
	s.comparing = false
	// Viewports showing the prior go back to the study's own series.
	for i, vp := range s.viewports {
		if vp.st == nil || vp.study == s.study.StudyInstanceUID {
			continue
		}
		if i < len(s.stacks) {
			vp.setStack(s.study.StudyInstanceUID, s.stacks[i])
		} else {
			vp.clear()
		}
	}
	s.setLayout(0)
	s.buildThumbs()
	s.syncCompareButtons()
	s.host.focusViewer()
}

// toggleLink links or unlinks the two viewports' scrolling. Linking again keeps
// the offset the reader set between them while they were unlinked.
func (s *viewerScreen) toggleLink() {
	if !s.comparing {
		return
	}
	s.linked = !s.linked
	if s.linked {
		// The link keeps the two as they are now, by slice position once
		// both stacks' positions are known (read off the UI goroutine when
		// they are not).
		l, r := s.viewports[0], s.viewports[1]
		lst, rst, il, ir := l.st, r.st, l.index, r.index
		s.whenPlaced([]*reading.Stack{lst, rst}, func() {
			if s.comparing && s.linked && s.viewports[0].st == lst && s.viewports[1].st == rst {
				s.link = reading.LinkAt(lst, rst, il, ir)
			}
		})
	}
	s.syncCompareButtons()
	s.host.focusViewer()
}

// moved makes the linked viewport follow one whose image changed.
func (s *viewerScreen) moved(v *viewport) {
	if !s.comparing || !s.linked || s.following {
		return
	}
	var dst *viewport
	fromLeft := false
	switch v {
	case s.viewports[0]:
		dst, fromLeft = s.viewports[1], true
	case s.viewports[1]:
		dst = s.viewports[0]
	default:
		return
	}
	if dst.st == nil || v.st == nil {
		return
	}
	if !v.st.Placed() || !dst.st.Placed() {
		// A series changed or more slices arrived: follow once their
		// positions are read.
		s.whenPlaced([]*reading.Stack{v.st, dst.st}, func() { s.moved(v) })
		return
	}
	j := s.link.Follow(v.st, dst.st, v.index, fromLeft)
	if j == dst.index {
		return
	}
	s.following = true
	defer func() { s.following = false }()
	dst.showIndex(j)
}

// syncCompareButtons shows whether a prior can be compared and the link state.
func (s *viewerScreen) syncCompareButtons() {
	if s.compareBtn == nil {
		return
	}
	switch {
	case s.comparing:
		s.compareBtn.SetText("End compare")
		s.compareBtn.Enable()
	case s.prior != nil, s.other != nil: // K says why another patient's study is not paired
		s.compareBtn.SetText("Compare with prior")
		s.compareBtn.Enable()
	default:
		s.compareBtn.SetText("Compare with prior")
		s.compareBtn.Disable()
	}
	if s.linked {
		s.linkBtn.SetText("Linked")
		s.linkBtn.SetIcon(theme.MediaReplayIcon())
	} else {
		s.linkBtn.SetText("Unlinked")
		s.linkBtn.SetIcon(theme.ContentRemoveIcon())
	}
	if s.comparing {
		s.linkBtn.Enable()
	} else {
		s.linkBtn.Disable()
	}
}
