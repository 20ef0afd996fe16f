package viewer

import (
	"teleread/viewer/codec/jpeg2000"
	"teleread/viewer/dataset"
)

func init() {
	for _, ts := range []string{dataset.JPEG2000Lossless, dataset.JPEG2000,
		dataset.HTJ2KLossless, dataset.HTJ2KLosslessRPCL, dataset.HTJ2K} {
		decoders[ts] = decoder{start: markerJ2K, decode: plain(jpeg2000.Decode), header: jpeg2000.SIZ}
	}
}
