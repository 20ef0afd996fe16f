/* Shared declarations of the two libjpeg-family decoders (8-bit libjpeg-turbo,
 * 12-bit IJG from GDCM). Each lives in its own C file because both libraries
 * ship a header named jpeglib.h with different JSAMPLE sizes. */
#ifndef TELEREAD_JPEG_DECODE_H
#define TELEREAD_JPEG_DECODE_H

#include <stddef.h>

enum {
	TL_JPEG_OK = 0,
	TL_JPEG_ERROR = 1,     /* the library gave up: msg says why */
	TL_JPEG_DAMAGED = 2,   /* decoded, but the library reported damaged data */
	TL_JPEG_MISMATCH = 3,  /* output does not fit what the caller allocated */
};

enum { TL_COLOR_OTHER = 0, TL_COLOR_GRAY, TL_COLOR_RGB, TL_COLOR_YCBCR };

typedef struct {
	int width, height, components, precision, color;
	char msg[200];
} tl_jpeg_result;

int tl_jpeg8_decode(const unsigned char *src, size_t n, void *dst, size_t dstcap, tl_jpeg_result *res);
int tl_jpeg12_decode(const unsigned char *src, size_t n, void *dst, size_t dstcap, tl_jpeg_result *res);

#endif
