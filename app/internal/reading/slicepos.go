package reading

import (
	"math"

	"teleread/viewer/dataset"
)

// Tags of the enhanced (multi-frame) plane functional groups.
const (
	tagPlanePositionSequence    dataset.Tag = 0x00209113
	tagPlaneOrientationSequence dataset.Tag = 0x00209116
)

// Placement is where a stack's images lie along its slice normal: Pos[i] is
// item i's Image Position (Patient) projected on the normal of its Image
// Orientation (Patient), in mm, or its Slice Location when the stack has no
// positions. ok is false when the stack cannot be placed (positions missing on
// some image, or every image at the same place, as in a cine loop).
type Placement struct {
	Pos    []float64
	Normal [3]float64 // zero when the positions are Slice Locations
	OK     bool
}

// Placement returns the stack's Placement, reading its headers the first time.
// That read goes through the cache (each instance's row, file and key), so a
// UI reads it away from its own goroutine first (BeginPlacement) and calls
// Placement only once Placed says it is known.
func (s *Stack) Placement() Placement {
	if s.place == nil {
		p := placeStack(s)
		s.place = &p
	}
	return *s.place
}

// Placed reports whether the stack's Placement is known, so that asking for
// it (Placement, Link.Follow, LinkAt) reads nothing.
func (s *Stack) Placed() bool { return s.place != nil }

// PlacementRead reads a stack's Placement away from the goroutine that owns
// the stack: BeginPlacement and Apply run on the owner's goroutine, Read on
// any other. Read sees only the items the stack had when it began.
type PlacementRead struct {
	st    *Stack
	items []Item
	p     Placement
}

// BeginPlacement starts a read of the stack's Placement from its items now.
func (s *Stack) BeginPlacement() *PlacementRead {
	return &PlacementRead{st: s, items: s.Items}
}

// Read reads the headers (on any goroutine; it touches only its snapshot of
// the stack's items).
func (r *PlacementRead) Read() { r.p = placeStack(&Stack{Items: r.items}) }

// Apply gives the stack the Placement read, unless its items were replaced
// meanwhile (Replace: more slices arrived), when it stays unknown. It
// reports whether the stack took it.
func (r *PlacementRead) Apply() bool {
	cur := r.st.Items
	if len(cur) != len(r.items) || len(cur) > 0 && &cur[0] != &r.items[0] {
		return false
	}
	p := r.p
	r.st.place = &p
	return true
}

// planeOf is what one image says about its plane.
type planeOf struct {
	ipp, iop []float64
	loc      float64
	hasLoc   bool
}

// readPlanes reads the plane of every frame of one stored instance.
func readPlanes(it Item, frames int) ([]planeOf, error) {
	f, err := it.OpenFile()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ds := f.DataSet
	base := planeOf{ipp: ds.Floats(dataset.ImagePositionPatient), iop: ds.Floats(dataset.ImageOrientationPatient)}
	base.loc, base.hasLoc = ds.Float(dataset.SliceLocation)
	var sharedIOP []float64
	for _, g := range ds.Items(dataset.SharedFunctionalGroupsSequence) {
		for _, o := range g.Items(tagPlaneOrientationSequence) {
			sharedIOP = o.Floats(dataset.ImageOrientationPatient)
		}
	}
	perFrame := ds.Items(dataset.PerFrameFunctionalGroupsSequence)
	out := make([]planeOf, frames)
	for i := range out {
		p := base
		if i < len(perFrame) {
			for _, pp := range perFrame[i].Items(tagPlanePositionSequence) {
				p.ipp = pp.Floats(dataset.ImagePositionPatient)
			}
			if len(sharedIOP) == 6 {
				p.iop = sharedIOP
			}
			for _, o := range perFrame[i].Items(tagPlaneOrientationSequence) {
				p.iop = o.Floats(dataset.ImageOrientationPatient)
			}
		}
		out[i] = p
	}
	return out, nil
}

