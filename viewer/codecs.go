package viewer

import (
	"teleread/viewer/codec"
	"teleread/viewer/codec/jpeg"
	"teleread/viewer/codec/jpegls"
	"teleread/viewer/codec/ljpeg"
	"teleread/viewer/dataset"
)

// plain adapts a codec's Decode(src) to the decoder signature.
func plain(fn func([]byte) (*codec.Image, error)) func([]byte, *Image) (*codec.Image, error) {
	return func(src []byte, _ *Image) (*codec.Image, error) { return fn(src) }
}

func init() {
	for _, ts := range []string{dataset.JPEGBaseline, dataset.JPEGExtended} {
		decoders[ts] = decoder{start: markerJPEG, decode: plain(jpeg.Decode), header: codec.JPEGHeader}
	}
	for _, ts := range []string{dataset.JPEGLossless, dataset.JPEGLosslessSV1} {
		decoders[ts] = decoder{start: markerJPEG, decode: plain(ljpeg.Decode), header: codec.JPEGHeader}
	}
	for _, ts := range []string{dataset.JPEGLSLossless, dataset.JPEGLSNearLossless} {
		decoders[ts] = decoder{start: markerJPEG, decode: decodeJPEGLS, header: codec.JPEGHeader}
	}
}

// jpeglsMemory has CharLS write a frame's samples straight into recycled
// frame memory, which frameFromCodec then adopts: the samples are neither
// cleared first nor copied after, and decoding a series frame after frame
// makes no garbage.
var jpeglsMemory = jpegls.Memory{
	U8:      func(n int) []uint8 { return makeSamples[uint8](n, false) },
	U16:     func(n int) []uint16 { return makeSamples[uint16](n, false) },
	DoneU8:  func(s []uint8) { recycleBlock(s[:cap(s)]) },
	DoneU16: func(s []uint16) { recycleBlock(bytesOf(s[:cap(s)])) },
}

func decodeJPEGLS(src []byte, _ *Image) (*codec.Image, error) {
	return jpegls.DecodeInto(src, jpeglsMemory)
}
