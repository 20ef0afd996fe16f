//go:build teleread_bench

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"teleread/cache"
	"teleread/cache/cachetest"
	"teleread/viewer"
)

// sealFloor is issue 15's floor: with encryption at rest, import and render
// of cached files keep at least this share of their speed without it.
const sealFloor = 0.85

// benchSeal measures import, and open + decode + render of cached files,
// with the cache's files sealed (as shipped) and plain (cache.SetSealing,
// this build only), and prints the ratios.
func benchSeal(b *bench) error {
	type series struct {
		id string
		n  int
	}
	t := newTable("measure", "sealed", "plain", "sealed/plain", "floor 0.85x")
	for _, s := range []series{{"ct_small_explicit_le", b.instances}, {"mr_overlay_two_windows", max(b.instances/6, 1)}} {
		src, err := b.corpusFile(s.id)
		if err != nil {
			return err
		}
		paths, err := cachetest.MakeSeries(src, filepath.Join(b.tmp, "seal-"+s.id), s.n)
		if err != nil {
			return err
		}
		fmt.Fprintf(b.out, "%d-instance series made from %s (%d bytes each)\n", len(paths), filepath.Base(src), fileSize(src))
		imp, rend, err := b.sealRuns(paths, s.id)
		n := float64(len(paths))
		for _, row := range []struct {
			name string
			d    [2]time.Duration
		}{
			{fmt.Sprintf("import (cache.ImportPaths), %s", s.id), imp},
			{fmt.Sprintf("open + decode + render every cached instance, %s", s.id), rend},
		} {
			if err != nil {
				t.add(row.name, na(err), na(err), "", "")
				continue
			}
			sealedRate, plainRate := n/row.d[0].Seconds(), n/row.d[1].Seconds()
			t.add(row.name, rate(n, row.d[0], "inst"), rate(n, row.d[1], "inst"), ratio(sealedRate, plainRate), verdict(sealedRate/plainRate >= sealFloor))
		}
	}
	t.note("sealed: AES-256-GCM in 64 KiB chunks (cache/seal); plain: the same cache with sealing switched off (teleread_bench builds only).")
	t.note("render: cache.OpenInstance, viewer.OpenFile, frame 0 decoded, CPU render at the frame's size; medians of %d runs, sealed and plain taking turns.", b.runs)
	t.print(b.out)
	return nil
}

// sealRuns measures, b.runs times, a sealed and a plain run one after the
// other (so that both meet the same moments of a busy machine), each an
// import of paths into a fresh cache and then one pass opening, decoding and
// rendering every instance; it returns the medians, sealed first.
func (b *bench) sealRuns(paths []string, id string) (imp, rend [2]time.Duration, err error) {
	var ds [2][2][]time.Duration // [sealed, plain][import, render]
	for run := range b.runs {
		for k, sealed := range []bool{true, false} {
			i, r, err := b.sealRun(paths, sealed, fmt.Sprintf("%s-%d-%v", id, run, sealed))
			if err != nil {
				return imp, rend, err
			}
			ds[k][0], ds[k][1] = append(ds[k][0], i), append(ds[k][1], r)
		}
	}
	for k := range 2 {
		imp[k], rend[k] = median(ds[k][0]), median(ds[k][1])
	}
	return imp, rend, nil
}

// sealRun imports paths into a fresh cache, sealed or not, and then opens,
// decodes and renders every instance once; it returns both times.
func (b *bench) sealRun(paths []string, sealed bool, name string) (imp, rend time.Duration, err error) {
	cache.SetSealing(sealed)
	defer cache.SetSealing(true)
	home := filepath.Join(b.tmp, "seal-cache-"+name)
	c, err := cache.Open(home)
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(home)
	defer c.Close()
	start := time.Now()
	if sum := c.ImportPaths(paths, nil); sum.Imported != len(paths) {
		return 0, 0, fmt.Errorf("imported %d of %d", sum.Imported, len(paths))
	}
	imp = time.Since(start)
	insts, err := c.AllInstances()
	if err != nil {
		return 0, 0, err
	}
	// The render pass is timed without the import's garbage: a reader renders
	// long after the import, and a collection of it falling into one pass of
	// 50 files (tens of ms) decided that pass's figure, on either side.
	runtime.GC()
	start = time.Now()
	for _, in := range insts {
		f, err := c.OpenInstance(in.SOPInstanceUID)
		if err != nil {
			return 0, 0, err
		}
		im, err := viewer.OpenFile(f)
		if err != nil {
			return 0, 0, err
		}
		fr, err := im.Frame(0)
		if err == nil {
			var d *viewer.Display
			if d, err = viewer.DefaultDisplay(im, fr); err == nil {
				_, err = viewer.RenderFrame(fr, d)
			}
		}
		im.Close()
		if err != nil {
			return 0, 0, err
		}
	}
	return imp, time.Since(start), nil
}
