package gpu

import (
	_ "embed"
	"strings"
)

// The frame shaders (see shaders/). The fragment shader is compiled once per
// sampler type, chosen by the texture format of the frame.
var (
	//go:embed shaders/frame.vert
	frameVert string
	//go:embed shaders/frame.frag
	frameFrag string
)

// fragmentSource returns the fragment shader for sampler type s ('i', 'u', 'f'),
// its define inserted after the #version line.
func fragmentSource(s byte) string {
	def := map[byte]string{'i': "SRC_INT", 'u': "SRC_UINT", 'f': "SRC_FLOAT"}[s]
	first, rest, _ := strings.Cut(frameFrag, "\n")
	return first + "\n#define " + def + "\n" + rest
}
