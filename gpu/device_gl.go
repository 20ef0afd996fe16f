package gpu

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"github.com/go-gl/gl/v3.3-core/gl"
)

// glDevice is the device on a real GL 3.3 core context. It must only be used
// on the thread where that context is current.
type glDevice struct {
	vao   uint32
	progs map[program]*locations
}

var _ device = (*glDevice)(nil)

// newGLDevice loads the GL functions through getProc (with the context current)
// and makes the empty vertex array a core profile needs for drawing.
func newGLDevice(getProc func(string) unsafe.Pointer) (*glDevice, error) {
	if err := gl.InitWithProcAddrFunc(getProc); err != nil {
		return nil, fmt.Errorf("%w: loading GL 3.3 functions: %v", ErrNoContext, err)
	}
	d := &glDevice{progs: map[program]*locations{}}
	gl.GenVertexArrays(1, &d.vao)
	gl.PixelStorei(gl.UNPACK_ALIGNMENT, 1)
	gl.PixelStorei(gl.PACK_ALIGNMENT, 1)
	gl.Disable(gl.BLEND)
	gl.Disable(gl.DEPTH_TEST)
	gl.Disable(gl.DITHER)
	if err := glError("init"); err != nil {
		return nil, err
	}
	return d, nil
}

// glFormats gives internal format, pixel format and type of each texFormat.
var glFormats = [numFormats][3]uint32{
	fmtR8UI:    {gl.R8UI, gl.RED_INTEGER, gl.UNSIGNED_BYTE},
	fmtR8I:     {gl.R8I, gl.RED_INTEGER, gl.BYTE},
	fmtR16UI:   {gl.R16UI, gl.RED_INTEGER, gl.UNSIGNED_SHORT},
	fmtR16I:    {gl.R16I, gl.RED_INTEGER, gl.SHORT},
	fmtR32UI:   {gl.R32UI, gl.RED_INTEGER, gl.UNSIGNED_INT},
	fmtR32I:    {gl.R32I, gl.RED_INTEGER, gl.INT},
	fmtR32F:    {gl.R32F, gl.RED, gl.FLOAT},
	fmtRGB8UI:  {gl.RGB8UI, gl.RGB_INTEGER, gl.UNSIGNED_BYTE},
	fmtRGB8I:   {gl.RGB8I, gl.RGB_INTEGER, gl.BYTE},
	fmtRGB16UI: {gl.RGB16UI, gl.RGB_INTEGER, gl.UNSIGNED_SHORT},
	fmtRGB16I:  {gl.RGB16I, gl.RGB_INTEGER, gl.SHORT},
	fmtRGB32UI: {gl.RGB32UI, gl.RGB_INTEGER, gl.UNSIGNED_INT},
	fmtRGB32I:  {gl.RGB32I, gl.RGB_INTEGER, gl.INT},
	fmtRGBA32F: {gl.RGBA32F, gl.RGBA, gl.FLOAT},
}

func glError(op string) error {
	var codes []string
	for i := 0; i < 8; i++ {
		e := gl.GetError()
		if e == gl.NO_ERROR {
			break
		}
		codes = append(codes, fmt.Sprintf("0x%04x", e))
	}
	if len(codes) == 0 {
		return nil
	}
	return fmt.Errorf("gpu: %s: GL error %s", op, strings.Join(codes, ", "))
}

func dataPtr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

func (d *glDevice) NewTexture(f texFormat, w, h int, data []byte) (texture, error) {
	var t uint32
	gl.GenTextures(1, &t)
	gl.ActiveTexture(gl.TEXTURE0)
	gl.BindTexture(gl.TEXTURE_2D, t)
	// Integer textures are only complete with NEAREST filtering and one level.
	gl.TexParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST)
	gl.TexParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST)
	gl.TexParameteri(gl.TEXTURE_2D, gl.TEXTURE_BASE_LEVEL, 0)
	gl.TexParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAX_LEVEL, 0)
	gl.TexParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE)
	gl.TexParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE)
	g := glFormats[f]
	gl.TexImage2D(gl.TEXTURE_2D, 0, int32(g[0]), int32(w), int32(h), 0, g[1], g[2], dataPtr(data))
	gl.BindTexture(gl.TEXTURE_2D, 0)
	if err := glError("new texture"); err != nil {
		gl.DeleteTextures(1, &t)
		return 0, err
	}
	return texture(t), nil
}

func (d *glDevice) UpdateTexture(t texture, f texFormat, w, h int, data []byte) error {
	gl.ActiveTexture(gl.TEXTURE0)
	gl.BindTexture(gl.TEXTURE_2D, uint32(t))
	g := glFormats[f]
	gl.TexSubImage2D(gl.TEXTURE_2D, 0, 0, 0, int32(w), int32(h), g[1], g[2], dataPtr(data))
	gl.BindTexture(gl.TEXTURE_2D, 0)
	return glError("update texture")
}

