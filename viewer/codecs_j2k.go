package viewer

import (
	"teleread/viewer/codec"
	"teleread/viewer/codec/jpeg2000"
	"teleread/viewer/dataset"
)

func init() {
	for _, ts := range []string{dataset.JPEG2000Lossless, dataset.JPEG2000,
		dataset.HTJ2KLossless, dataset.HTJ2KLosslessRPCL, dataset.HTJ2K} {
		decoders[ts] = decoder{start: markerJ2K, decode: decodeJ2K, header: jpeg2000.SIZ}
	}
}

// decodeJ2K decodes into recycled frame memory where some fits, and else
// into a frame of the codec's own, made once OpenJPEG's buffers are shrunk:
// the codec's samples become the frame (adoptCodec).
func decodeJ2K(src []byte, _ *Image) (*codec.Image, error) {
	return jpeg2000.DecodeInto(src, func(n int) []byte { return pooledSlice[uint8](n, false) })
}
