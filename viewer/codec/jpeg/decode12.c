/* 12-bit sample JPEG (process 4, extended) with the IJG 6b library that GDCM
 * builds for 12 bits (libgdcmjpeg12; its headers rename every symbol with a
 * gdcmjpeg12_ prefix, so it links beside libjpeg-turbo). libjpeg-turbo 2.1
 * cannot decode 12-bit data in the same library as 8-bit. */
#include <stdio.h>
#include <gdcm-3.0/gdcmjpeg/12/jpeglib.h>
#include <gdcm-3.0/gdcmjpeg/12/jerror.h>

#if BITS_IN_JSAMPLE != 12
#error "expected the 12-bit IJG headers"
#endif

#define TL_DECODE tl_jpeg12_decode
#include "decode_impl.h"
