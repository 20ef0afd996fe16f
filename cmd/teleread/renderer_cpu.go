package main

import (
	"fmt"
	"image"

	"teleread/viewer"
)

// renderWith renders through the chosen renderer and says which one was used.
func renderWith(kind, path string, opt viewer.RenderOptions) (image.Image, string, error) {
	switch kind {
	case "cpu", "auto":
		img, err := viewer.RenderFile(path, opt)
		return img, "cpu", err
	case "gpu":
		return nil, "", fmt.Errorf("the GPU renderer is not built into this binary")
	}
	return nil, "", fmt.Errorf("--renderer %q: want auto, gpu or cpu", kind)
}
