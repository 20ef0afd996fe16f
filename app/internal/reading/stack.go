// Package reading is the reading model without the window toolkit: a
// series laid out as the images a reader scrolls through (Stack), where its
// slices lie along their normal, how two compared stacks scroll together
// (Link), how a Stack that grows while its study downloads keeps the reader's
// place (Replace), and whose image a picture is (Identity).
package reading

import (
	"slices"

	"teleread/cache"
	"teleread/viewer"
	"teleread/viewer/dataset"
)

// Item is one image of a stack: a frame of a stored instance.
type Item struct {
	Path     string
	Cache    *cache.Cache // the cache the instance is stored in (it decrypts it); nil: Path is a plain file
	SOP      string
	Instance int // Instance Number
	Frame    int // 0-based frame of the instance
	Frames   int // frames of the instance
	// Missing marks an instance the archive lists and the cache does not
	// hold yet (WithMissing): the reader can scroll onto it, and it is
	// fetched then. Path and Cache are empty; Frames is 1 until it arrives.
	Missing bool
}

// Stack is a series laid out as the images a reader scrolls through: every frame of
// every instance, in instance order.
type Stack struct {
	Series cache.Series
	Items  []Item
	place  *Placement // read the first time a link asks (Placement)
}

// MaxItems bounds a Stack so that a header claiming millions of frames cannot
// make the viewer allocate millions of items.
const MaxItems = 1 << 16

// NewStack lays out the instances of series s, stored in c, as a Stack.
func NewStack(c *cache.Cache, s cache.Series, instances []cache.Instance) *Stack {
	st := &Stack{Series: s}
	for _, in := range instances {
		frames := max(1, in.Frames)
		for f := 0; f < frames && len(st.Items) < MaxItems; f++ {
			st.Items = append(st.Items, Item{Path: in.Path, Cache: c, SOP: in.SOPInstanceUID, Instance: in.InstanceNumber, Frame: f, Frames: frames})
		}
	}
	return st
}

// OpenFile opens the item's instance and parses its metadata: through the
// cache, which decrypts it, when it came from one.
func (it Item) OpenFile() (*dataset.File, error) {
	if it.Cache != nil {
		return it.Cache.OpenInstance(it.SOP)
	}
	return dataset.Open(it.Path)
}

// OpenImage opens the item's instance as an image (see OpenFile).
func (it Item) OpenImage() (*viewer.Image, error) {
	if it.Cache == nil {
		return viewer.Open(it.Path)
	}
	f, err := it.OpenFile()
	if err != nil {
		return nil, err
	}
	return viewer.OpenFile(f)
}

// InstanceRange returns the first and last item index of the instance holding item i.
func (s *Stack) InstanceRange(i int) (first, last int) {
	if i < 0 || i >= len(s.Items) {
		return 0, 0
	}
	it := s.Items[i]
	return i - it.Frame, i - it.Frame + it.Frames - 1
}

// ImageSeries reports whether a series holds images the viewer shows (not
// reports, presentation states or other non-image objects): the same test
// the puller applies when it chooses what to fetch first.
func ImageSeries(s cache.Series) bool { return cache.ImageModality(s.Modality) }

// ReadingOrder moves the stack the reader sees first (cache.FirstSeries,
// the series the puller fetches first) to the front; the others keep their
// order (by series number).
func ReadingOrder(stacks []*Stack) []*Stack {
	sizes := make([]cache.SeriesSize, len(stacks))
	for i, st := range stacks {
		// The cache keeps no Series Number as 0, and sorts it so.
		sizes[i] = cache.SeriesSize{Modality: st.Series.Modality, Number: st.Series.SeriesNumber, HasNumber: true, Instances: st.Series.NumberOfInstances}
	}
	first := cache.FirstSeries(sizes)
	if first <= 0 {
		return stacks
	}
	out := make([]*Stack, 0, len(stacks))
	out = append(out, stacks[first])
	out = append(out, stacks[:first]...)
	return append(out, stacks[first+1:]...)
}

// Replace gives the stack a fresh list of the same series' items (more
// arrived while the study downloads) and returns where each old index now
// is: the same image (instance and frame) where it is still there, else the
// nearest index that exists. It reports false, changing nothing, when the
// items are the same. Positions are read again when a link next asks.
func (s *Stack) Replace(items []Item) (remap func(old int) int, changed bool) {
	if slices.Equal(s.Items, items) {
		return nil, false
	}
	type key struct {
		sop   string
		frame int
	}
	at := make(map[key]int, len(items))
	for i, it := range items {
		at[key{it.SOP, it.Frame}] = i
	}
	old := s.Items
	remap = func(i int) int {
		if i < 0 || i >= len(old) {
			return min(max(i, 0), max(len(items)-1, 0))
		}
		if j, ok := at[key{old[i].SOP, old[i].Frame}]; ok {
			return j
		}
		return min(i, max(len(items)-1, 0))
	}
	s.Items = items
	s.place = nil
	return remap, true
}
