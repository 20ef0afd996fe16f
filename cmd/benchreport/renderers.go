package main

import (
	"fmt"
	"image"
	"strings"
	"time"

	"teleread/viewer"
)

// Issue 4's floors (software GL) and goals (a real GPU).
const (
	gpuWL512Floor = 5 * time.Millisecond
	gpuWL512Goal  = 500 * time.Microsecond
	gpuWL2048Goal = 2 * time.Millisecond
	cineFloorFPS  = 60
	cineTargetW   = 640
	cineTargetH   = 480
)

// rendererKind makes one kind of viewer.Renderer for the side-by-side table.
type rendererKind struct {
	name string
	make func() (viewer.Renderer, error) // nil: not available
	why  error                           // why make is nil
}

// rendererCase is one row: a timed operation on a fresh renderer.
type rendererCase struct {
	name string
	// op returns the median time of one operation (a frame for cine).
	op    func(b *bench, r viewer.Renderer) (time.Duration, error)
	fps   bool   // print as frames per second
	floor string // the floor or goal, as printed
	// check says whether a figure meets the floor (on software GL) or the
	// goal (on a hardware driver): "ok", "MISSED", or "" where neither
	// applies. nil when the row has none.
	check func(d time.Duration, software bool) string
}

// compareRenderers prints the cases for each kind side by side, with the
// speed of the second kind over the first.
func compareRenderers(b *bench, kinds []rendererKind, cases []rendererCase, software bool) {
	head := []string{"measure"}
	for _, k := range kinds {
		head = append(head, k.name)
	}
	head = append(head, kinds[len(kinds)-1].name+" speed / "+kinds[0].name, "floor / goal", "")
	t := newTable(head...)
	for _, c := range cases {
		row := []string{c.name}
		ds := make([]time.Duration, len(kinds))
		for i, k := range kinds {
			if k.make == nil {
				row = append(row, na(k.why))
				continue
			}
			r, err := k.make()
			if err != nil {
				row = append(row, na(err))
				continue
			}
			d, err := c.op(b, r)
			r.Close()
			if err != nil {
				row = append(row, na(err))
				continue
			}
			ds[i] = d
			if c.fps {
				row = append(row, rate(1, d, "fr"))
			} else {
				row = append(row, ms(d))
			}
		}
		first, last := ds[0], ds[len(ds)-1]
		sp := ""
		if first > 0 && last > 0 {
			sp = fmt.Sprintf("%.2fx", first.Seconds()/last.Seconds())
		}
		var vs []string
		for i, k := range kinds {
			if c.check == nil || ds[i] <= 0 {
				continue
			}
			if v := c.check(ds[i], software); v != "" {
				vs = append(vs, k.name+" "+v)
			}
		}
		v := strings.Join(vs, ", ")
		row = append(row, sp, c.floor, v)
		t.add(row...)
	}
	t.print(b.out)
}

// uploadCase times Upload of f (the same frame each time, as when a stack
// scroll reuses a texture of the same size).
func uploadCase(name string, f *viewer.Frame) rendererCase {
	return rendererCase{name: name, op: func(b *bench, r viewer.Renderer) (time.Duration, error) {
		return b.perOp(func() error { return r.Upload(f) })
	}}
}

// wlCase times a window/level re-render of f into a w x h RGBA target.
func wlCase(name string, f *viewer.Frame, d *viewer.Display, w, h int, floor string, check func(time.Duration, bool) string) rendererCase {
	return rendererCase{name: name, floor: floor, check: check, op: func(b *bench, r viewer.Renderer) (time.Duration, error) {
		if err := r.Upload(f); err != nil {
			return 0, err
		}
		return b.wlTime(r, d, image.NewRGBA(image.Rect(0, 0, w, h)))
	}}
}

// cineCase times playing the frames of a file: decode, upload and render each
// into a 640x480 RGBA target, one after another. The result is per frame.
func cineCase(name, path string) rendererCase {
	return rendererCase{name: name, fps: true, floor: fmt.Sprintf("> %d fr/s", cineFloorFPS),
		check: func(d time.Duration, _ bool) string { return verdict(d > 0 && time.Second/d > cineFloorFPS) },
		op: func(b *bench, r viewer.Renderer) (time.Duration, error) {
			im, err := viewer.Open(path)
			if err != nil {
				return 0, err
			}
			defer im.Close()
			f0, err := im.Frame(0)
			if err != nil {
				return 0, err
			}
			d, err := viewer.DefaultDisplay(im, f0)
			if err != nil {
				return 0, err
			}
			dst := image.NewRGBA(image.Rect(0, 0, cineTargetW, cineTargetH))
			i := 0
			play := func() error {
				for range b.cineFrames {
					f, err := im.Frame(i % im.Frames)
					if err != nil {
						return err
					}
					i++
					if err := r.Upload(f); err != nil {
						return err
					}
					if err := r.Render(d, dst); err != nil {
						return err
					}
				}
				return nil
			}
			per, err := b.eachRun(nil, play)
			if err != nil {
				return 0, err
			}
			return per / time.Duration(b.cineFrames), nil
		}}
}

// rendererCases are issue 4's measures: uploads, W/L re-renders of a 512² CT
// frame and a 2048² frame into 1024² and 2048² targets, and cine.
func (b *bench) rendererCases() ([]rendererCase, error) {
	ct, d, err := b.ctFrame()
	if err != nil {
		return nil, err
	}
	big, err := tileFrame(ct, 2048)
	if err != nil {
		return nil, err
	}
	wl512 := func(dt time.Duration, software bool) string {
		if software {
			return verdict(dt < gpuWL512Floor)
		}
		return verdict(dt < gpuWL512Goal)
	}
	wl2048 := func(dt time.Duration, software bool) string {
		if software {
			return "" // a goal for a real GPU only
		}
		return verdict(dt < gpuWL2048Goal)
	}
	cases := []rendererCase{
		uploadCase("upload 512x512 CT frame", ct),
		uploadCase("upload 2048x2048 frame", big),
		wlCase("W/L 512x512 CT into 512x512", ct, d, 512, 512, "< 5 ms soft GL, < 0.5 ms GPU", wl512),
		wlCase("W/L 512x512 CT into 1024x1024", ct, d, 1024, 1024, "", nil),
		wlCase("W/L 2048x2048 into 1024x1024", big, d, 1024, 1024, "< 2 ms GPU", wl2048),
		wlCase("W/L 2048x2048 into 2048x2048", big, d, 2048, 2048, "< 2 ms GPU", wl2048),
	}
	if p, err := b.corpusFile("us_rgb_planar1_epicard"); err == nil {
		cases = append(cases, cineCase("cine 640x480 RGB (us_rgb_planar1_epicard, native planar 1)", p))
	}
	if p, err := b.corpusFile("us_cine_jpeg_ybr422_30f"); err == nil {
		cases = append(cases, cineCase("cine 320x240 JPEG YBR_FULL_422 30 frames (us_cine_jpeg_ybr422_30f)", p))
	}
	return cases, nil
}

// cpuKind is the CPU reference renderer.
var cpuKind = rendererKind{name: "CPU", make: func() (viewer.Renderer, error) { return &viewer.CPURenderer{}, nil }}
