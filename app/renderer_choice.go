package app

import (
	"fmt"

	"teleread/gpu"
	"teleread/viewer"
)

// ChooseRenderer picks the viewports' renderer. kind is "auto" (the GPU on a
// hardware GL driver; the CPU renderer on software GL such as llvmpipe, where a
// parallel Go LUT beats the shader, or where no GL context can be had), "gpu"
// (the GPU whatever the driver; an error without a GL context) or "cpu". The GL
// context is an offscreen one on a thread of its own, so it lives and dies
// independently of the window's. close releases it; call it after Run returns.
func ChooseRenderer(kind string) (NewRendererFunc, RendererInfo, func(), error) {
	cpu := func() (viewer.Renderer, error) { return &viewer.CPURenderer{}, nil }
	nop := func() {}
	switch kind {
	case "cpu":
		return cpu, RendererInfo{Kind: "CPU", GL: "chosen"}, nop, nil
	case "gpu", "auto", "":
	default:
		return nil, RendererInfo{}, nop, fmt.Errorf("app: renderer %q: want auto, gpu or cpu", kind)
	}
	ctx, err := gpu.NewHeadless()
	if err != nil {
		if kind == "gpu" {
			return nil, RendererInfo{}, nop, fmt.Errorf("app: GPU renderer: %w", err)
		}
		return cpu, RendererInfo{Kind: "CPU", GL: "no GL context"}, nop, nil
	}
	info := ctx.Info()
	if kind != "gpu" && ctx.IsSoftware() {
		ctx.Close()
		return cpu, RendererInfo{Kind: "CPU", GL: "GL is software: " + info.String()}, nop, nil
	}
	return func() (viewer.Renderer, error) { return ctx.NewRenderer(), nil },
		RendererInfo{Kind: "GPU", GL: info.String()}, func() { ctx.Close() }, nil
}
