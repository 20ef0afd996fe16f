#version 330 core
// The program is built three times, with SRC_INT, SRC_UINT or SRC_FLOAT defined
// after the version line, for the sampler type the frame's texture needs.

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
uniform usampler2D modLUT;
uniform usampler2D voiLUT;
uniform usampler2D palRed;
uniform usampler2D palGreen;
uniform usampler2D palBlue;
// Sampling tables, one texel per target column (axisCol) and row (axisRow),
// computed in float64 exactly as viewer's CPU code places its samples:
// (nearest pixel or -1 outside the image, x0 = floor(p-0.5), 1-a, a) with
// a = p-0.5-x0.
uniform sampler2D axisCol;
uniform sampler2D axisRow;

uniform int kind;        // 0 grey, 1 palette index, 2 RGB, 3 YBR_FULL
uniform ivec2 imageSize; // cols, rows
uniform bool swapAxes;   // odd quarter turns: image x from axisRow, image y from axisCol
uniform bool bilinear;

uniform float slope;
uniform float intercept;
uniform bool useModLUT;
uniform int modLUTLen;
uniform int modFirst;

uniform int voiMode;     // 0 LINEAR / LINEAR_EXACT window, 1 SIGMOID, 2 VOI LUT
uniform float winLo;     // values <= winLo give 0
uniform float winHi;     // values > winHi give 255
uniform float winCenter; // ramp: ((x-winCenter)/winWidth+0.5)*255
uniform float winWidth;  // (LINEAR: c-0.5 and w-1; LINEAR_EXACT: c and w; SIGMOID: c and w)
uniform int voiLUTLen;
uniform int voiFirst;
uniform float voiMax;    // 2^bits-1 of the VOI LUT entries
uniform bool invert;

uniform ivec3 palFirst;
uniform ivec3 palLen;
uniform bvec3 pal16;
uniform int colorShift;

out vec4 fragColor;

const int lutWidth = 256;

uint lutAt(usampler2D t, int i) {
	return texelFetch(t, ivec2(i % lutWidth, i / lutWidth), 0).r;
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
	if (y >= 255.0) {
		return 255.0;
	}
	if (y > 0.0) {
		return y;
	}
	return 0.0;
}

float modality(float x) {
	if (useModLUT) {
		return lookup(modLUT, x, modFirst, modLUTLen);
	}
	return x * slope + intercept;
}

// voi is PS3.3 C.11.2.1.2.1 (LINEAR), C.11.2.1.3.2 (LINEAR_EXACT),
// C.11.2.1.3.1 (SIGMOID) with output range 0..255, or the VOI LUT scaled to it.
float voi(float x) {
	if (voiMode == 2) {
		return lookup(voiLUT, x, voiFirst, voiLUTLen) * 255.0 / voiMax;
	}
	if (voiMode == 1) {
		return 255.0 / (1.0 + exp(-4.0 * (x - winCenter) / winWidth));
	}
	if (x <= winLo) {
		return 0.0;
	}
	if (x > winHi) {
		return 255.0;
	}
	if (winWidth > 0.0) {
		return ((x - winCenter) / winWidth + 0.5) * 255.0;
	}
	return 255.0;
}

float grey8(float stored) {
	float v = round8(voi(modality(stored)));
	if (invert) {
		v = 255.0 - v;
	}
	return v;
}

// palEntry is viewer.LUT.entry8 for one palette channel.
float palEntry(usampler2D t, float idx, int first, int n, bool wide) {
	uint v = lutAt(t, clamp(floorInt(idx) - first, 0, n - 1));
	if (wide) {
		return float(v >> 8u);
	}
	return float(min(v, 255u));
}

vec4 fetch(ivec2 p) {
	return vec4(texelFetch(image, p, 0));
}

// bitsOf is the two's complement bit pattern of an integral sample value.
uint bitsOf(float c) {
	if (c < 0.0) {
		return uint(int(c));
	}
	return uint(c);
}

vec3 colour(uvec3 bits) {
	uvec3 v = colorShift < 32 ? (bits >> uint(colorShift)) & 255u : uvec3(0u);
	if (kind == 3) {
		float y = float(v.r);
		float cb = float(v.g) - 128.0;
		float cr = float(v.b) - 128.0;
		return vec3(round8(y + 1.402 * cr), round8(y - 0.344136 * cb - 0.714136 * cr), round8(y + 1.772 * cb));
	}
	return vec3(v);
}

vec3 nearest(ivec2 p) {
	if (kind == 0) {
		return vec3(grey8(fetch(p).r));
	}
	if (kind == 1) {
		float idx = fetch(p).r;
		return vec3(palEntry(palRed, idx, palFirst.r, palLen.r, pal16.r),
			palEntry(palGreen, idx, palFirst.g, palLen.g, pal16.g),
			palEntry(palBlue, idx, palFirst.b, palLen.b, pal16.b));
	}
	return colour(uvec3(texelFetch(image, p, 0).rgb));
}

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
	if (kind == 0) {
		return vec3(grey8(c.r));
	}
	c = floor(c + 0.5);
	return colour(uvec3(bitsOf(c.r), bitsOf(c.g), bitsOf(c.b)));
}

void main() {
	ivec2 t = ivec2(gl_FragCoord.xy);
	vec4 col = texelFetch(axisCol, ivec2(t.x, 0), 0);
	vec4 row = texelFetch(axisRow, ivec2(t.y, 0), 0);
	vec4 sx = swapAxes ? row : col;
	vec4 sy = swapAxes ? col : row;
	if (sx.x < 0.0 || sy.x < 0.0) {
		fragColor = vec4(0.0, 0.0, 0.0, 1.0);
		return;
	}
	vec3 rgb;
	if (bilinear && kind != 1) {
		rgb = linear(sx, sy);
	} else {
		rgb = nearest(ivec2(int(sx.x), int(sy.x)));
	}
	fragColor = vec4(rgb / 255.0, 1.0);
}
