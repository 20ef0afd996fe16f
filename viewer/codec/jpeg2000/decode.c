#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

#define TL_J2K_STREAM_BUFFER (64 * 1024)
/* glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit systems */
#define TL_J2K_MMAP_MAX ((size_t)32 * 1024 * 1024)

/* OpenJPEG would print nothing without handlers, but its messages are what
 * tells a reader why a frame failed, so they are kept for the Go error. */
static void tl_msg(const char *m, void *u) {
	tl_j2k *t = (tl_j2k *)u;
	size_t used = strlen(t->msg), n = strlen(m);
	if (used + 3 >= TL_J2K_MSG) {
		return;
	}
	if (used > 0) {
		strcat(t->msg, "; ");
		used += 2;
	}
	if (n > TL_J2K_MSG - 1 - used) {
		n = TL_J2K_MSG - 1 - used;
	}
	memcpy(t->msg + used, m, n);
	n += used;
	t->msg[n] = 0;
	/* drop OpenJPEG's trailing newline */
	while (n > 0 && (t->msg[n - 1] == '\n' || t->msg[n - 1] == ' ')) {
		t->msg[--n] = 0;
	}
}

static void tl_ignore(const char *m, void *u) { (void)m; (void)u; }

static OPJ_SIZE_T tl_read(void *buf, OPJ_SIZE_T n, void *u) {
	tl_j2k *t = (tl_j2k *)u;
	size_t left = t->len - t->pos;
	if (left == 0) {
		return (OPJ_SIZE_T)-1;
	}
	if (n > left) {
		n = left;
	}
	memcpy(buf, t->data + t->pos, n);
	t->pos += n;
	return n;
}

static OPJ_OFF_T tl_skip(OPJ_OFF_T n, void *u) {
	tl_j2k *t = (tl_j2k *)u;
	if (n < 0) {
		if ((size_t)(-n) > t->pos) {
			return -1;
		}
		t->pos -= (size_t)(-n);
		return n;
	}
	if ((size_t)n > t->len - t->pos) {
		n = (OPJ_OFF_T)(t->len - t->pos);
	}
	t->pos += (size_t)n;
	return n;
}

static OPJ_BOOL tl_seek(OPJ_OFF_T n, void *u) {
	tl_j2k *t = (tl_j2k *)u;
	if (n < 0 || (size_t)n > t->len) {
		return OPJ_FALSE;
	}
	t->pos = (size_t)n;
	return OPJ_TRUE;
}

int tl_j2k_open(tl_j2k *t, const unsigned char *src, size_t n, int format, int threads) {
	opj_dparameters_t params;
	opj_codestream_info_v2_t *info;

	memset(t, 0, sizeof(*t));
	t->data = src;
	t->len = n;
	t->codec = opj_create_decompress(format == 1 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K);
	if (t->codec == NULL) {
		strcpy(t->msg, "cannot create an OpenJPEG decoder");
		return 0;
	}
	opj_set_error_handler(t->codec, tl_msg, t);
	opj_set_warning_handler(t->codec, tl_msg, t);
	opj_set_info_handler(t->codec, tl_ignore, t);
	opj_set_default_decoder_parameters(&params);
	if (!opj_setup_decoder(t->codec, &params)) {
		return 0;
	}
	/* Code blocks are decoded on several threads when asked (and OpenJPEG was
	 * built with thread support); the result does not depend on it. */
	if (threads > 1 && opj_has_thread_support()) {
		opj_codec_set_threads(t->codec, threads);
	}
	/* A truncated code stream is an error, not a partly decoded image. */
	if (!opj_decoder_set_strict_mode(t->codec, OPJ_TRUE)) {
		return 0;
	}

	/* OpenJPEG's default stream buffer is 1 MiB, which it fills from the
	 * code stream (already in memory) on its first read: a small one costs
	 * less, and reads larger than it (the tile data) go straight to their
	 * destination anyway. */
	t->stream = opj_stream_create(TL_J2K_STREAM_BUFFER, OPJ_TRUE);
	if (t->stream == NULL) {
		strcpy(t->msg, "cannot create an OpenJPEG stream");
		return 0;
	}
	opj_stream_set_user_data(t->stream, t, NULL);
	opj_stream_set_user_data_length(t->stream, (OPJ_UINT64)n);
	opj_stream_set_read_function(t->stream, tl_read);
	opj_stream_set_skip_function(t->stream, tl_skip);
	opj_stream_set_seek_function(t->stream, tl_seek);

	if (!opj_read_header(t->stream, t->codec, &t->image) || t->image == NULL) {
		return 0;
	}
	info = opj_get_cstr_info(t->codec);
	if (info != NULL) {
		t->mct = (int)info->m_default_tile_info.mct;
		opj_destroy_cstr_info(&info);
	}
	return 1;
}

