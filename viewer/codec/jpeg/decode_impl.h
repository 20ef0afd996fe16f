/* The decoder body, included by decode8.c and decode12.c after their own
 * jpeglib.h, with TL_DECODE naming the function to define.
 *
 * Errors never leave through the library's default error_exit (which calls
 * exit): error_exit formats the message and longjmps back here. Nothing is
 * printed; warnings are counted and the ones that mean damaged entropy-coded
 * data fail the decode, because a silently grey-filled frame must not reach a
 * diagnostic display. The WG04 "SOS Se=0" quirk is only a warning
 * (JWRN_NOT_SEQUENTIAL) in IJG and is tolerated here the same way. */
#include <setjmp.h>
#include <string.h>

#include "decode.h"

struct tl_err {
	struct jpeg_error_mgr pub;
	jmp_buf jump;
	char *msg;
	int damaged;
};

static void tl_error_exit(j_common_ptr c) {
	struct tl_err *e = (struct tl_err *)c->err;
	(*c->err->format_message)(c, e->msg);
	longjmp(e->jump, 1);
}

static void tl_output_message(j_common_ptr c) { (void)c; }

static void tl_emit_message(j_common_ptr c, int level) {
	struct tl_err *e = (struct tl_err *)c->err;
	if (level >= 0) {
		return; /* trace messages */
	}
	c->err->num_warnings++;
	switch (c->err->msg_code) {
	case JWRN_HIT_MARKER:
	case JWRN_HUFF_BAD_CODE:
	case JWRN_JPEG_EOF:
	case JWRN_MUST_RESYNC:
		if (!e->damaged) {
			e->damaged = 1;
			(*c->err->format_message)(c, e->msg);
		}
		break;
	default:
		break;
	}
}

/* A source manager over one memory buffer. Running out of data inserts a fake
 * EOI like the stdio source does, and reports JWRN_JPEG_EOF, which the warning
 * handler above treats as damage. */
static const JOCTET tl_eoi[2] = {0xFF, JPEG_EOI};

static void tl_init_source(j_decompress_ptr d) { (void)d; }

static boolean tl_fill_input_buffer(j_decompress_ptr d) {
	WARNMS(d, JWRN_JPEG_EOF);
	d->src->next_input_byte = tl_eoi;
	d->src->bytes_in_buffer = 2;
	return TRUE;
}

static void tl_skip_input_data(j_decompress_ptr d, long n) {
	if (n <= 0) {
		return;
	}
	while ((size_t)n > d->src->bytes_in_buffer) {
		n -= (long)d->src->bytes_in_buffer;
		(void)tl_fill_input_buffer(d);
	}
	d->src->next_input_byte += n;
	d->src->bytes_in_buffer -= (size_t)n;
}

static void tl_term_source(j_decompress_ptr d) { (void)d; }

int TL_DECODE(const unsigned char *src, size_t n, void *dst, size_t dstcap, tl_jpeg_result *res) {
	struct jpeg_decompress_struct cinfo;
	struct tl_err jerr;
	struct jpeg_source_mgr srcmgr;
	JSAMPROW rows[16];
	size_t stride;

	memset(res, 0, sizeof(*res));
	memset(&cinfo, 0, sizeof(cinfo));
	cinfo.err = jpeg_std_error(&jerr.pub);
	jerr.pub.error_exit = tl_error_exit;
	jerr.pub.output_message = tl_output_message;
	jerr.pub.emit_message = tl_emit_message;
	jerr.msg = res->msg;
	jerr.damaged = 0;
	if (setjmp(jerr.jump)) {
		jpeg_destroy_decompress(&cinfo);
		return TL_JPEG_ERROR;
	}
	jpeg_create_decompress(&cinfo);

	srcmgr.init_source = tl_init_source;
	srcmgr.fill_input_buffer = tl_fill_input_buffer;
	srcmgr.skip_input_data = tl_skip_input_data;
	srcmgr.resync_to_restart = jpeg_resync_to_restart;
	srcmgr.term_source = tl_term_source;
	srcmgr.next_input_byte = (const JOCTET *)src;
	srcmgr.bytes_in_buffer = n;
	cinfo.src = &srcmgr;

	if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) {
		strcpy(res->msg, "no image in JPEG stream");
		jpeg_destroy_decompress(&cinfo);
		return TL_JPEG_ERROR;
	}
	/* No colour conversion: YCbCr stays YCbCr (still upsampled with the
	 * default fancy filter), RGB stays RGB. */
	cinfo.out_color_space = cinfo.jpeg_color_space;
	switch (cinfo.jpeg_color_space) {
	case JCS_GRAYSCALE: res->color = TL_COLOR_GRAY; break;
	case JCS_RGB: res->color = TL_COLOR_RGB; break;
	case JCS_YCbCr: res->color = TL_COLOR_YCBCR; break;
	default: res->color = TL_COLOR_OTHER; break;
	}
	jpeg_start_decompress(&cinfo);
	res->width = (int)cinfo.output_width;
	res->height = (int)cinfo.output_height;
	res->components = cinfo.output_components;
	res->precision = cinfo.data_precision;
	stride = (size_t)cinfo.output_width * (size_t)cinfo.output_components * sizeof(JSAMPLE);
	if (stride == 0 || stride * (size_t)cinfo.output_height > dstcap) {
		jpeg_destroy_decompress(&cinfo);
		return TL_JPEG_MISMATCH;
	}
	while (cinfo.output_scanline < cinfo.output_height) {
		JDIMENSION want = cinfo.output_height - cinfo.output_scanline, k;
		if (want > 16) {
			want = 16;
		}
		for (k = 0; k < want; k++) {
			rows[k] = (JSAMPROW)((unsigned char *)dst + (size_t)(cinfo.output_scanline + k) * stride);
		}
		if (jpeg_read_scanlines(&cinfo, rows, want) == 0) {
			break; /* cannot happen with a memory source; do not spin */
		}
	}
	/* jpeg_finish_decompress is skipped on purpose: what follows the last
	 * scan (a missing EOI, padding) does not change the pixels. */
	jpeg_destroy_decompress(&cinfo);
	if (jerr.damaged) {
		return TL_JPEG_DAMAGED;
	}
	return TL_JPEG_OK;
}
