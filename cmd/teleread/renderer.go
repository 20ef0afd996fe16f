package main

import (
	"fmt"
	"image"
	"image/draw"

	"teleread/gpu"
	"teleread/viewer"
)

// renderWith renders one frame through the chosen renderer and says which one
// was used. auto takes the GPU on a hardware GL driver and the CPU renderer on
// software GL (where a parallel Go LUT beats the shader) or without GL.
func renderWith(kind string, im *viewer.Image, opt viewer.RenderOptions) (image.Image, string, error) {
	switch kind {
	case "cpu":
		img, err := viewer.RenderImage(im, opt)
		return img, "cpu", err
	case "gpu", "auto":
	default:
		return nil, "", fmt.Errorf("--renderer %q: want auto, gpu or cpu", kind)
	}
	ctx, err := gpu.NewHeadless()
	if err != nil {
		if kind == "gpu" {
			return nil, "", fmt.Errorf("no OpenGL context for the GPU renderer: %w", err)
		}
		img, err := viewer.RenderImage(im, opt)
		return img, "cpu (no GL context)", err
	}
	defer ctx.Close()
	if kind == "auto" && ctx.IsSoftware() {
		img, err := viewer.RenderImage(im, opt)
		return img, "cpu (GL is software: " + ctx.Info().String() + ")", err
	}
	img, err := renderGPU(ctx, im, opt)
	return img, "gpu: " + ctx.Info().String(), err
}

func renderGPU(ctx *gpu.Context, im *viewer.Image, opt viewer.RenderOptions) (image.Image, error) {
	f, d, err := viewer.LoadImageFrame(im, opt)
	if err != nil {
		return nil, err
	}
	r := ctx.NewRenderer()
	defer r.Close()
	if err := r.Upload(f); err != nil {
		return nil, err
	}
	dst := image.NewRGBA(image.Rect(0, 0, f.Cols, f.Rows))
	if err := r.Render(d, dst); err != nil {
		return nil, err
	}
	if f.Color != viewer.Monochrome {
		return dst, nil
	}
	grey := image.NewGray(dst.Rect)
	draw.Draw(grey, grey.Rect, dst, image.Point{}, draw.Src)
	return grey, nil
}
