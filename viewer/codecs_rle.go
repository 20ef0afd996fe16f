package viewer

import (
	"teleread/viewer/codec"
	"teleread/viewer/codec/rle"
	"teleread/viewer/dataset"
)

func init() {
	// RLE frames are one fragment each (PS3.5 G.2); there is no start marker to scan for.
	decoders[dataset.RLELossless] = decoder{decode: func(src []byte, im *Image) (*codec.Image, error) {
		return rle.Decode(src, im.Rows, im.Cols, im.Samples, im.BitsAllocated)
	}}
}
