package viewer

import (
	"strings"

	"teleread/viewer/dataset"
)

// lossySyntaxes are the transfer syntaxes whose pixels may differ from the
// original (PS3.5 Section 8 and Annex A: the lossy JPEG processes, JPEG-LS
// near-lossless, JPEG 2000 and HTJ2K that may be irreversible, JPEG XL, and
// the MPEG and HEVC video syntaxes). Deflate, RLE and the lossless processes
// are not here.
var lossySyntaxes = map[string]bool{
	dataset.JPEGBaseline:       true,
	dataset.JPEGExtended:       true,
	"1.2.840.10008.1.2.4.52":   true, // retired JPEG processes 3 and 5
	"1.2.840.10008.1.2.4.53":   true, // retired spectral selection, non-hierarchical
	"1.2.840.10008.1.2.4.54":   true,
	"1.2.840.10008.1.2.4.55":   true, // retired full progression, non-hierarchical
	"1.2.840.10008.1.2.4.56":   true,
	"1.2.840.10008.1.2.4.59":   true, // retired hierarchical lossy processes
	"1.2.840.10008.1.2.4.60":   true,
	"1.2.840.10008.1.2.4.61":   true,
	"1.2.840.10008.1.2.4.62":   true,
	"1.2.840.10008.1.2.4.63":   true,
	"1.2.840.10008.1.2.4.64":   true,
	dataset.JPEGLSNearLossless: true,
	dataset.JPEG2000:           true,
	"1.2.840.10008.1.2.4.93":   true, // JPEG 2000 Part 2 multi-component
	dataset.HTJ2K:              true,
	"1.2.840.10008.1.2.4.111":  true, // JPEG XL recompression of a JPEG
	"1.2.840.10008.1.2.4.112":  true, // JPEG XL
	"1.2.840.10008.1.2.4.100":  true, // MPEG2 Main Profile
	"1.2.840.10008.1.2.4.101":  true, // MPEG2 High Profile
	"1.2.840.10008.1.2.4.102":  true, // MPEG-4 AVC/H.264
	"1.2.840.10008.1.2.4.103":  true,
	"1.2.840.10008.1.2.4.104":  true,
	"1.2.840.10008.1.2.4.105":  true,
	"1.2.840.10008.1.2.4.106":  true,
	"1.2.840.10008.1.2.4.107":  true, // HEVC/H.265
	"1.2.840.10008.1.2.4.108":  true,
}

// LossySyntax reports whether a transfer syntax may carry pixels that are not
// the original ones.
func LossySyntax(uid string) bool { return lossySyntaxes[uid] }

// LossyMark says whether an image's pixels are not the original ones, and what
// its header says of the compression that made them so.
type LossyMark struct {
	Lossy   bool
	Syntax  bool     // the transfer syntax is lossy
	Flagged bool     // Lossy Image Compression (0028,2110) is "01"
	Ratios  []string // Lossy Image Compression Ratio (0028,2112), as stored
	Methods []string // Lossy Image Compression Method (0028,2114)
}

// Lossy reads f's lossy-compression state. An image once compressed lossily
// stays lossy when it is later stored lossless, so the header's flag counts as
// much as the transfer syntax.
func Lossy(f *dataset.File) LossyMark {
	var m LossyMark
	if f == nil {
		return m
	}
	m.Syntax = LossySyntax(f.TransferSyntax)
	if f.DataSet != nil {
		m.Flagged = f.String(dataset.LossyImageCompression) == "01"
		for _, r := range f.Strings(dataset.LossyImageCompressionRatio) {
			if r = strings.TrimSpace(r); r != "" {
				m.Ratios = append(m.Ratios, r)
			}
		}
		for _, s := range f.Strings(dataset.LossyImageCompressionMethod) {
			if s = strings.TrimSpace(s); s != "" {
				m.Methods = append(m.Methods, s)
			}
		}
	}
	m.Lossy = m.Syntax || m.Flagged
	return m
}

// String is the overlay's text: "LOSSY", then each ratio as "r:1" and the
// methods when the header gives them ("LOSSY 10:1 ISO_10918_1"); empty when
// the image is not lossy.
func (m LossyMark) String() string {
	if !m.Lossy {
		return ""
	}
	parts := []string{"LOSSY"}
	for _, r := range m.Ratios {
		parts = append(parts, r+":1")
	}
	parts = append(parts, m.Methods...)
	return strings.Join(parts, " ")
}
