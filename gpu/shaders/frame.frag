#version 330 core
// The program is specialised by #define lines inserted after the version line
// (see variant in shaders.go), so that each compiled program is straight-line
// code for one kind of frame and one display pipeline (what is cheap to select
// per pixel, inversion and the axes of odd quarter turns, stays a uniform, so
// that toggling it compiles nothing):
//   SRC_INT, SRC_UINT or SRC_FLOAT  the sampler type of the frame's texture
//   KIND_GREY, KIND_PALETTE, KIND_RGB or KIND_YBR  the frame's colour
//   MOD_LUT                         grey: Modality LUT (else rescale)
//   VOI_SIGMOID or VOI_LUT          grey: VOI function (else LINEAR / LINEAR_EXACT window)
//   BILINEAR                        bilinear sampling (not for palette frames)
//   TABLES                          sample positions from the sampling tables (else computed)

// The display pipeline of viewer.Display, step for step as viewer's CPU code
// computes it (same formulas, same order, floor(y+0.5) rounding), so both
// renderers give the same 8-bit values within 1.

#if defined(SRC_INT)
uniform isampler2D image;
#elif defined(SRC_UINT)
uniform usampler2D image;
#else
uniform sampler2D image;
#endif
#if defined(MOD_LUT)
uniform usampler2D modLUT;
#endif
#if defined(VOI_LUT)
uniform usampler2D voiLUT;
#endif
#if defined(KIND_PALETTE)
uniform usampler2D palRed;
uniform usampler2D palGreen;
uniform usampler2D palBlue;
#endif

#if defined(TABLES)
// Sampling tables, one texel per target column (axisCol) and row (axisRow),
// computed in float64 exactly as viewer's CPU code places its samples:
// (nearest pixel or -1 outside the image, x0 = floor(p-0.5), 1-a, a) with
// a = p-0.5-x0.
uniform sampler2D axisCol;
uniform sampler2D axisRow;
#else
// The same entries computed here: p = origin + i*step for target column
// (x) and row (y) i, with the image size along that axis. The renderer only
// chooses this when origin and step are dyadic rationals small enough that
// every operation below is exact in float32, so the entries equal the tables'.
uniform vec2 axisOrigin;
uniform vec2 axisStep;
uniform vec2 axisSize;
#endif

uniform ivec2 imageSize; // cols, rows
uniform bool swapAxes;   // odd quarter turns: image x from the row entry, image y from the column entry
uniform bool invert;     // grey: 255-y

uniform float slope;
uniform float intercept;
uniform int modLUTLen;
uniform int modFirst;

uniform float winLo;     // values <= winLo give 0
uniform float winHi;     // values > winHi give 255
uniform float winCenter; // ramp: ((x-winCenter)/winWidth+0.5)*255
uniform float winWidth;  // (LINEAR: c-0.5 and w-1; LINEAR_EXACT: c and w; SIGMOID: c and w)
uniform int voiLUTLen;
uniform int voiFirst;
uniform float voiMax;    // 2^bits-1 of the VOI LUT entries

uniform ivec3 palFirst;
uniform ivec3 palLen;
uniform bvec3 pal16;
uniform int colorShift;

out vec4 fragColor;

// LUT textures are lutWidth (256) texels wide.
uint lutAt(usampler2D t, int i) {
	return texelFetch(t, ivec2(i & 255, i >> 8), 0).r;
}

// floorInt is floor(x) as an int, saturated well inside the int range.
int floorInt(float x) {
	return int(floor(clamp(x, -1073741824.0, 1073741824.0)));
}

// lookup is viewer.LUT.Lookup: floor(x+0.5), clipped to the table.
float lookup(usampler2D t, float x, int first, int n) {
	int i = clamp(floorInt(x + 0.5) - first, 0, n - 1);
	return float(lutAt(t, i));
}

// round8 is floor(y+0.5) clipped to 0..255 (NaN gives 0).
float round8(float y) {
	y = floor(y + 0.5);
	return y >= 255.0 ? 255.0 : (y > 0.0 ? y : 0.0);
}

#if defined(KIND_GREY)
float modality(float x) {
#if defined(MOD_LUT)
	return lookup(modLUT, x, modFirst, modLUTLen);
#else
	return x * slope + intercept;
#endif
}

// voi is PS3.3 C.11.2.1.2.1 (LINEAR), C.11.2.1.3.2 (LINEAR_EXACT),
// C.11.2.1.3.1 (SIGMOID) with output range 0..255, or the VOI LUT scaled to it.
float voi(float x) {
#if defined(VOI_LUT)
	return lookup(voiLUT, x, voiFirst, voiLUTLen) * 255.0 / voiMax;
#elif defined(VOI_SIGMOID)
	return 255.0 / (1.0 + exp(-4.0 * (x - winCenter) / winWidth));
#else
	float y = winWidth > 0.0 ? ((x - winCenter) / winWidth + 0.5) * 255.0 : 255.0;
	y = x > winHi ? 255.0 : y;
	return x <= winLo ? 0.0 : y;
#endif
}

