/* OpenJPEG glue: a memory stream, message capture, and a two-step decode
 * (header, then samples) so that the caller can check the image size before
 * OpenJPEG allocates the component buffers. */
#ifndef TELEREAD_J2K_DECODE_H
#define TELEREAD_J2K_DECODE_H

#include <stddef.h>
#include <openjpeg.h>

#define TL_J2K_MSG 512

typedef struct {
	opj_codec_t *codec;
	opj_stream_t *stream;
	opj_image_t *image;
	const unsigned char *data;
	size_t len, pos;
	int mct;              /* the default tile's multiple component transform */
	size_t held;          /* bytes of decoded component buffers, for tl_j2k_close */
	char msg[TL_J2K_MSG]; /* OpenJPEG's error and warning messages, in order */
} tl_j2k;

/* tl_j2k_open reads the main header. format: 0 raw codestream, 1 JP2;
 * threads: how many threads tl_j2k_decode may use (0 or 1: one). On
 * failure it returns 0 and t->msg says why; tl_j2k_close must be called
 * either way. */
int tl_j2k_open(tl_j2k *t, const unsigned char *src, size_t n, int format, int threads);
/* tl_j2k_decode decodes all tiles at full resolution. */
int tl_j2k_decode(tl_j2k *t);
/* tl_j2k_narrow rewrites every decoded component in place as samples of size
 * bytes (1, 2 or 4), each masked with mask, and shrinks its buffer to them. */
void tl_j2k_narrow(tl_j2k *t, int size, unsigned int mask);
/* tl_j2k_store writes every decoded component into dst, which holds
 * w*h*numcomps samples of size bytes (1, 2 or 4): the components of a pixel
 * follow each other, each sample masked with mask. */
void tl_j2k_store(tl_j2k *t, void *dst, int size, unsigned int mask);
void tl_j2k_close(tl_j2k *t);

#endif
