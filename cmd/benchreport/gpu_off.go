//go:build nogpu

package main

import "fmt"

// benchGPU without the gpu package (built with -tags nogpu): the CPU column
// alone, the GPU one n/a.
func benchGPU(b *bench) error {
	cases, err := b.rendererCases()
	if err != nil {
		return err
	}
	fmt.Fprintln(b.out, "GL: n/a (built with -tags nogpu)")
	compareRenderers(b, []rendererKind{cpuKind, {name: "GPU", why: fmt.Errorf("built with -tags nogpu")}}, cases, false)
	return nil
}
