package viewer

import "image/draw"

// Renderer turns a decoded Frame into display pixels. The CPU renderer here and the
// GPU renderer both implement it and must give the same 8-bit values (within 1).
//
// Upload is called once per frame (a texture upload on the GPU); Render may then be
// called any number of times with different Display values (window/level drags,
// zoom, pan), each drawing the whole target.
type Renderer interface {
	// Upload makes f the frame later Render calls draw. The renderer may keep f;
	// the caller must not modify it afterwards.
	Upload(f *Frame) error
	// Render draws the uploaded frame with d into dst, whose bounds are the viewport.
	// Grey frames may be drawn into an *image.Gray or *image.RGBA (R=G=B, A=255),
	// colour frames into an *image.RGBA; other draw.Image types are slower.
	Render(d *Display, dst draw.Image) error
	// Close releases what the renderer holds (textures on the GPU).
	Close() error
}

var _ Renderer = (*CPURenderer)(nil)