func (d *glDevice) DeleteTexture(t texture) {
	n := uint32(t)
	gl.DeleteTextures(1, &n)
}

func (d *glDevice) NewTarget(w, h int) (target, error) {
	t := target{w: w, h: h}
	gl.GenTextures(1, &t.tex)
	gl.BindTexture(gl.TEXTURE_2D, t.tex)
	gl.TexParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST)
	gl.TexParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST)
	gl.TexParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAX_LEVEL, 0)
	gl.TexImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, int32(w), int32(h), 0, gl.RGBA, gl.UNSIGNED_BYTE, nil)
	gl.BindTexture(gl.TEXTURE_2D, 0)
	gl.GenFramebuffers(1, &t.fbo)
	gl.BindFramebuffer(gl.FRAMEBUFFER, t.fbo)
	gl.FramebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, t.tex, 0)
	status := gl.CheckFramebufferStatus(gl.FRAMEBUFFER)
	gl.BindFramebuffer(gl.FRAMEBUFFER, 0)
	err := glError("new target")
	if err == nil && status != gl.FRAMEBUFFER_COMPLETE {
		err = fmt.Errorf("gpu: new target %dx%d: framebuffer status 0x%04x", w, h, status)
	}
	if err != nil {
		d.DeleteTarget(t)
		return target{}, err
	}
	return t, nil
}

func (d *glDevice) DeleteTarget(t target) {
	if t.fbo != 0 {
		gl.DeleteFramebuffers(1, &t.fbo)
	}
	if t.tex != 0 {
		gl.DeleteTextures(1, &t.tex)
	}
}

func compileShader(kind uint32, src string) (uint32, error) {
	s := gl.CreateShader(kind)
	cs, free := gl.Strs(src + "\x00")
	gl.ShaderSource(s, 1, cs, nil)
	free()
	gl.CompileShader(s)
	var ok int32
	gl.GetShaderiv(s, gl.COMPILE_STATUS, &ok)
	if ok == gl.FALSE {
		var n int32
		gl.GetShaderiv(s, gl.INFO_LOG_LENGTH, &n)
		log := make([]byte, n+1)
		gl.GetShaderInfoLog(s, n, nil, &log[0])
		gl.DeleteShader(s)
		return 0, fmt.Errorf("gpu: compile shader: %s", strings.TrimRight(string(log), "\x00\n"))
	}
	return s, nil
}

func (d *glDevice) NewProgram(vert, frag string) (program, error) {
	vs, err := compileShader(gl.VERTEX_SHADER, vert)
	if err != nil {
		return 0, err
	}
	defer gl.DeleteShader(vs)
	fs, err := compileShader(gl.FRAGMENT_SHADER, frag)
	if err != nil {
		return 0, err
	}
	defer gl.DeleteShader(fs)
	p := gl.CreateProgram()
	gl.AttachShader(p, vs)
	gl.AttachShader(p, fs)
	gl.LinkProgram(p)
	var ok int32
	gl.GetProgramiv(p, gl.LINK_STATUS, &ok)
	if ok == gl.FALSE {
		var n int32
		gl.GetProgramiv(p, gl.INFO_LOG_LENGTH, &n)
		log := make([]byte, n+1)
		gl.GetProgramInfoLog(p, n, nil, &log[0])
		gl.DeleteProgram(p)
		return 0, fmt.Errorf("gpu: link program: %s", strings.TrimRight(string(log), "\x00\n"))
	}
	d.progs[program(p)] = newLocations(p)
	return program(p), glError("new program")
}

func (d *glDevice) DeleteProgram(p program) {
	delete(d.progs, p)
	gl.DeleteProgram(uint32(p))
}

// locations are a program's uniform locations, looked up once at link time.
type locations struct {
	imageSize, swapAxes, invert           int32
	axisOrigin, axisStep, axisSize        int32
	slope, intercept, modLUTLen, modFirst int32
	winLo, winHi, winCenter, winWidth     int32
	voiLUTLen, voiFirst, voiMax           int32
	palFirst, palLen, pal16, colorShift   int32
}

