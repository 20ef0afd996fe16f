package gpu

// device is the small set of GL operations the renderer is built from. The real
// one (glDevice) calls OpenGL on the render thread; tests use a counting fake to
// check what is uploaded when and that everything made is deleted.
type device interface {
	// NewTexture makes a w x h texture of format f holding data (tightly packed
	// rows, native byte order).
	NewTexture(f texFormat, w, h int, data []byte) (texture, error)
	// UpdateTexture replaces the whole content of t, made with the same format and size.
	UpdateTexture(t texture, f texFormat, w, h int, data []byte) error
	DeleteTexture(t texture)
	// NewTarget makes an RGBA8 framebuffer of w x h.
	NewTarget(w, h int) (target, error)
	DeleteTarget(t target)
	// NewProgram compiles and links a vertex and fragment shader.
	NewProgram(vert, frag string) (program, error)
	DeleteProgram(p program)
	// Draw runs p over the whole of t with the textures bound to their units
	// (0 for no texture) and the uniforms set.
	Draw(p program, t target, tex [numUnits]texture, u *uniforms) error
	// ReadPixels reads t's RGBA pixels, bottom row (GL row 0) first, into dst.
	ReadPixels(t target, dst []byte) error
	// Limits returns GL_MAX_TEXTURE_SIZE and GL_MAX_RENDERBUFFER_SIZE.
	Limits() (maxTexture, maxTarget int)
	// Strings returns GL_VENDOR, GL_RENDERER and GL_VERSION.
	Strings() (vendor, renderer, version string)
	// Release deletes what the device itself made (its vertex array).
	Release()
}

// texture, target and program are GL object names (0 is none).
type (
	texture uint32
	target  struct {
		fbo, tex uint32
		w, h     int
	}
	program uint32
)

// Texture units the fragment shader reads.
const (
	unitImage = iota
	unitModalityLUT
	unitVOILUT
	unitPaletteRed
	unitPaletteGreen
	unitPaletteBlue
	unitAxisCol // sampling table per target column
	unitAxisRow // ... per target row
	numUnits
)

// texFormat is a texture's internal format; every one is sampled with texelFetch,
// so stored values reach the shader exactly (integer formats) and no filtering
// ever mixes them behind the pipeline's back.
type texFormat int

const (
	fmtR8UI texFormat = iota
	fmtR8I
	fmtR16UI
	fmtR16I
	fmtR32UI
	fmtR32I
	fmtR32F
	fmtRGB8UI
	fmtRGB8I
	fmtRGB16UI
	fmtRGB16I
	fmtRGB32UI
	fmtRGB32I
	fmtRGBA32F // sampling tables of the view
	numFormats
)

// bytesPerPixel returns the packed size of one pixel of f.
func (f texFormat) bytesPerPixel() int {
	switch f {
	case fmtR8UI, fmtR8I:
		return 1
	case fmtR16UI, fmtR16I:
		return 2
	case fmtR32UI, fmtR32I, fmtR32F:
		return 4
	case fmtRGB8UI, fmtRGB8I:
		return 3
	case fmtRGB16UI, fmtRGB16I:
		return 6
	case fmtRGBA32F:
		return 16
	}
	return 12
}

// sampler returns which sampler type reads f: 'i' isampler2D, 'u' usampler2D,
// 'f' sampler2D.
func (f texFormat) sampler() byte {
	switch f {
	case fmtR8I, fmtR16I, fmtR32I, fmtRGB8I, fmtRGB16I, fmtRGB32I:
		return 'i'
	case fmtR32F, fmtRGBA32F:
		return 'f'
	}
	return 'u'
}

// uniforms are the fragment shader's parameters, resolved from a Display, a
// frame and a target size (see shaders/frame.frag for their meaning).
type uniforms struct {
	Kind      int32    // kindGrey, kindPalette, kindRGB, kindYBR
	ImageSize [2]int32 // cols, rows
	SwapAxes  bool     // odd quarter turns: image x from the row table, y from the column table
	Bilinear  bool
	// Direct: the shader computes the sampling table entries itself, exactly
	// (see exactAxis), from origin + i*step along the column (0) and row (1)
	// axes, each covering AxisSize image pixels; else it reads the tables.
	Direct     bool
	AxisOrigin [2]float32
	AxisStep   [2]float32
	AxisSize   [2]float32
	Slope      float32
	Intercept  float32
	ModLUT     bool
	ModLUTLen  int32
	ModFirst   int32
	VOIMode    int32 // voiWindow, voiSigmoid, voiLUT
	WinLo      float32
	WinHi      float32
	WinCenter  float32
	WinWidth   float32
	VOILUTLen  int32
	VOIFirst   int32
	VOIMax     float32 // 2^bits-1 of the VOI LUT
	Invert     bool
	PalFirst   [3]int32
	PalLen     [3]int32
	Pal16      [3]bool
	ColorShift int32
}

// Frame kinds of uniforms.Kind.
const (
	kindGrey int32 = iota
	kindPalette
	kindRGB
	kindYBR
)

// VOI modes of uniforms.VOIMode.
const (
	voiWindow int32 = iota // LINEAR and LINEAR_EXACT: thresholds and a ramp
	voiSigmoid
	voiLUT
)

// lutWidth is the row length of LUT textures: a LUT of up to 65536 entries is
// stored as a 2D texture of lutWidth columns, since GL 3.3 only promises 1D
// textures of 1024 texels.
const lutWidth = 256
