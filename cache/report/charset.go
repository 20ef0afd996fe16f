package report

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// singleByteSets maps the Defined Terms of Specific Character Set without
// code extensions (PS3.3 C.12.1.1.2, Table C.12-2) to their decoders.
var singleByteSets = map[string]encoding.Encoding{
	"ISO_IR 100": charmap.ISO8859_1,
	"ISO_IR 101": charmap.ISO8859_2,
	"ISO_IR 109": charmap.ISO8859_3,
	"ISO_IR 110": charmap.ISO8859_4,
	"ISO_IR 144": charmap.ISO8859_5,
	"ISO_IR 127": charmap.ISO8859_6,
	"ISO_IR 126": charmap.ISO8859_7,
	"ISO_IR 138": charmap.ISO8859_8,
	"ISO_IR 148": charmap.ISO8859_9,
	"ISO_IR 203": charmap.ISO8859_15,
	"GB18030":    simplifiedchinese.GB18030,
	"GBK":        simplifiedchinese.GBK,
}

// toUTF8 returns value, written in the character set the images declare, as
// UTF-8 for a data set with Specific Character Set ISO_IR 192. Values of
// plain ASCII (the common case) come back as the very same bytes, so the
// copy is exact; others are converted, because the same bytes under a
// different character set would be a different name.
func toUTF8(charset string, value []byte) ([]byte, error) {
	plain := true
	for _, b := range value {
		if b >= 0x80 || b == 0x1b {
			plain = false
			break
		}
	}
	if plain {
		return value, nil
	}
	terms := strings.Split(charset, `\`)
	first := strings.TrimSpace(terms[0])
	if len(terms) > 1 || bytes.IndexByte(value, 0x1b) >= 0 {
		return nil, fmt.Errorf("report: convert %q from %q: %w", value, charset, ErrCharacterSet)
	}
	switch first {
	case "ISO_IR 192":
		if !utf8.Valid(value) {
			return nil, fmt.Errorf("report: convert %q: invalid UTF-8: %w", value, ErrInvalidValue)
		}
		return value, nil
	case "", "ISO_IR 6":
		// Bytes above 0x7F without a declared character set are not valid
		// DICOM, but such files exist and archives read them as Latin-1;
		// so do we, rather than refuse to report on the study.
		first = "ISO_IR 100"
	}
	enc, ok := singleByteSets[first]
	if !ok {
		return nil, fmt.Errorf("report: convert from %q: %w", charset, ErrCharacterSet)
	}
	out, err := enc.NewDecoder().Bytes(value)
	if err != nil {
		return nil, fmt.Errorf("report: convert %q from %q: %w", value, charset, err)
	}
	return out, nil
}
