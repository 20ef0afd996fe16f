// A JPEG-LS (ITU-T T.87) scan decoder for the layout nearly every DICOM
// JPEG-LS frame has: one component, one scan, no restart markers, no mapping
// table, MAXVAL 2^P-1. CharLS decodes everything; this decodes that case
// faster (its hot loop is written for one component, a gradient table that
// stays in L1 instead of CharLS's 2^(P+1)-byte table built per frame, and a
// Golomb parameter found with two bit counts instead of a loop).
//
// It must never answer differently from CharLS 2.4.1, which stays the
// reference: it either decodes a scan exactly as CharLS would, or declines
// (returns TR_JLS_DECLINE) and the caller runs CharLS on the whole stream. It
// declines on everything a valid encoder does not produce: a bit read past
// the end of the scan's data, data left over after the last sample, a Golomb
// parameter of 16 or more, a prediction error outside the modulo range,
// context statistics CharLS would refuse. So on a damaged stream CharLS gives
// the error, and on a valid one both compute the same samples by the same
// rules (T.87 A.4 to A.7, with CharLS's choices where the standard leaves
// room, e.g. arithmetic shifts of negative B[Q]).
//
// Memory: reads only data[0..n), writes only out[0..width*height), and
// allocates two line buffers and a gradient table (at most 128 KiB).
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fastscan.h"

// J is T.87's run-length order table (A.7.1.1).
static const int J[32] = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3,
                          4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 13, 14, 15};

// reader is a bit reader over the scan's entropy-coded data. The top nb bits
// of c are the next bits of the stream; bits below them are zero or a copy of
// the stream bits that follow (a wide load may place part of a byte it does
// not yet count), so c's low bits never contradict the stream.
typedef struct {
	const uint8_t *p;   // next byte to load
	const uint8_t *end; // end of the data (a marker follows)
	const uint8_t *ff;  // the next 0xFF byte at or after p, or end
	uint64_t c;
	int nb;  // valid bits at the top of c
	int pad; // zero bits appended past end (the last pad of the nb bits)
} reader;

static inline uint64_t load_be64(const uint8_t *p) {
	uint64_t v;
	memcpy(&v, p, 8);
	return __builtin_bswap64(v);
}

static void find_ff(reader *r) {
	const uint8_t *f = memchr(r->p, 0xFF, (size_t)(r->end - r->p));
	r->ff = f ? f : r->end;
}

// fill_slow loads byte by byte: a byte after 0xFF carries 7 bits (its top
// bit is the stuffed zero, T.87 A.1), and past the end zeros are appended and
// counted in pad.
static void fill_slow(reader *r) {
	while (r->nb <= 56) {
		if (r->p >= r->end) {
			r->pad += 63 - r->nb;
			r->nb = 63;
			r->ff = r->end;
			return;
		}
		uint64_t b = *r->p++;
		// After 0xFF, count 7 bits: the next byte's stuffed top bit
		// lands on the 0xFF's last bit (a one), which it leaves as is.
		r->c |= b << (56 - r->nb);
		r->nb += b == 0xFF ? 7 : 8;
	}
	find_ff(r);
}

// fill makes at least 56 bits valid (or appends zeros past the end). The
// wide load needs 8 bytes before the next 0xFF (so before the end): ff is
// never behind p, and the test keeps it so.
static inline void fill(reader *r) {
	if (r->ff >= r->p && r->ff - r->p >= 8) {
		r->c |= load_be64(r->p) >> r->nb;
		int n = (63 - r->nb) >> 3;
		r->p += n;
		r->nb += n << 3;
		return;
	}
	fill_slow(r);
}

// bits reads n bits, 1 <= n <= 16.
static inline int32_t bits(reader *r, int n) {
	if (r->nb < n)
		fill(r);
	int32_t v = (int32_t)(r->c >> (64 - n));
	r->c <<= n;
	r->nb -= n;
	return v;
}

// unary reads the zeros before the next one bit and the one bit; it returns
// their count, or -1 past max.
static inline int unary(reader *r, int max) {
	int count = 0;
	if (r->nb < 32)
		fill(r);
	for (;;) {
		if (r->c != 0) {
			int z = __builtin_clzll(r->c);
			if (z < r->nb) {
				r->c <<= z + 1;
				r->nb -= z + 1;
				count += z;
				return count <= max ? count : -1;
			}
		}
		count += r->nb;
		r->c <<= r->nb;
		r->nb = 0;
		if (count > max)
			return -1;
		fill(r);
	}
}

typedef struct {
	int32_t a, b, c, n;
} context;

typedef struct {
	int maxval, near, range, qbpp, limit, reset, step; // step is 2*NEAR+1
	context ctx[365];
	int32_t ri_a[2], ri_n[2], ri_nn[2];
	int run_index;
	const int8_t *q; // gradient quantization, indexed -t3..t3
	int t3;
	reader r;
} state;

// decode_value reads one limited-length Golomb code (T.87 A.5.3) the way
// CharLS does: any count of zeros at or above the escape length escapes.
static inline int32_t decode_value(state *s, int k, int limit) {
	int hb = unary(&s->r, s->limit);
	if (hb < 0)
		return -1;
	if (hb >= limit - (s->qbpp + 1))
		return bits(&s->r, s->qbpp) + 1;
	if (k == 0)
		return hb;
	return (hb << k) + bits(&s->r, k);
}

