/* 8-bit sample JPEG (processes 1, 2/4 at 8 bits, progressive) with libjpeg-turbo. */
#include <stdio.h>
#include <jpeglib.h>
#include <jerror.h>

#define TL_DECODE tl_jpeg8_decode
#include "decode_impl.h"
