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
		decoders[ts] = decoder{start: markerJPEG, decode: plain(jpegls.Decode), header: codec.JPEGHeader}
	}
}
