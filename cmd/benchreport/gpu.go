//go:build !nogpu

package main

import (
	"fmt"

	"teleread/gpu"
	"teleread/viewer"
)

// benchGPU times the GPU renderer (a headless EGL context) beside the CPU
// renderer on issue 4's measures, and names the GL renderer. Without a GL
// context the GPU column says why. Build with -tags nogpu to leave the gpu
// package out.
func benchGPU(b *bench) error {
	cases, err := b.rendererCases()
	if err != nil {
		return err
	}
	gpuKind := rendererKind{name: "GPU"}
	software := false
	ctx, err := gpu.NewHeadless()
	if err != nil {
		gpuKind.why = err
		fmt.Fprintf(b.out, "GL: n/a (%v)\n", err)
	} else {
		defer ctx.Close()
		info := ctx.Info()
		software = info.IsSoftware()
		kind := "hardware driver"
		if software {
			kind = "software rasteriser: the app renders on the CPU here"
		}
		fmt.Fprintf(b.out, "GL: %s (vendor %s; %s), headless EGL context\n", info, info.Vendor, kind)
		gpuKind.make = func() (viewer.Renderer, error) { return ctx.NewRenderer(), nil }
	}
	compareRenderers(b, []rendererKind{cpuKind, gpuKind}, cases, software)
	fmt.Fprintln(b.out, "  Targets are RGBA (what the screen gets); the GPU figures include reading the target back.")
	fmt.Fprintln(b.out, "  W/L: the window centre moves on every render. The 2048x2048 frame tiles the 512x512 CT 4x4.")
	fmt.Fprintf(b.out, "  Cine: %d frames per run, decoded, uploaded and rendered one after another on one goroutine (no decode-ahead),\n", b.cineFrames)
	fmt.Fprintln(b.out, "  into a 640x480 target; the corpus has no 640x480 multi-frame RGB clip, so the 640x480 RGB row decodes one frame again and again.")
	return nil
}
