package sync

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	gosync "sync"
	"testing"

	"teleread/cache"
	"teleread/cache/cachetest"
	"teleread/sync/orthanctest"
)

// TestReadingOrderFetchesFirstSeenSeriesFirst pulls a study of three series
// from a real Orthanc: a small CT (uploaded first), an MR bigger than it, and
// the largest CT (uploaded last, so the archive lists it last). The largest
// series of the main modality (CT by instance count) is what the reader sees
// first: it must be complete in the cache before any instance of another
// series is, and the study must be openable (a partial study, downloading)
// from its first durable instance. The archive must not list that series first, or the test
// would prove nothing: Orthanc lists series in the order of its hashed
// identifiers, and this study's UIDs make it list the MR first.
func TestReadingOrderFetchesFirstSeenSeriesFirst(t *testing.T) {
	srv := orthanctest.New(t, orthanctest.Options{})
	const study = "1.2.826.0.1.3680043.10.1107.17.7" // Orthanc lists its series 3, 2, 1
	type spec struct {
		number   int
		modality string
		slices   int
	}
	specs := []spec{{1, "CT", 5}, {3, "MR", 8}, {2, "CT", 12}} // upload order
	sops := map[int][]string{}
	for _, s := range specs {
		series := fmt.Sprintf("%s.%d", study, s.number)
		files, err := cachetest.WriteCTSeries(cachetest.CTSeries{
			Dir: t.TempDir(), StudyUID: study, SeriesUID: series, SeriesNumber: s.number,
			Slices: s.slices, Size: 64, Modality: s.modality, Seed: 3,
		})
		if err != nil {
			t.Fatal(err)
		}
		var data [][]byte
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			data = append(data, b)
		}
		uploadAll(t, srv, data)
		for i := range s.slices {
			sops[s.number] = append(sops[s.number], fmt.Sprintf("%s.%d", series, i+1))
		}
	}
	client := newTestClient(t, srv.DICOMwebURL, func(cfg *Config) { cfg.TransferSyntaxes = []string{SyntaxAsStored} })
	listed, err := client.SearchSeries(context.Background(), study, Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != 3 || listed[0].SeriesUID() == study+".2" {
		t.Fatalf("the archive lists %d series, series 2 first or missing: the order cannot be told from the archive's", len(listed))
	}
	c, err := cache.OpenTemp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	// At each progress event, look at what is durable: once anything of
	// another series is, all of series 2 must be.
	var (
		mu       gosync.Mutex
		problems []string
		events   int
	)
	durable := func(number int) int {
		n := 0
		for _, sop := range sops[number] {
			if has, err := c.HasInstance(sop); err == nil && has {
				n++
			}
		}
		return n
	}
	p := &Puller{
		Client: client, Store: c, Reader: "Reader^A",
		Worklist: &Query{Match: []Param{{"StudyInstanceUID", study}}},
		OnEvent: func(e Event) {
			if e.Kind != StudyProgress {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			events++
			if events == 1 {
				// The study opens as a partial study from its first instance.
				comp, err := c.StudyCompleteness(study)
				if err != nil || comp.Have < 1 || comp.Complete() || comp.State != StateDownloading {
					problems = append(problems, fmt.Sprintf("first event: completeness %+v, %v: not openable as a partial study", comp, err))
				}
			}
			first, others := durable(2), durable(1)+durable(3)
			if others > 0 && first < len(sops[2]) {
				problems = append(problems, fmt.Sprintf("event %d: %d instances of other series durable with %d of %d of series 2", events, others, first, len(sops[2])))
			}
		},
	}
	res, err := p.Pull(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Fetched != 25 || len(res.Ready) != 1 {
		t.Fatalf("fetched %d of 25, ready %v, failed %v", res.Fetched, res.Ready, res.Failed)
	}
	mu.Lock()
	defer mu.Unlock()
	if events < 2 {
		t.Fatalf("%d progress events: the order cannot be seen", events)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// TestReadingOrderPicksSeries is the choice alone, as a table.
func TestReadingOrderPicksSeries(t *testing.T) {
	ser := func(uid, modality string, number, n int) Object {
		return Object{
			TagSeriesInstanceUID:              {VR: "UI", Values: []string{uid}},
			TagModality:                       {VR: "CS", Values: []string{modality}},
			TagSeriesNumber:                   {VR: "IS", Values: []string{fmt.Sprint(number)}},
			TagNumberOfSeriesRelatedInstances: {VR: "IS", Values: []string{fmt.Sprint(n)}},
		}
	}
	for _, tc := range []struct {
		name   string
		series []Object
		first  string
	}{
		{"largest of the main modality", []Object{ser("a", "CT", 1, 3), ser("b", "MR", 2, 10), ser("c", "CT", 3, 9)}, "c"},
		{"main modality by instances", []Object{ser("a", "CT", 1, 3), ser("b", "MR", 2, 10), ser("c", "CT", 3, 4)}, "b"},
		{"reports do not count", []Object{ser("a", "SR", 1, 50), ser("b", "CT", 2, 10)}, "b"},
		{"tie: lower series number", []Object{ser("a", "CT", 5, 10), ser("b", "CT", 2, 10)}, "b"},
		{"already first", []Object{ser("a", "CT", 1, 10), ser("b", "CT", 2, 3)}, "a"},
		{"one series", []Object{ser("a", "CT", 1, 1)}, "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := readingOrder(tc.series)
			if len(got) != len(tc.series) {
				t.Fatalf("%d series back, want %d", len(got), len(tc.series))
			}
			if uid := got[0].SeriesUID(); uid != tc.first {
				t.Errorf("first %q, want %q", uid, tc.first)
			}
		})
	}
}

// TestMiddleOut is the slice order alone.
func TestMiddleOut(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sops   []string
		number map[string]int
		want   []string
	}{
		{"five", []string{"e", "a", "c", "b", "d"}, map[string]int{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}, []string{"c", "b", "d", "a", "e"}},
		{"four", []string{"a", "b", "c", "d"}, map[string]int{"a": 1, "b": 2, "c": 3, "d": 4}, []string{"c", "b", "d", "a"}},
		{"unnumbered last", []string{"x", "a", "b"}, map[string]int{"a": 1, "b": 2}, []string{"b", "a", "x"}},
		{"none numbered", []string{"x", "y"}, nil, []string{"x", "y"}},
		{"empty", nil, nil, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := middleOut(tc.sops, tc.number)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestReadingOrderMiddleOutOfPartialSeries pulls a series the cache already
// holds one slice of, so the rest comes one instance at a time: from a real
// Orthanc, the slices must become durable from the middle of the stack
// outward.
func TestReadingOrderMiddleOutOfPartialSeries(t *testing.T) {
	srv := orthanctest.New(t, orthanctest.Options{})
	const study = "1.2.826.0.1.3680043.10.1107.17.6"
	const n = 9
	files, err := cachetest.WriteCTSeries(cachetest.CTSeries{
		Dir: t.TempDir(), StudyUID: study, SeriesUID: study + ".1", SeriesNumber: 1, Slices: n, Size: 64, Seed: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	var data [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		data = append(data, b)
	}
	uploadAll(t, srv, data)
	c, err := cache.OpenTemp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	f, err := os.Open(files[0]) // slice 1 is already here
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Import(f, files[0])
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    gosync.Mutex
		order []int // Instance Numbers in the order they became durable
		have  = map[int]bool{1: true}
	)
	client := newTestClient(t, srv.DICOMwebURL, func(cfg *Config) { cfg.TransferSyntaxes = []string{SyntaxAsStored} })
	p := &Puller{
		Client: client, Store: c, Reader: "Reader^A",
		Worklist: &Query{Match: []Param{{"StudyInstanceUID", study}}},
		OnEvent: func(e Event) {
			if e.Kind != StudyProgress {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for i := 1; i <= n; i++ {
				if has, err := c.HasInstance(fmt.Sprintf("%s.1.%d", study, i)); err == nil && has && !have[i] {
					have[i] = true
					order = append(order, i)
				}
			}
		},
	}
	res, err := p.Pull(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Fetched != n-1 || len(res.Ready) != 1 {
		t.Fatalf("fetched %d of %d, ready %v, failed %v", res.Fetched, n-1, res.Ready, res.Failed)
	}
	// Slices 2..9 missing: the middle of those eight is slice 6.
	want := []int{6, 5, 7, 4, 8, 3, 9, 2}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(order) != fmt.Sprint(want) {
		t.Errorf("slices durable in the order %v, want %v", order, want)
	}
}

// TestReadingOrderOfUncachedSeries plans and pulls a study the cache has
// nothing of from a real Orthanc, uploaded out of order (Orthanc then sends
// the series in an order unrelated to the stack). The default plan (chosen by
// the home-link figures) retrieves the series the reader sees first with one
// series request; asked for the stack order, the plan lists it in the
// viewer's stack order from the slice the viewer opens on (Instance Number,
// not the UIDs' text), and the slices become durable in that order; middle
// out likewise from the middle.
func TestReadingOrderOfUncachedSeries(t *testing.T) {
	srv := orthanctest.New(t, orthanctest.Options{})
	const study = "1.2.826.0.1.3680043.10.1107.17.8"
	const n = 12 // instance UIDs .1 ... .12: a textual order would put .10 second
	files, err := cachetest.WriteCTSeries(cachetest.CTSeries{
		Dir: t.TempDir(), StudyUID: study, SeriesUID: study + ".1", SeriesNumber: 1, Slices: n, Size: 64, Seed: 5,
	})
	if err != nil {
		t.Fatal(err)
	}
	var data [][]byte
	for _, i := range []int{5, 11, 0, 8, 2, 10, 6, 1, 9, 3, 7, 4} {
		b, err := os.ReadFile(files[i])
		if err != nil {
			t.Fatal(err)
		}
		data = append(data, b)
	}
	uploadAll(t, srv, data)
	stack := func(numbers ...int) string {
		var sops []string
		for _, i := range numbers {
			sops = append(sops, fmt.Sprintf("%s.1.%d", study, i))
		}
		return fmt.Sprint(sops)
	}
	for _, tc := range []struct {
		name  string
		order SliceOrder
		want  []int // the first series' Instance Numbers in fetch order; nil for one series request
	}{
		{"default: one series request", 0, nil},
		{"stack order", SliceOrderStack, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
		{"middle out", SliceOrderMiddleOut, []int{7, 6, 8, 5, 9, 4, 10, 3, 11, 2, 12, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := cache.OpenTemp(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var (
				mu        gosync.Mutex
				instances int
				durable   []int // Instance Numbers in the order they became durable
				have      = map[int]bool{}
			)
			client := newTestClient(t, srv.DICOMwebURL, func(cfg *Config) {
				cfg.Transport = countInstanceRetrieves{&mu, &instances}
			})
			p := &Puller{Client: client, Store: c, Reader: "Reader^A", FirstSeriesOrder: tc.order,
				Worklist: &Query{Match: []Param{{"StudyInstanceUID", study}}},
				OnEvent: func(e Event) {
					if e.Kind != StudyProgress {
						return
					}
					mu.Lock()
					defer mu.Unlock()
					for i := 1; i <= n; i++ {
						if has, err := c.HasInstance(fmt.Sprintf("%s.1.%d", study, i)); err == nil && has && !have[i] {
							have[i] = true
							durable = append(durable, i)
						}
					}
				}}
			work, err := p.worklist(context.Background())
			if err != nil || len(work) != 1 {
				t.Fatalf("worklist: %d studies, %v", len(work), err)
			}
			plan, err := p.planStudy(context.Background(), work[0])
			if err != nil || len(plan.series) != 1 {
				t.Fatalf("plan: %d series, %v", len(plan.series), err)
			}
			first := plan.series[0]
			switch {
			case tc.want == nil && (first.ordered || !plan.retrieveWhole(&first)):
				t.Errorf("planned one instance at a time (%d instances), want one series request", len(first.missing))
			case tc.want != nil && (!first.ordered || plan.retrieveWhole(&first)):
				t.Errorf("planned one series request, want one instance at a time")
			case tc.want != nil && fmt.Sprint(first.missing) != stack(tc.want...):
				t.Errorf("planned %v, want %s", first.missing, stack(tc.want...))
			}
			res, err := p.Pull(context.Background())
			if err != nil || res.Fetched != n || len(res.Ready) != 1 {
				t.Fatalf("pull: fetched %d of %d, ready %v, failed %v, %v", res.Fetched, n, res.Ready, res.Failed, err)
			}
			mu.Lock()
			defer mu.Unlock()
			if instances != len(tc.want) {
				t.Errorf("%d instance retrieves, want %d", instances, len(tc.want))
			}
			if tc.want != nil && fmt.Sprint(durable) != fmt.Sprint(tc.want) {
				t.Errorf("slices durable in the order %v, want %v", durable, tc.want)
			}
		})
	}
}

// countInstanceRetrieves counts the WADO-RS instance retrieves it carries.
type countInstanceRetrieves struct {
	mu *gosync.Mutex
	n  *int
}

func (c countInstanceRetrieves) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.Contains(r.URL.Path, "/instances/") && !strings.HasSuffix(r.URL.Path, "/metadata") {
		c.mu.Lock()
		*c.n++
		c.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(r)
}
