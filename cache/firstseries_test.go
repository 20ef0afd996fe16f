package cache

import (
	"math/rand"
	"os"
	"slices"
	"testing"

	"teleread/cache/cachetest"
)

func TestFirstSeries(t *testing.T) {
	ser := func(modality string, number, n int) SeriesSize {
		return SeriesSize{Modality: modality, Number: number, HasNumber: true, Instances: n}
	}
	for _, tc := range []struct {
		name   string
		series []SeriesSize
		want   int
	}{
		{"largest of the main modality", []SeriesSize{ser("CT", 1, 3), ser("MR", 2, 10), ser("CT", 3, 9)}, 2},
		{"main modality by instances", []SeriesSize{ser("CT", 1, 3), ser("MR", 2, 10), ser("CT", 3, 4)}, 1},
		{"reports do not count", []SeriesSize{ser("SR", 1, 50), ser("CT", 2, 10)}, 1},
		{"structure sets and registrations do not count", []SeriesSize{ser("RTSTRUCT", 1, 50), ser("REG", 2, 40), ser("MR", 3, 4)}, 2},
		{"tie: lower series number", []SeriesSize{ser("CT", 5, 10), ser("CT", 2, 10)}, 1},
		{"tie: a number beats none", []SeriesSize{{Modality: "CT", Instances: 10}, ser("CT", 7, 10)}, 1},
		{"tie, no numbers: the earlier", []SeriesSize{{Modality: "CT", Instances: 10}, {Modality: "CT", Instances: 10}}, 0},
		{"no image series", []SeriesSize{ser("SR", 1, 1), ser("KO", 2, 1)}, 0},
		{"none", nil, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := FirstSeries(tc.series); got != tc.want {
				t.Errorf("FirstSeries = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestCompareStackOrderIsInstancesOf imports a series in a shuffled order
// and checks that InstancesOf (the viewer's stack) lists it as
// CompareStackOrder sorts it: the puller fetches in that order. Instance
// numbers 1..12 on UIDs ending .1 ... .12 tell a numeric order from a
// textual one.
func TestCompareStackOrderIsInstancesOf(t *testing.T) {
	c, err := OpenTemp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const series = "1.2.826.0.1.3680043.10.1107.17.31.1"
	files, err := cachetest.WriteCTSeries(cachetest.CTSeries{Dir: t.TempDir(), StudyUID: "1.2.826.0.1.3680043.10.1107.17.31", SeriesUID: series, SeriesNumber: 1, Slices: 12, Size: 16, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	rand.New(rand.NewSource(3)).Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })
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
	got, err := c.InstancesOf(series)
	if err != nil || len(got) != len(files) {
		t.Fatalf("%d instances (%v), want %d", len(got), err, len(files))
	}
	want := slices.Clone(got)
	rand.New(rand.NewSource(4)).Shuffle(len(want), func(i, j int) { want[i], want[j] = want[j], want[i] })
	slices.SortFunc(want, func(a, b Instance) int {
		return CompareStackOrder(a.InstanceNumber, a.SOPInstanceUID, b.InstanceNumber, b.SOPInstanceUID)
	})
	for i := range got {
		if got[i].SOPInstanceUID != want[i].SOPInstanceUID {
			t.Fatalf("stack %d is %s, CompareStackOrder puts %s there", i, got[i].SOPInstanceUID, want[i].SOPInstanceUID)
		}
	}
	if got[1].InstanceNumber != 2 {
		t.Errorf("second in the stack: instance %d, want 2 (numeric order)", got[1].InstanceNumber)
	}
}