float grey8(float stored) {
	float v = round8(voi(modality(stored)));
	return invert ? 255.0 - v : v;
}
#endif

#if defined(KIND_PALETTE)
// palEntry is viewer.LUT.entry8 for one palette channel.
float palEntry(usampler2D t, float idx, int first, int n, bool wide) {
	uint v = lutAt(t, clamp(floorInt(idx) - first, 0, n - 1));
	return wide ? float(v >> 8u) : float(min(v, 255u));
}
#endif

vec4 fetch(ivec2 p) {
	return vec4(texelFetch(image, p, 0));
}

#if defined(KIND_RGB) || defined(KIND_YBR)
// bitsOf is the two's complement bit pattern of an integral sample value.
uint bitsOf(float c) {
	return c < 0.0 ? uint(int(c)) : uint(c);
}

vec3 colour(uvec3 bits) {
	uvec3 v = colorShift < 32 ? (bits >> uint(colorShift)) & 255u : uvec3(0u);
#if defined(KIND_YBR)
	float y = float(v.r);
	float cb = float(v.g) - 128.0;
	float cr = float(v.b) - 128.0;
	return vec3(round8(y + 1.402 * cr), round8(y - 0.344136 * cb - 0.714136 * cr), round8(y + 1.772 * cb));
#else
	return vec3(v);
#endif
}
#endif

#if defined(BILINEAR)
// linear interpolates the stored values of the four nearest pixels (sample
// centres at integer+0.5, neighbourhood clamped to the image), then applies the
// pipeline to the result.
vec3 linear(vec4 sx, vec4 sy) {
	vec2 a = vec2(sx.w, sy.w);
	vec2 b = vec2(sx.z, sy.z); // 1-a
	ivec2 p0 = ivec2(sx.y, sy.y);
	ivec2 p1 = min(p0 + 1, imageSize - 1);
	p0 = max(p0, 0);
	vec4 top = fetch(p0) * b.x + fetch(ivec2(p1.x, p0.y)) * a.x;
	vec4 bot = fetch(ivec2(p0.x, p1.y)) * b.x + fetch(p1) * a.x;
	vec4 c = top * b.y + bot * a.y;
#if defined(KIND_GREY)
	return vec3(grey8(c.r));
#else
	c = floor(c + 0.5);
	return colour(uvec3(bitsOf(c.r), bitsOf(c.g), bitsOf(c.b)));
#endif
}
#else
vec3 nearest(ivec2 p) {
#if defined(KIND_GREY)
	return vec3(grey8(fetch(p).r));
#elif defined(KIND_PALETTE)
	float idx = fetch(p).r;
	return vec3(palEntry(palRed, idx, palFirst.r, palLen.r, pal16.r),
		palEntry(palGreen, idx, palFirst.g, palLen.g, pal16.g),
		palEntry(palBlue, idx, palFirst.b, palLen.b, pal16.b));
#else
	return colour(uvec3(texelFetch(image, p, 0).rgb));
#endif
}
#endif

#if !defined(TABLES)
// axisEntry is the sampling table entry for position i along axis k.
vec4 axisEntry(int k, int i) {
	float p = axisOrigin[k] + float(i) * axisStep[k];
	if (!(p >= 0.0 && p < axisSize[k])) {
		return vec4(-1.0);
	}
#if defined(BILINEAR)
	float f = p - 0.5;
	float f0 = floor(f);
	float a = f - f0;
	return vec4(floor(p), f0, 1.0 - a, a);
#else
	return vec4(floor(p), 0.0, 0.0, 0.0);
#endif
}
#endif

void main() {
	ivec2 t = ivec2(gl_FragCoord.xy);
#if defined(TABLES)
	vec4 col = texelFetch(axisCol, ivec2(t.x, 0), 0);
	vec4 row = texelFetch(axisRow, ivec2(t.y, 0), 0);
#else
	vec4 col = axisEntry(0, t.x);
	vec4 row = axisEntry(1, t.y);
#endif
	vec4 sx = swapAxes ? row : col;
	vec4 sy = swapAxes ? col : row;
	if (sx.x < 0.0 || sy.x < 0.0) {
		fragColor = vec4(0.0, 0.0, 0.0, 1.0);
		return;
	}
#if defined(BILINEAR)
	vec3 rgb = linear(sx, sy);
#else
	vec3 rgb = nearest(ivec2(int(sx.x), int(sy.x)));
#endif
	fragColor = vec4(rgb / 255.0, 1.0);
}