// placeStack reads the headers of the stack's instances and places its items.
func placeStack(s *Stack) Placement {
	n := len(s.Items)
	if n < 2 {
		return Placement{}
	}
	planes := make([]planeOf, n)
	for i := 0; i < n; {
		it := s.Items[i]
		first, last := s.InstanceRange(i)
		ps, err := readPlanes(it, last-first+1)
		if err != nil {
			return Placement{}
		}
		copy(planes[first:last+1], ps)
		i = last + 1
	}
	var normal [3]float64
	withIPP := true
	for _, p := range planes {
		if len(p.ipp) != 3 {
			withIPP = false
			break
		}
		if normal == ([3]float64{}) && len(p.iop) == 6 {
			normal = cross(p.iop[:3], p.iop[3:])
		}
	}
	pos := make([]float64, n)
	switch {
	case withIPP && normal != ([3]float64{}):
		for i, p := range planes {
			pos[i] = p.ipp[0]*normal[0] + p.ipp[1]*normal[1] + p.ipp[2]*normal[2]
		}
	default:
		normal = [3]float64{}
		for i, p := range planes {
			if !p.hasLoc {
				return Placement{}
			}
			pos[i] = p.loc
		}
	}
	lo, hi := pos[0], pos[0]
	for _, x := range pos {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	if hi-lo < 1e-3 {
		return Placement{}
	}
	return Placement{Pos: pos, Normal: normal, OK: true}
}

// cross returns the unit normal of two direction cosines, or zero.
func cross(a, b []float64) [3]float64 {
	n := [3]float64{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
	l := math.Sqrt(n[0]*n[0] + n[1]*n[1] + n[2]*n[2])
	if l < 1e-6 || math.IsNaN(l) {
		return [3]float64{}
	}
	return [3]float64{n[0] / l, n[1] / l, n[2] / l}
}

// Alignment says how two placements compare: sign is +1 when their normals point
// the same way, -1 when opposite; ok is false when they cannot be compared
// (either unplaced, or planes of different orientations, such as axial and
// sagittal).
func Alignment(a, b Placement) (sign float64, ok bool) {
	if !a.OK || !b.OK {
		return 0, false
	}
	if a.Normal == ([3]float64{}) || b.Normal == ([3]float64{}) {
		return 1, true // Slice Locations: the same axis by definition
	}
	d := a.Normal[0]*b.Normal[0] + a.Normal[1]*b.Normal[1] + a.Normal[2]*b.Normal[2]
	switch {
	case d > 0.9:
		return 1, true
	case d < -0.9:
		return -1, true
	}
	return 0, false
}

// nearest returns the index of the position closest to x.
func nearest(pos []float64, x float64) int {
	best, bestD := 0, math.Inf(1)
	for i, p := range pos {
		if d := math.Abs(p - x); d < bestD {
			best, bestD = i, d
		}
	}
	return best
}

// relativeIndex maps index i of a stack of n images to the same relative place
// in a stack of m images.
func relativeIndex(i, n, m int) int {
	if m <= 1 || n <= 1 {
		return 0
	}
	return min(max(int(math.Round(float64(i)*float64(m-1)/float64(n-1))), 0), m-1)
}

// Link keeps two viewports' stacks scrolling together: by position along
// the slice normal where both stacks are placed and parallel, else by relative
// index. The offsets are what the reader set between the two while they were
// unlinked (both zero at first).
type Link struct {
	posOffset float64 // left position minus right position, in the left's frame
	idxOffset int     // right index minus the relative index, when unplaced
}

// Follow returns the index the other stack should show when one stack shows
// item i. fromLeft says which side moved.
func (l Link) Follow(src, dst *Stack, i int, fromLeft bool) int {
	if src == nil || dst == nil || len(dst.Items) == 0 || i < 0 || i >= len(src.Items) {
		return 0
	}
	ps, pd := src.Placement(), dst.Placement()
	if sign, ok := Alignment(ps, pd); ok {
		x := ps.Pos[i] // in the source's frame
		if fromLeft {
			return nearest(pd.Pos, sign*(x-l.posOffset))
		}
		return nearest(pd.Pos, sign*x+l.posOffset)
	}
	if fromLeft {
		return min(max(relativeIndex(i, len(src.Items), len(dst.Items))+l.idxOffset, 0), len(dst.Items)-1)
	}
	return min(max(relativeIndex(i-l.idxOffset, len(src.Items), len(dst.Items)), 0), len(dst.Items)-1)
}

// LinkAt returns the link that keeps the two stacks as they are now: left
// showing item il, right item ir.
func LinkAt(left, right *Stack, il, ir int) Link {
	if left == nil || right == nil || il < 0 || il >= len(left.Items) || ir < 0 || ir >= len(right.Items) {
		return Link{}
	}
	pl, pr := left.Placement(), right.Placement()
	if sign, ok := Alignment(pl, pr); ok {
		return Link{posOffset: pl.Pos[il] - sign*pr.Pos[ir]}
	}
	return Link{idxOffset: ir - relativeIndex(il, len(left.Items), len(right.Items))}
}
