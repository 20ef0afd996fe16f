package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"

	"teleread/viewer"
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
	img, used, err := renderWith(*renderer, paths[0], opt)
	if err != nil {
		fmt.Fprintln(stderr, "teleread: render:", err)
		return 1
	}
	if err := viewer.WriteImage(*out, img); err != nil {
		fmt.Fprintln(stderr, "teleread: render:", err)
		return 1
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
