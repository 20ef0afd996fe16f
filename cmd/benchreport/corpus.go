package main

import (
	"fmt"
	"os"
	"path/filepath"

	"teleread/internal/corpustest"
)

// entry is a corpus MANIFEST.json entry (internal/corpustest loads the
// corpus for the tests and for this report alike).
type entry = corpustest.Entry

// shortTS names the transfer syntaxes of the corpus briefly, for the table.
var shortTS = map[string]string{
	"1.2.840.10008.1.2":       "Implicit VR LE",
	"1.2.840.10008.1.2.1":     "Explicit VR LE",
	"1.2.840.10008.1.2.1.99":  "Deflated Explicit VR LE",
	"1.2.840.10008.1.2.2":     "Explicit VR BE",
	"1.2.840.10008.1.2.5":     "RLE Lossless",
	"1.2.840.10008.1.2.4.50":  "JPEG Baseline (.50)",
	"1.2.840.10008.1.2.4.51":  "JPEG Extended 12-bit (.51)",
	"1.2.840.10008.1.2.4.57":  "JPEG Lossless (.57)",
	"1.2.840.10008.1.2.4.70":  "JPEG Lossless SV1 (.70)",
	"1.2.840.10008.1.2.4.80":  "JPEG-LS Lossless (.80)",
	"1.2.840.10008.1.2.4.81":  "JPEG-LS Near-Lossless (.81)",
	"1.2.840.10008.1.2.4.90":  "JPEG 2000 Lossless (.90)",
	"1.2.840.10008.1.2.4.91":  "JPEG 2000 (.91)",
	"1.2.840.10008.1.2.4.201": "HTJ2K Lossless (.201)",
	"1.2.840.10008.1.2.4.202": "HTJ2K Lossless RPCL (.202)",
	"1.2.840.10008.1.2.4.203": "HTJ2K (.203)",
}

// tsName is a short name of the file's transfer syntax (the detected one for
// a file without a meta header).
func tsName(e entry) string {
	if s, ok := shortTS[e.Info.TransferSyntaxUID]; ok {
		return s
	}
	if e.DICOM.TransferSyntaxName != "" {
		return e.DICOM.TransferSyntaxName
	}
	if e.DICOM.DetectedEncoding != "" {
		return e.DICOM.DetectedEncoding + " (no meta header)"
	}
	return e.Info.TransferSyntaxUID
}

// manifest reads the corpus manifest.
func (b *bench) manifest() ([]entry, error) {
	entries, err := corpustest.ReadManifest(b.corpus)
	if err != nil {
		return nil, fmt.Errorf("corpus manifest: %w (use -corpus DIR)", err)
	}
	return entries, nil
}

// corpusFile returns the path of a corpus file by id, checking that it exists.
func (b *bench) corpusFile(id string) (string, error) {
	p := filepath.Join(b.corpus, "files", id+".dcm")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("corpus file %s.dcm: %w (use -corpus DIR)", id, err)
	}
	return p, nil
}
