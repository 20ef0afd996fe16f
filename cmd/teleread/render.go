package main

import (
	"flag"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"teleread/cache"
	"teleread/viewer"
	"teleread/viewer/dataset"
)

func runRender(g *globals, args []string) int {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	frame := fs.Int("frame", 0, "frame number, from 0")
	window := fs.String("window", "", "window CENTER,WIDTH (default: the file's first window, else min/max)")
	renderer := fs.String("renderer", "auto", "auto, gpu or cpu")
	out := fs.String("o", "", "output file: .png, .pgm (grey) or .ppm (colour)")
	paths, err := interleaved(fs, args)
	if err != nil {
		return 2
	}
	if len(paths) != 1 || *out == "" {
		fmt.Fprintln(stderr, "usage: teleread render FILE [--frame N] [--window C,W] [--renderer auto|gpu|cpu] -o OUT")
		return 2
	}
	opt := viewer.RenderOptions{Frame: *frame}
	if *window != "" {
		w, err := parseWindow(*window)
		if err != nil {
			fmt.Fprintln(stderr, "teleread: render:", err)
			return 2
		}
		opt.Window = &w
	}
	f, cached, done, err := openInput(g, paths[0])
	if err != nil {
		fmt.Fprintln(stderr, "teleread: render:", err)
		return 1
	}
	defer done()
	im, err := viewer.NewImage(f)
	if err != nil {
		fmt.Fprintln(stderr, "teleread: render:", err)
		return 1
	}
	img, used, err := renderWith(*renderer, im, opt)
	if err != nil {
		fmt.Fprintln(stderr, "teleread: render:", err)
		return 1
	}
	if err := viewer.WriteImage(*out, img); err != nil {
		fmt.Fprintln(stderr, "teleread: render:", err)
		return 1
	}
	if cached != nil {
		if err := auditRender(cached, g.home, paths[0], f.String(dataset.StudyInstanceUID), *frame, *out); err != nil {
			fmt.Fprintln(stderr, "teleread: render:", err)
			return 1
		}
	}
	if used != "" {
		fmt.Fprintln(stderr, "renderer:", used)
	}
	return 0
}

func parseWindow(s string) (viewer.Window, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 2 {
		return viewer.Window{}, fmt.Errorf("--window %q: want CENTER,WIDTH", s)
	}
	c, err1 := strconv.ParseFloat(strings.TrimSpace(parts[0]), 64)
	w, err2 := strconv.ParseFloat(strings.TrimSpace(parts[1]), 64)
	if err1 != nil || err2 != nil || w <= 0 {
		return viewer.Window{}, fmt.Errorf("--window %q: want numbers CENTER,WIDTH with WIDTH > 0", s)
	}
	return viewer.Window{Center: c, Width: w}, nil
}

// auditRender records the rendering of a file stored in the cache at home (a
// cached study's image written out), of study; files elsewhere are the user's
// own.
func auditRender(c *cache.Cache, home, path, study string, frame int, out string) error {
	files, err1 := filepath.Abs(filepath.Join(home, "files"))
	p, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return nil
	}
	if rp, err := filepath.EvalSymlinks(p); err == nil {
		p = rp
	}
	if rf, err := filepath.EvalSymlinks(files); err == nil {
		files = rf
	}
	rel, err := filepath.Rel(files, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil
	}
	detail := fmt.Sprintf("frame %d of %s to %s", frame, filepath.ToSlash(rel), out)
	if study == "" {
		return cache.AppendAudit(home, cache.AuditRender, study, detail)
	}
	// Through the cache the image was read from (no second unlock), so that
	// the rendering dates the study for retention like any other access.
	return c.Audit(cache.AuditRender, study, detail)
}
