//go:build teleread_bench

package main

import (
	"fmt"
	"os"
	"path/filepath"
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
		var imp, rend [2]time.Duration
		var errs [2]error
		for k, sealed := range []bool{true, false} {
			imp[k], rend[k], errs[k] = b.sealRun(paths, sealed, fmt.Sprintf("%s-%v", s.id, sealed))
		}
		n := float64(len(paths))
		for _, row := range []struct {
			name string
			d    [2]time.Duration
		}{
			{fmt.Sprintf("import (cache.ImportPaths), %s", s.id), imp},
			{fmt.Sprintf("open + decode + render every cached instance, %s", s.id), rend},
		} {
			if errs[0] != nil || errs[1] != nil {
				t.add(row.name, na(errs[0]), na(errs[1]), "", "")
				continue
			}
			sealedRate, plainRate := n/row.d[0].Seconds(), n/row.d[1].Seconds()
			t.add(row.name, rate(n, row.d[0], "inst"), rate(n, row.d[1], "inst"), ratio(sealedRate, plainRate), verdict(sealedRate/plainRate >= sealFloor))
		}
	}
	t.note("sealed: AES-256-GCM in 64 KiB chunks (cache/seal); plain: the same cache with sealing switched off (teleread_bench builds only).")
	t.note("render: cache.OpenInstance, viewer.OpenFile, frame 0 decoded, CPU render at the frame's size; medians of %d runs.", b.runs)
	t.print(b.out)
	return nil
}

// sealRun imports paths into a fresh cache (sealed or not) per run, and
// times opening, decoding and rendering each instance of the last one.
func (b *bench) sealRun(paths []string, sealed bool, name string) (imp, rend time.Duration, err error) {
	cache.SetSealing(sealed)
	defer cache.SetSealing(true)
	var c *cache.Cache
	run := 0
	closeCache := func() {
		if c != nil {
			home := c.Home()
			c.Close()
			os.RemoveAll(home)
			c = nil
		}
	}
	defer closeCache()
	imp, err = b.eachRun(func() error {
		closeCache()
		run++
		var err error
		c, err = cache.Open(filepath.Join(b.tmp, fmt.Sprintf("seal-cache-%s-%d", name, run)))
		return err
	}, func() error {
		sum := c.ImportPaths(paths, nil)
		if sum.Imported != len(paths) {
			return fmt.Errorf("imported %d of %d", sum.Imported, len(paths))
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	insts, err := c.AllInstances()
	if err != nil {
		return 0, 0, err
	}
	rend, err = b.eachRun(nil, func() error {
		for _, in := range insts {
			f, err := c.OpenInstance(in.SOPInstanceUID)
			if err != nil {
				return err
			}
			im, err := viewer.OpenFile(f)
			if err != nil {
				return err
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
				return err
			}
		}
		return nil
	})
	return imp, rend, err
}