func newLocations(p uint32) *locations {
	at := func(name string) int32 { return gl.GetUniformLocation(p, gl.Str(name+"\x00")) }
	gl.UseProgram(p)
	for unit, name := range [numUnits]string{"image", "modLUT", "voiLUT", "palRed", "palGreen", "palBlue", "axisCol", "axisRow"} {
		gl.Uniform1i(at(name), int32(unit))
	}
	gl.UseProgram(0)
	return &locations{
		imageSize: at("imageSize"), swapAxes: at("swapAxes"), invert: at("invert"),
		axisOrigin: at("axisOrigin"), axisStep: at("axisStep"), axisSize: at("axisSize"),
		slope: at("slope"), intercept: at("intercept"),
		modLUTLen: at("modLUTLen"), modFirst: at("modFirst"), winLo: at("winLo"),
		winHi: at("winHi"), winCenter: at("winCenter"), winWidth: at("winWidth"), voiLUTLen: at("voiLUTLen"),
		voiFirst: at("voiFirst"), voiMax: at("voiMax"), palFirst: at("palFirst"),
		palLen: at("palLen"), pal16: at("pal16"), colorShift: at("colorShift"),
	}
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

func (d *glDevice) Draw(p program, t target, tex [numUnits]texture, u *uniforms) error {
	l := d.progs[p]
	if l == nil {
		return errors.New("gpu: draw: unknown program")
	}
	gl.BindFramebuffer(gl.FRAMEBUFFER, t.fbo)
	gl.Viewport(0, 0, int32(t.w), int32(t.h))
	gl.UseProgram(uint32(p))
	for unit, name := range tex {
		gl.ActiveTexture(gl.TEXTURE0 + uint32(unit))
		gl.BindTexture(gl.TEXTURE_2D, uint32(name))
	}
	gl.Uniform2i(l.imageSize, u.ImageSize[0], u.ImageSize[1])
	gl.Uniform1i(l.swapAxes, b2i(u.SwapAxes))
	gl.Uniform1i(l.invert, b2i(u.Invert))
	gl.Uniform2f(l.axisOrigin, u.AxisOrigin[0], u.AxisOrigin[1])
	gl.Uniform2f(l.axisStep, u.AxisStep[0], u.AxisStep[1])
	gl.Uniform2f(l.axisSize, u.AxisSize[0], u.AxisSize[1])
	gl.Uniform1f(l.slope, u.Slope)
	gl.Uniform1f(l.intercept, u.Intercept)
	gl.Uniform1i(l.modLUTLen, u.ModLUTLen)
	gl.Uniform1i(l.modFirst, u.ModFirst)
	gl.Uniform1f(l.winLo, u.WinLo)
	gl.Uniform1f(l.winHi, u.WinHi)
	gl.Uniform1f(l.winCenter, u.WinCenter)
	gl.Uniform1f(l.winWidth, u.WinWidth)
	gl.Uniform1i(l.voiLUTLen, u.VOILUTLen)
	gl.Uniform1i(l.voiFirst, u.VOIFirst)
	gl.Uniform1f(l.voiMax, u.VOIMax)
	gl.Uniform3i(l.palFirst, u.PalFirst[0], u.PalFirst[1], u.PalFirst[2])
	gl.Uniform3i(l.palLen, u.PalLen[0], u.PalLen[1], u.PalLen[2])
	gl.Uniform3i(l.pal16, b2i(u.Pal16[0]), b2i(u.Pal16[1]), b2i(u.Pal16[2]))
	gl.Uniform1i(l.colorShift, u.ColorShift)
	gl.BindVertexArray(d.vao)
	gl.DrawArrays(gl.TRIANGLES, 0, 3)
	gl.BindVertexArray(0)
	for unit := range tex {
		gl.ActiveTexture(gl.TEXTURE0 + uint32(unit))
		gl.BindTexture(gl.TEXTURE_2D, 0)
	}
	gl.ActiveTexture(gl.TEXTURE0)
	gl.UseProgram(0)
	gl.BindFramebuffer(gl.FRAMEBUFFER, 0)
	return glError("draw")
}

func (d *glDevice) ReadPixels(t target, dst []byte) error {
	if len(dst) < 4*t.w*t.h {
		return fmt.Errorf("gpu: read pixels: buffer of %d bytes for %dx%d", len(dst), t.w, t.h)
	}
	gl.BindFramebuffer(gl.READ_FRAMEBUFFER, t.fbo)
	gl.ReadBuffer(gl.COLOR_ATTACHMENT0)
	gl.ReadPixels(0, 0, int32(t.w), int32(t.h), gl.RGBA, gl.UNSIGNED_BYTE, unsafe.Pointer(&dst[0]))
	gl.BindFramebuffer(gl.READ_FRAMEBUFFER, 0)
	return glError("read pixels")
}

func (d *glDevice) Limits() (maxTexture, maxTarget int) {
	var a, b int32
	gl.GetIntegerv(gl.MAX_TEXTURE_SIZE, &a)
	gl.GetIntegerv(gl.MAX_RENDERBUFFER_SIZE, &b)
	return int(a), int(b)
}

func (d *glDevice) Strings() (vendor, renderer, version string) {
	return gl.GoStr(gl.GetString(gl.VENDOR)), gl.GoStr(gl.GetString(gl.RENDERER)), gl.GoStr(gl.GetString(gl.VERSION))
}

func (d *glDevice) Release() {
	for p := range d.progs {
		d.DeleteProgram(p)
	}
	if d.vao != 0 {
		gl.DeleteVertexArrays(1, &d.vao)
		d.vao = 0
	}
}