// in_range reports whether a prediction error is one an encoder can produce
// (reduced modulo RANGE, T.87 A.4.5).
static inline int in_range(const state *s, int32_t e) {
	return e >= -(s->range / 2) && e <= (s->range + 1) / 2 - 1;
}

// clamp0 is CharLS's correct_prediction for MAXVAL = 2^P-1.
static inline int32_t clamp0(const state *s, int32_t v) {
	if ((v & s->maxval) == v)
		return v;
	return (~(v >> 31)) & s->maxval;
}

// reconstruct is T.87 A.4.5's modular reconstruction, then the clamp.
static inline int32_t reconstruct(const state *s, int32_t v) {
	if (v < -s->near)
		v += s->range * s->step;
	else if (v > s->maxval + s->near)
		v -= s->range * s->step;
	return clamp0(s, v);
}

static inline int32_t quant(const state *s, int32_t d) {
	if (d < -s->t3)
		d = -s->t3;
	else if (d > s->t3)
		d = s->t3;
	return s->q[d];
}

static inline int32_t predict(int32_t ra, int32_t rb, int32_t rc) {
	int32_t mx = ra > rb ? ra : rb, mn = ra > rb ? rb : ra;
	if (rc >= mx)
		return mn;
	if (rc <= mn)
		return mx;
	return ra + rb - rc;
}

// regular decodes one sample in regular mode (T.87 A.4 to A.6); -1 declines.
static inline int32_t regular(state *s, int32_t qs, int32_t pred) {
	int32_t sign = qs >> 31;
	context *cx = &s->ctx[(qs ^ sign) - sign];
	// The least k with N<<k >= A (A.5.1): A's bit length less N's, or one
	// more.
	uint32_t a = (uint32_t)cx->a, n = (uint32_t)cx->n;
	int k = 0;
	if (a > n) {
		k = __builtin_clz(n) - __builtin_clz(a);
		if ((n << k) < a)
			k++;
	}
	if (k >= 16)
		return -1;
	int32_t px = clamp0(s, pred + ((cx->c ^ sign) - sign));
	int32_t m = decode_value(s, k, s->limit);
	if (m < 0)
		return -1;
	int32_t e = (m >> 1) ^ -(m & 1);
	if (k == 0 && s->near == 0)
		e ^= (2 * cx->b + cx->n - 1) >> 31;
	if (!in_range(s, e))
		return -1;
	// Context update and bias correction (A.6), CharLS's refusal of
	// statistics past 2^24 included.
	cx->a += e < 0 ? -e : e;
	cx->b += e * s->step;
	if (cx->a >= 65536 * 256 || cx->b >= 65536 * 256 || cx->b <= -65536 * 256)
		return -1;
	if (cx->n == s->reset) {
		cx->a >>= 1;
		cx->b >>= 1;
		cx->n >>= 1;
	}
	cx->n++;
	if (cx->b + cx->n <= 0) {
		cx->b += cx->n;
		if (cx->b <= -cx->n)
			cx->b = -cx->n + 1;
		if (cx->c > -128)
			cx->c--;
	} else if (cx->b > 0) {
		cx->b -= cx->n;
		if (cx->b > 0)
			cx->b = 0;
		if (cx->c < 127)
			cx->c++;
	}
	e = (e ^ sign) - sign;
	return reconstruct(s, px + e * s->step);
}

// interruption decodes the sample that ends a run (A.7.2); -1 declines.
static inline int32_t interruption(state *s, int32_t ra, int32_t rb) {
	int t = (ra - rb <= s->near && rb - ra <= s->near) ? 1 : 0;
	int32_t temp = s->ri_a[t] + (s->ri_n[t] >> 1) * t;
	int32_t nt = s->ri_n[t];
	int k = 0;
	while (nt < temp) {
		nt <<= 1;
		k++;
		if (k >= 16)
			return -1;
	}
	int32_t em = decode_value(s, k, s->limit - J[s->run_index] - 1);
	if (em < 0 || em > 2 * s->range)
		return -1;
	int32_t tmp = em + t;
	int map = tmp & 1;
	int32_t abs = (tmp + map) / 2;
	int32_t e = ((k != 0 || 2 * s->ri_nn[t] >= s->ri_n[t]) == map) ? -abs : abs;
	if (!in_range(s, e))
		return -1;
	if (e < 0)
		s->ri_nn[t]++;
	s->ri_a[t] += (em + 1 - t) >> 1;
	if (s->ri_n[t] == s->reset) {
		s->ri_a[t] >>= 1;
		s->ri_n[t] >>= 1;
		s->ri_nn[t] >>= 1;
	}
	s->ri_n[t]++;
	if (t)
		return reconstruct(s, ra + e * s->step);
	return reconstruct(s, rb + (rb - ra < 0 ? -e : e) * s->step);
}

