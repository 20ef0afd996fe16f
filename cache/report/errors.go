package report

import "errors"

// Sentinel errors; callers branch on them with errors.Is.
var (
	// ErrValueTooLong: a value exceeds what its VR allows.
	ErrValueTooLong = errors.New("value too long")
	// ErrInvalidValue: a text, name or UID cannot be written as it is
	// (control characters, invalid UTF-8, a backslash in a single value,
	// a malformed UID).
	ErrInvalidValue = errors.New("invalid value")
	// ErrCharacterSet: the images use a Specific Character Set that is not
	// a Defined Term, so their names cannot be copied into the report
	// without guessing.
	ErrCharacterSet = errors.New("unsupported character set")
	// ErrEmptyReport: signing a report with no text in any section.
	ErrEmptyReport = errors.New("report has no text")
	// ErrSigned: changing a report that is already signed; corrections are
	// addenda.
	ErrSigned = errors.New("report already signed")
	// ErrNotSigned: an addendum to a report that is not signed yet.
	ErrNotSigned = errors.New("report not signed")
	// ErrNoStudy: the study context has no Study Instance UID.
	ErrNoStudy = errors.New("no study")
)

// ErrStudyMismatch: files given as one study belong to different studies.
var ErrStudyMismatch = errors.New("files belong to different studies")
