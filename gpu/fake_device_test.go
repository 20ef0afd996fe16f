package gpu

import (
	"errors"
	"fmt"
	"testing"
)

// fakeDevice is a device without GL: it counts what is made, updated, drawn and
// deleted, so the renderer's upload and release logic is tested anywhere.
type fakeDevice struct {
	next       uint32
	textures   map[texture]texFormat
	targets    map[uint32]target
	programs   map[program]bool
	newTex     map[texFormat]int // textures made, by format
	updates    map[texFormat]int // whole-texture updates, by format
	uploaded   int               // bytes sent by NewTexture and UpdateTexture
	deleted    int               // textures deleted
	newTargets int
	draws      int
	reads      int
	released   bool
	last       uniforms // of the last draw
	lastTex    [numUnits]texture
	failNext   error // returned by the next NewTexture
}

var _ device = (*fakeDevice)(nil)

func newFakeDevice() *fakeDevice {
	return &fakeDevice{textures: map[texture]texFormat{}, targets: map[uint32]target{}, programs: map[program]bool{},
		newTex: map[texFormat]int{}, updates: map[texFormat]int{}}
}

func (d *fakeDevice) id() uint32 { d.next++; return d.next }

func (d *fakeDevice) NewTexture(f texFormat, w, h int, data []byte) (texture, error) {
	if err := d.failNext; err != nil {
		d.failNext = nil
		return 0, err
	}
	if len(data) != w*h*f.bytesPerPixel() {
		return 0, fmt.Errorf("fake: %d bytes for %dx%d of %d-byte pixels", len(data), w, h, f.bytesPerPixel())
	}
	t := texture(d.id())
	d.textures[t] = f
	d.newTex[f]++
	d.uploaded += len(data)
	return t, nil
}

func (d *fakeDevice) UpdateTexture(t texture, f texFormat, w, h int, data []byte) error {
	if d.textures[t] != f {
		return errors.New("fake: update of an unknown texture or another format")
	}
	d.updates[f]++
	d.uploaded += len(data)
	return nil
}

func (d *fakeDevice) DeleteTexture(t texture) {
	if _, ok := d.textures[t]; !ok {
		panic(fmt.Sprintf("fake: delete of unknown texture %d", t))
	}
	delete(d.textures, t)
	d.deleted++
}

func (d *fakeDevice) NewTarget(w, h int) (target, error) {
	t := target{fbo: d.id(), tex: d.id(), w: w, h: h}
	d.targets[t.fbo] = t
	d.newTargets++
	return t, nil
}

func (d *fakeDevice) DeleteTarget(t target) {
	if _, ok := d.targets[t.fbo]; !ok {
		panic(fmt.Sprintf("fake: delete of unknown target %d", t.fbo))
	}
	delete(d.targets, t.fbo)
}

func (d *fakeDevice) NewProgram(vert, frag string) (program, error) {
	p := program(d.id())
	d.programs[p] = true
	return p, nil
}

func (d *fakeDevice) DeleteProgram(p program) { delete(d.programs, p) }

func (d *fakeDevice) Draw(p program, t target, tex [numUnits]texture, u *uniforms) error {
	if !d.programs[p] {
		return errors.New("fake: draw with unknown program")
	}
	if _, ok := d.targets[t.fbo]; !ok {
		return errors.New("fake: draw into unknown target")
	}
	for unit, name := range tex {
		if _, ok := d.textures[name]; name != 0 && !ok {
			return fmt.Errorf("fake: unit %d bound to deleted texture %d", unit, name)
		}
	}
	d.draws++
	d.last, d.lastTex = *u, tex
	return nil
}

func (d *fakeDevice) ReadPixels(t target, dst []byte) error {
	if len(dst) < 4*t.w*t.h {
		return errors.New("fake: short read buffer")
	}
	d.reads++
	return nil
}

func (d *fakeDevice) Limits() (int, int)                { return 4096, 4096 }
func (d *fakeDevice) Strings() (string, string, string) { return "fake", "fake renderer", "3.3 fake" }
func (d *fakeDevice) Release()                          { d.released = true }

// live returns the GL objects still alive.
func (d *fakeDevice) live() (textures, targets, programs int) {
	return len(d.textures), len(d.targets), len(d.programs)
}

// fakeContext starts a render service on a fake device.
func fakeContext(t testing.TB) (*Context, *fakeDevice) {
	t.Helper()
	dev := newFakeDevice()
	c, err := start(func() (device, func(), error) { return dev, func() {}, nil })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, dev
}

// inspect runs fn on the render thread, where the fake's counters are written.
func inspect(c *Context, fn func()) {
	c.do(func(device) error { fn(); return nil })
}