int tl_j2k_decode(tl_j2k *t) {
	if (!opj_decode(t->codec, t->stream, t->image)) {
		return 0;
	}
	if (!opj_end_decompress(t->codec, t->stream)) {
		return 0;
	}
	return 1;
}

/* OpenJPEG holds every sample as an OPJ_INT32: a 16-bit frame costs twice
 * its size there, and copying it out into the frame would hold three frames
 * at once. Narrowed in place (sample i moves from byte 4i to byte size*i,
 * never ahead of what is still to be read), each buffer is shrunk to what it
 * now holds. A buffer the size of a frame is a mapping of its own when it is
 * the process's first (a render, an import): shrinking it unmaps the tail at
 * once, so the frame then costs one frame more, not two. Buffers that glibc
 * took from its heap (later frames of a long-running process) keep their
 * pages for the next frame rather than fault them in again each time.
 * OpenJPEG allocates these buffers with posix_memalign where it has it (as
 * here) and reallocates them itself with realloc. */
void tl_j2k_narrow(tl_j2k *t, int size, unsigned int mask) {
	OPJ_UINT32 ci;

	for (ci = 0; ci < t->image->numcomps; ci++) {
		opj_image_comp_t *c = &t->image->comps[ci];
		size_t i, n = (size_t)c->w * c->h;
		const OPJ_INT32 *src = c->data;
		void *p;

		if (src == NULL || n == 0) {
			continue;
		}
		t->held += n * sizeof(OPJ_INT32);
		switch (size) {
		case 1: {
			uint8_t *dst = (uint8_t *)c->data;
			for (i = 0; i < n; i++) {
				dst[i] = (uint8_t)((uint32_t)src[i] & mask);
			}
			break;
		}
		case 2: {
			uint16_t *dst = (uint16_t *)c->data;
			for (i = 0; i < n; i++) {
				dst[i] = (uint16_t)((uint32_t)src[i] & mask);
			}
			break;
		}
		default: {
			uint32_t *dst = (uint32_t *)c->data;
			for (i = 0; i < n; i++) {
				dst[i] = (uint32_t)src[i] & mask;
			}
			continue;
		}
		}
		p = realloc(c->data, n * (size_t)size);
		if (p != NULL) {
			c->data = (OPJ_INT32 *)p;
		}
	}
}

/* TL_J2K_STORE writes component ci of k into dst, interleaved, masked. */
#define TL_J2K_STORE(T)                                                      \
	do {                                                                 \
		T *d = (T *)dst + ci;                                        \
		if (k == 1) {                                                \
			for (i = 0; i < n; i++) {                            \
				d[i] = (T)((uint32_t)src[i] & mask);         \
			}                                                    \
		} else {                                                     \
			for (i = 0; i < n; i++) {                            \
				d[i * k] = (T)((uint32_t)src[i] & mask);     \
			}                                                    \
		}                                                            \
	} while (0)

void tl_j2k_store(tl_j2k *t, void *dst, int size, unsigned int mask) {
	OPJ_UINT32 ci, k = t->image->numcomps;

	for (ci = 0; ci < k; ci++) {
		const opj_image_comp_t *c = &t->image->comps[ci];
		size_t i, n = (size_t)c->w * c->h;
		const OPJ_INT32 *src = c->data;

		t->held += n * sizeof(OPJ_INT32);
		switch (size) {
		case 1:
			TL_J2K_STORE(uint8_t);
			break;
		case 2:
			TL_J2K_STORE(uint16_t);
			break;
		default:
			TL_J2K_STORE(uint32_t);
		}
	}
}

void tl_j2k_close(tl_j2k *t) {
	if (t->image != NULL) {
		opj_image_destroy(t->image);
		t->image = NULL;
	}
	/* glibc serves a block above its mmap threshold with a mapping of its
	 * own and, when such a block is freed, raises the threshold to its size
	 * and keeps up to twice that free at the top of its heap, so that the
	 * next blocks of that size come from the heap and find their pages
	 * already there. A shrunk buffer is freed at its shrunk size, and the
	 * buffers of several components take more than twice the largest: the
	 * threshold stays below the next frame's buffers, or the heap is trimmed
	 * of them, and every decode of a series would map (or grow the heap),
	 * fault in and unmap them again (a quarter of the CPU time of a
	 * 1024x1024 frame). Freeing a block of the buffers' full size, its pages
	 * never written, tells glibc that size: it costs a map and an unmap
	 * once, and nothing where the block comes from the heap already. glibc
	 * does not raise the threshold beyond TL_J2K_MMAP_MAX. */
	if (t->held > 0) {
		opj_image_data_free(opj_image_data_alloc(t->held < TL_J2K_MMAP_MAX ? t->held : TL_J2K_MMAP_MAX));
		t->held = 0;
	}
	if (t->stream != NULL) {
		opj_stream_destroy(t->stream);
		t->stream = NULL;
	}
	if (t->codec != NULL) {
		opj_destroy_codec(t->codec);
		t->codec = NULL;
	}
}
