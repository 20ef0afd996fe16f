#ifndef TR_JLS_FASTSCAN_H
#define TR_JLS_FASTSCAN_H

#include <stddef.h>
#include <stdint.h>

enum { TR_JLS_OK = 0, TR_JLS_DECLINE = 1 };

// tr_jls_decode decodes the entropy-coded data of a one-component JPEG-LS
// scan into width*height samples at out (uint16 when wide, else uint8), or
// declines; fastscan.c says when.
int tr_jls_decode(const uint8_t *data, size_t n, int width, int height, int maxval, int near, int t1,
                  int t2, int t3, int reset, void *out, int wide);

#endif
