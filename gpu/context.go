package gpu

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
)

// Errors callers branch on.
var (
	// ErrNoContext: no OpenGL 3.3 core context could be made (no EGL, no driver,
	// no display). Callers fall back to the CPU renderer.
	ErrNoContext = errors.New("gpu: no OpenGL 3.3 core context")
	// ErrClosed: the Context (or the Renderer) was closed.
	ErrClosed = errors.New("gpu: closed")
	// ErrTooLarge: the frame or target is larger than the GL implementation's
	// texture or framebuffer limit.
	ErrTooLarge = errors.New("gpu: larger than the GL limit")
)

// Info describes the GL implementation behind a Context.
type Info struct {
	Vendor   string // GL_VENDOR
	Renderer string // GL_RENDERER, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)"
	Version  string // GL_VERSION
	// MaxTexture and MaxTarget are GL_MAX_TEXTURE_SIZE and
	// GL_MAX_RENDERBUFFER_SIZE: the largest frame and target side.
	MaxTexture, MaxTarget int
}

// IsSoftware reports whether the renderer string names a software rasteriser
// (Mesa llvmpipe, softpipe, swrast), where the CPU renderer is the faster choice.
func (i Info) IsSoftware() bool {
	r := strings.ToLower(i.Renderer)
	for _, s := range []string{"llvmpipe", "softpipe", "swrast", "software rasterizer"} {
		if strings.Contains(r, s) {
			return true
		}
	}
	return false
}

// String is the renderer and version, for a status bar or a benchmark log.
func (i Info) String() string { return i.Renderer + ", OpenGL " + i.Version }

// Context is a render service: a goroutine locked to its OS thread that owns one
// GL context and runs every GL call of the Renderers made from it, in the order
// they are asked for. Its methods are safe for concurrent use.
type Context struct {
	reqs chan request
	quit chan struct{}
	done chan struct{} // closed when the render goroutine has ended
	once sync.Once
	info Info

	// Owned by the render goroutine.
	dev      device
	release  func()
	programs map[variant]program
}

type request struct {
	fn    func(device) error
	reply chan error
}

// opener makes a GL context current on the calling (locked) thread and returns
// a device for it and the function that destroys the context on that thread.
type opener func() (device, func(), error)

// NewHeadless starts a render service on an offscreen EGL context (Mesa's
// surfaceless platform, else the default display; no window system needed).
// It returns an error wrapping ErrNoContext when none can be made.
func NewHeadless() (*Context, error) {
	return start(func() (device, func(), error) {
		getProc, release, err := openEGL()
		if err != nil {
			return nil, nil, err
		}
		d, err := newGLDevice(getProc)
		if err != nil {
			release()
			return nil, nil, err
		}
		return d, release, nil
	})
}

// start runs the render goroutine and waits until open has succeeded or failed.
func start(open opener) (*Context, error) {
	c := &Context{
		reqs:     make(chan request),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		programs: map[variant]program{},
	}
	ready := make(chan error, 1)
	go c.serve(open, ready)
	if err := <-ready; err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Context) serve(open opener, ready chan<- error) {
	runtime.LockOSThread() // the GL context is current on this thread only; never unlocked
	defer close(c.done)
	dev, release, err := open()
	if err != nil {
		ready <- err
		return
	}
	c.dev, c.release = dev, release
	vendor, renderer, version := dev.Strings()
	maxTex, maxTarget := dev.Limits()
	c.info = Info{Vendor: vendor, Renderer: renderer, Version: version, MaxTexture: maxTex, MaxTarget: maxTarget}
	ready <- nil
	for {
		select {
		case r := <-c.reqs:
			r.reply <- r.fn(dev)
		case <-c.quit:
			for s, p := range c.programs {
				dev.DeleteProgram(p)
				delete(c.programs, s)
			}
			dev.Release()
			release()
			return
		}
	}
}

// do runs fn on the render thread and returns its error.
func (c *Context) do(fn func(device) error) error {
	r := request{fn: fn, reply: make(chan error, 1)}
	select {
	case c.reqs <- r:
	case <-c.quit:
		return ErrClosed
	}
	return <-r.reply
}

// program returns the frame program of variant v, building it on first use.
// It runs on the render thread.
func (c *Context) program(dev device, v variant) (program, error) {
	if p, ok := c.programs[v]; ok {
		return p, nil
	}
	p, err := dev.NewProgram(frameVert, fragmentSource(v))
	if err != nil {
		return 0, err
	}
	c.programs[v] = p
	return p, nil
}

// Info returns the GL implementation's vendor, renderer, version and limits.
func (c *Context) Info() Info { return c.info }

// IsSoftware reports whether the context renders in software (see Info.IsSoftware).
func (c *Context) IsSoftware() bool { return c.info.IsSoftware() }

// Close destroys the GL context on its thread. Renderers made from it fail with
// ErrClosed afterwards; their GL objects go with the context.
func (c *Context) Close() error {
	c.once.Do(func() { close(c.quit) })
	<-c.done
	return nil
}

// Probe makes a headless context, reads its Info and closes it: how a command
// line tool decides between the GPU and the CPU renderer.
func Probe() (Info, error) {
	c, err := NewHeadless()
	if err != nil {
		return Info{}, err
	}
	defer c.Close()
	return c.Info(), nil
}

// tooLarge reports a side beyond a GL limit.
func tooLarge(what string, w, h, limit int) error {
	return fmt.Errorf("gpu: %s %dx%d: %w (%d)", what, w, h, ErrTooLarge, limit)
}
