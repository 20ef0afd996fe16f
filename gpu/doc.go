// Package gpu renders viewer frames with OpenGL 3.3 core shaders: the same
// pipeline as viewer.CPURenderer (modality, VOI, inversion, colour, palette and
// the view's zoom, pan, rotation, flip and interpolation), giving the same 8-bit
// values within 1.
//
// A Context is a render service: one goroutine locked to its OS thread owns the
// GL context (an EGL surfaceless one for tools and tests, or a hidden GLFW window
// for the desktop app) and runs every GL call sent to it over a channel. Each
// Renderer uploads a frame into a texture once; a window/level change only sets
// uniforms and runs the shader again into an RGBA8 framebuffer of the target's
// size, which is read back into the caller's image.
//
// On software GL (llvmpipe, softpipe, swrast) the parallel CPU renderer is
// faster than the shader, so callers pick the GPU only when IsSoftware is false.
package gpu
