package dataset

/*
#cgo LDFLAGS: -lz
#include <stdlib.h>
#include <zlib.h>

// tl_inflate_new returns a raw-deflate (no zlib header) decompressor, or NULL.
static z_stream *tl_inflate_new(void) {
	z_stream *z = calloc(1, sizeof(z_stream));
	if (z == NULL) {
		return NULL;
	}
	if (inflateInit2(z, -15) != Z_OK) {
		free(z);
		return NULL;
	}
	return z;
}

static void tl_inflate_free(z_stream *z) {
	inflateEnd(z);
	free(z);
}

// tl_inflate inflates from in into out; the buffers are only used during the
// call (the stream keeps no pointer to them after it). It returns zlib's code
// and how much was consumed and produced.
static int tl_inflate(z_stream *z, unsigned char *in, size_t inlen, unsigned char *out, size_t outlen,
		size_t *consumed, size_t *produced) {
	uInt ai = inlen > 0x40000000 ? 0x40000000 : (uInt)inlen;
	uInt ao = outlen > 0x40000000 ? 0x40000000 : (uInt)outlen;
	z->next_in = in;
	z->avail_in = ai;
	z->next_out = out;
	z->avail_out = ao;
	int rc = inflate(z, Z_NO_FLUSH);
	*consumed = ai - z->avail_in;
	*produced = ao - z->avail_out;
	z->next_in = NULL;
	z->avail_in = 0;
	z->next_out = NULL;
	z->avail_out = 0;
	return rc;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"io"
	"unsafe"
)

// zInflater inflates a raw deflate stream with zlib, which runs about twice
// as fast as compress/flate and writes straight into the output buffer
// (compress/flate goes through its 32 KiB window and copies out).
type zInflater struct {
	z *C.z_stream
}

var errZlib = errors.New("zlib could not start a decompressor")

func newZInflater() (*zInflater, error) {
	z := C.tl_inflate_new()
	if z == nil {
		return nil, errZlib
	}
	return &zInflater{z: z}, nil
}

func (d *zInflater) close() { C.tl_inflate_free(d.z) }

// inflateInto inflates all of in (read in chunks from it when it is not in
// memory) into buf, growing it with grow when full; it returns the output.
// A stream that breaks the format wraps ErrMalformed, one that stops before
// its final block ErrTruncated.
func (d *zInflater) inflateInto(in func() ([]byte, error), buf []byte, grow func([]byte) ([]byte, error)) ([]byte, error) {
	var chunk []byte
	eof := false
	for {
		if len(chunk) == 0 && !eof {
			c, err := in()
			if err == io.EOF {
				eof = true
			} else if err != nil {
				return buf, err
			}
			chunk = c
		}
		if len(buf) == cap(buf) {
			var err error
			if buf, err = grow(buf); err != nil {
				return buf, err
			}
		}
		out := buf[len(buf):cap(buf)]
		var inPtr *C.uchar
		if len(chunk) > 0 {
			inPtr = (*C.uchar)(unsafe.Pointer(&chunk[0]))
		}
		var consumed, produced C.size_t
		rc := C.tl_inflate(d.z, inPtr, C.size_t(len(chunk)), (*C.uchar)(unsafe.Pointer(&out[0])), C.size_t(len(out)), &consumed, &produced)
		chunk = chunk[consumed:]
		buf = buf[:len(buf)+int(produced)]
		switch rc {
		case C.Z_STREAM_END:
			return buf, nil
		case C.Z_OK:
		case C.Z_BUF_ERROR:
			// No progress: more input is needed (or more room, given above).
			if len(chunk) == 0 && eof {
				return buf, fmt.Errorf("%w: %w", ErrTruncated, io.ErrUnexpectedEOF)
			}
		case C.Z_DATA_ERROR:
			msg := "invalid deflate data"
			if d.z.msg != nil {
				msg = C.GoString(d.z.msg)
			}
			return buf, fmt.Errorf("%w: %s", ErrMalformed, msg)
		default:
			return buf, fmt.Errorf("zlib inflate: code %d", int(rc))
		}
		if consumed == 0 && produced == 0 && len(chunk) == 0 && eof {
			return buf, fmt.Errorf("%w: %w", ErrTruncated, io.ErrUnexpectedEOF)
		}
	}
}
