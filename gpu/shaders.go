package gpu

import (
	_ "embed"
	"strings"
)

// The frame shaders (see shaders/). The fragment shader is specialised by
// #define lines into one program per variant, compiled on first use: a software
// rasteriser (llvmpipe) runs both sides of every branch it cannot prove
// uniform, so a single program branching on the frame kind and VOI function at
// run time costs every pixel all the texture fetches of every path.
var (
	//go:embed shaders/frame.vert
	frameVert string
	//go:embed shaders/frame.frag
	frameFrag string
)

// variant is what selects a specialisation of the fragment shader.
type variant struct {
	sampler  byte  // 'i', 'u', 'f': the frame texture's sampler type
	kind     int32 // kindGrey, kindPalette, kindRGB, kindYBR
	modLUT   bool  // grey: Modality LUT instead of rescale
	voi      int32 // grey: voiWindow, voiSigmoid, voiLUT
	bilinear bool  // not for palette frames
	tables   bool  // sample positions from the sampling tables
}

// variantOf returns the program variant that draws with u a frame whose
// texture is read by sampler type s.
func variantOf(s byte, u *uniforms) variant {
	v := variant{sampler: s, kind: u.Kind, tables: !u.Direct}
	v.bilinear = u.Bilinear && u.Kind != kindPalette
	if u.Kind == kindGrey {
		v.modLUT, v.voi = u.ModLUT, u.VOIMode
	}
	return v
}

// defines returns the #define lines of v (see shaders/frame.frag).
func (v variant) defines() string {
	var b strings.Builder
	def := func(name string) { b.WriteString("#define " + name + "\n") }
	def(map[byte]string{'i': "SRC_INT", 'u': "SRC_UINT", 'f': "SRC_FLOAT"}[v.sampler])
	def([...]string{kindGrey: "KIND_GREY", kindPalette: "KIND_PALETTE", kindRGB: "KIND_RGB", kindYBR: "KIND_YBR"}[v.kind])
	if v.kind == kindGrey {
		if v.modLUT {
			def("MOD_LUT")
		}
		switch v.voi {
		case voiSigmoid:
			def("VOI_SIGMOID")
		case voiLUT:
			def("VOI_LUT")
		}
	}
	if v.bilinear {
		def("BILINEAR")
	}
	if v.tables {
		def("TABLES")
	}
	return b.String()
}

// fragmentSource returns the fragment shader of v, its defines inserted after
// the #version line.
func fragmentSource(v variant) string {
	first, rest, _ := strings.Cut(frameFrag, "\n")
	return first + "\n" + v.defines() + rest
}
