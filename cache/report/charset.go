package report

import (
	"errors"
	"fmt"

	"teleread/viewer/dataset"
)

// toUTF8 returns value, an element of VR vr written in the character set the
// images declare, as UTF-8 for a data set with Specific Character Set
// ISO_IR 192. It uses the one decoder every reader of text uses, strictly: a
// signed document must not carry a guessed name, so a character set the
// decoder does not know, or bytes it cannot read in the declared one, are
// errors rather than Latin-1. Values of plain ASCII (the common case) come
// back as the very same bytes, so the copy is exact.
func toUTF8(charset, vr string, value []byte) ([]byte, error) {
	s, err := dataset.ParseCharacterSet(charset).DecodeStrict(vr, value)
	switch {
	case errors.Is(err, dataset.ErrUnknownCharacterSet):
		return nil, fmt.Errorf("report: convert from %q: %w: %w", charset, ErrCharacterSet, err)
	case err != nil:
		return nil, fmt.Errorf("report: convert from %q: %w: %w", charset, ErrInvalidValue, err)
	}
	return []byte(s), nil
}