// run decodes a run starting at x of a line of w samples (cur and prev are
// 1-based with edges at 0 and w+1) and the sample that interrupts it, if
// any; it returns the samples it wrote, or -1 to decline.
static int run(state *s, int32_t *cur, const int32_t *prev, int x, int w) {
	int32_t ra = cur[x - 1];
	int left = w - x + 1, i = 0;
	while (bits(&s->r, 1)) {
		int full = 1 << J[s->run_index];
		int count = full < left - i ? full : left - i;
		i += count;
		if (count == full && s->run_index < 31)
			s->run_index++;
		if (i == left)
			break;
	}
	if (i != left && J[s->run_index] > 0)
		i += bits(&s->r, J[s->run_index]);
	if (i > left)
		return -1;
	for (int j = 0; j < i; j++)
		cur[x + j] = ra;
	if (i == left)
		return i;
	int32_t rx = interruption(s, ra, prev[x + i]);
	if (rx < 0)
		return -1;
	cur[x + i] = rx;
	if (s->run_index > 0)
		s->run_index--;
	return i + 1;
}

int tr_jls_decode(const uint8_t *data, size_t n, int width, int height, int maxval, int near, int t1,
                  int t2, int t3, int reset, void *out, int wide) {
	if (width < 1 || height < 1 || maxval < 3 || maxval > 65535 || (maxval & (maxval + 1)) != 0 ||
	    near < 0 || near > 255 || 2 * near > maxval || t1 < near + 1 || t2 < t1 || t3 < t2 || t3 > maxval ||
	    reset < 3 || reset > 255)
		return TR_JLS_DECLINE;
	state *s = malloc(sizeof *s);
	int32_t *lines = calloc(2 * ((size_t)width + 2), sizeof(int32_t));
	int8_t *q = malloc(2 * (size_t)t3 + 1);
	int rc = TR_JLS_DECLINE;
	if (!s || !lines || !q)
		goto done;
	memset(s, 0, sizeof *s);
	s->maxval = maxval;
	s->near = near;
	s->step = 2 * near + 1;
	s->range = (maxval + 2 * near) / (2 * near + 1) + 1;
	for (s->qbpp = 0; s->range > (1 << s->qbpp); s->qbpp++)
		;
	int bpp = 0;
	while (maxval > (1 << bpp))
		bpp++;
	s->limit = 2 * (bpp + (bpp > 8 ? bpp : 8));
	s->reset = reset;
	s->t3 = t3;
	for (int d = -t3; d <= t3; d++) {
		int v;
		if (d <= -t3)
			v = -4;
		else if (d <= -t2)
			v = -3;
		else if (d <= -t1)
			v = -2;
		else if (d < -near)
			v = -1;
		else if (d <= near)
			v = 0;
		else if (d < t1)
			v = 1;
		else if (d < t2)
			v = 2;
		else if (d < t3)
			v = 3;
		else
			v = 4;
		q[d + t3] = (int8_t)v;
	}
	s->q = q + t3;
	int32_t a0 = (s->range + 32) / 64;
	if (a0 < 2)
		a0 = 2;
	for (int i = 0; i < 365; i++)
		s->ctx[i] = (context){a0, 0, 0, 1};
	s->ri_a[0] = s->ri_a[1] = a0;
	s->ri_n[0] = s->ri_n[1] = 1;
	s->r.p = data;
	s->r.end = data + n;
	find_ff(&s->r);
	fill(&s->r);

	int32_t *prev = lines, *cur = lines + width + 2;
	uint8_t *o8 = out;
	uint16_t *o16 = out;
	for (int y = 0; y < height; y++) {
		prev[width + 1] = prev[width];
		cur[0] = prev[1];
		int32_t rb = prev[0], rd = prev[1];
		int x = 1;
		while (x <= width) {
			int32_t ra = cur[x - 1], rc = rb;
			rb = rd;
			rd = prev[x + 1];
			int32_t qs = (quant(s, rd - rb) * 9 + quant(s, rb - rc)) * 9 + quant(s, rc - ra);
			if (qs != 0) {
				int32_t rx = regular(s, qs, predict(ra, rb, rc));
				if (rx < 0)
					goto done;
				cur[x++] = rx;
			} else {
				int m = run(s, cur, prev, x, width);
				if (m < 0)
					goto done;
				x += m;
				rb = prev[x - 1];
				rd = prev[x];
			}
		}
		// A bit read past the end: CharLS decides what that stream is.
		if (s->r.nb < s->r.pad)
			goto done;
		if (wide) {
			uint16_t *row = o16 + (size_t)y * width;
			for (int i = 0; i < width; i++)
				row[i] = (uint16_t)cur[i + 1];
		} else {
			uint8_t *row = o8 + (size_t)y * width;
			for (int i = 0; i < width; i++)
				row[i] = (uint8_t)cur[i + 1];
		}
		int32_t *t = prev;
		prev = cur;
		cur = t;
	}
	// The data must end here: every byte loaded, fewer than 8 bits left
	// and all of them the encoder's zero padding.
	if (s->r.p == s->r.end && s->r.nb - s->r.pad < 8 && s->r.c == 0)
		rc = TR_JLS_OK;
done:
	free(s);
	free(lines);
	free(q);
	return rc;
}
