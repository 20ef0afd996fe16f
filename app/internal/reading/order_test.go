package reading

import (
	"fmt"
	"os"
	"testing"

	"teleread/cache"
	"teleread/cache/cachetest"
)

func init() { cachetest.UseTestKeystore() }

// TestReadingOrderOpensOnTheSeriesFetchedFirst caches a study of a 2-slice
// CT scout (series 1), a 6-slice axial CT (series 2) and a 4-slice MR (series
// 3): the viewer's first stack must be the axial CT, the series the puller
// fetches first (cache.FirstSeries), the others after it by series number.
func TestReadingOrderOpensOnTheSeriesFetchedFirst(t *testing.T) {
	c, err := cache.OpenTemp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const study = "1.2.826.0.1.3680043.10.1107.17.32"
	for _, s := range []struct {
		number   int
		modality string
		slices   int
	}{{1, "CT", 2}, {2, "CT", 6}, {3, "MR", 4}} {
		files, err := cachetest.WriteCTSeries(cachetest.CTSeries{Dir: t.TempDir(), StudyUID: study, SeriesUID: fmt.Sprintf("%s.%d", study, s.number),
			SeriesNumber: s.number, Modality: s.modality, Slices: s.slices, Size: 16, Seed: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range files {
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Import(f, p)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	series, err := c.SeriesOf(study)
	if err != nil {
		t.Fatal(err)
	}
	var stacks []*Stack
	for _, se := range series {
		ins, err := c.InstancesOf(se.SeriesInstanceUID)
		if err != nil {
			t.Fatal(err)
		}
		stacks = append(stacks, NewStack(c, se, ins))
	}
	var got []int
	for _, st := range ReadingOrder(stacks) {
		got = append(got, st.Series.SeriesNumber)
	}
	if fmt.Sprint(got) != "[2 1 3]" {
		t.Errorf("stacks in the order of series %v, want [2 1 3]", got)
	}
}
