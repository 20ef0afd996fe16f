package cache

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// Identifying values in the index (names, IDs, birth dates, sex, accession
// numbers, descriptions, physician names, report bodies, the outbox's SR bytes)
// are sealed one by one with AES-256-GCM under a key derived from RecordKey. The
// associated data names the table, the column and the row's key, so a value
// copied into another row or column does not open. UIDs, dates and states stay in
// clear: they are what joins, the archive protocol and the worklist's order use,
// and name no one by themselves. Equality look-ups on an identifying value (the
// patient row, priors by Patient ID) go through a keyed hash column instead
// (HMAC-SHA256 under another key derived from RecordKey); substring filters
// decrypt rows in memory.
//
// A sealed value is a BLOB: sealFormat, a 12-byte random nonce, then the GCM
// ciphertext and tag. A plain value is TEXT; the only plain value accepted on
// reading is '' (a column's default, in rows written without that value).

const sealFormat = 1

// ErrTampered: a sealed index value did not open: it was changed, moved from
// another row or column, or sealed under another key.
var ErrTampered = errors.New("sealed value does not open (changed, moved from another row, or sealed under another key)")

// ErrUnsealed: an identifying value is stored in clear where a sealed one is
// expected.
var ErrUnsealed = errors.New("identifying value stored in clear")

// SealError names the index value that did not open. It matches ErrTampered
// or ErrUnsealed with errors.Is.
type SealError struct {
	Table, Column, Row string
	Err                error
}

func (e *SealError) Error() string {
	return fmt.Sprintf("cache: index %s.%s of row %s: %v", e.Table, e.Column, e.Row, e.Err)
}

func (e *SealError) Unwrap() error { return e.Err }

// recordCipher seals and opens index values and computes the keyed hashes used
// for look-ups.
type recordCipher interface {
	// seal returns what to store for plain in table.column of the row whose
	// key is row.
	seal(table, column, row string, plain []byte) any
	// open returns the plain value of what Scan gave for table.column of row,
	// or an error wrapping ErrTampered or ErrUnsealed.
	open(table, column, row string, stored any) ([]byte, error)
	// lookupKey is the keyed hash of value for the look-up named by purpose.
	lookupKey(purpose, value string) []byte
}

// gcmRecords is the recordCipher of every cache.
type gcmRecords struct {
	aead cipher.AEAD
	mac  []byte
}

// Labels of the keys derived from RecordKey; changing one makes every sealed
// value unreadable, so they carry a version.
const (
	labelValueKey  = "teleread index values AES-256-GCM v1"
	labelLookupKey = "teleread index look-up HMAC-SHA256 v1"
)

func newGCMRecords(recordKey []byte) (*gcmRecords, error) {
	if len(recordKey) != 32 {
		return nil, fmt.Errorf("cache: record key is %d bytes, want 32", len(recordKey))
	}
	enc, err := hkdf.Key(sha256.New, recordKey, nil, labelValueKey, 32)
	if err != nil {
		return nil, fmt.Errorf("cache: derive index key: %w", err)
	}
	mac, err := hkdf.Key(sha256.New, recordKey, nil, labelLookupKey, 32)
	if err != nil {
		return nil, fmt.Errorf("cache: derive look-up key: %w", err)
	}
	block, err := aes.NewCipher(enc)
	if err != nil {
		return nil, fmt.Errorf("cache: index cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("cache: index cipher: %w", err)
	}
	return &gcmRecords{aead: aead, mac: mac}, nil
}

// associated binds a value to its place: table, column and row key, each
// length-prefixed so that no two places give the same bytes.
func associated(table, column, row string) []byte {
	ad := make([]byte, 0, 16+len(table)+len(column)+len(row))
	for _, s := range []string{table, column, row} {
		ad = append(ad, byte(len(s)>>24), byte(len(s)>>16), byte(len(s)>>8), byte(len(s)))
		ad = append(ad, s...)
	}
	return ad
}

func (g *gcmRecords) seal(table, column, row string, plain []byte) any {
	ns := g.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plain)+g.aead.Overhead())
	out[0] = sealFormat
	rand.Read(out[1 : 1+ns]) // never fails (crypto/rand)
	return g.aead.Seal(out, out[1:1+ns], plain, associated(table, column, row))
}

func (g *gcmRecords) open(table, column, row string, stored any) ([]byte, error) {
	var b []byte
	switch v := stored.(type) {
	case nil:
		return nil, nil
	case string:
		if v == "" {
			return nil, nil
		}
		return nil, ErrUnsealed
	case []byte:
		b = v
	default:
		return nil, fmt.Errorf("%w (a %T)", ErrUnsealed, v)
	}
	ns := g.aead.NonceSize()
	if len(b) < 1+ns+g.aead.Overhead() || b[0] != sealFormat {
		return nil, ErrTampered
	}
	plain, err := g.aead.Open(nil, b[1:1+ns], b[1+ns:], associated(table, column, row))
	if err != nil {
		return nil, ErrTampered
	}
	return plain, nil
}

func (g *gcmRecords) lookupKey(purpose, value string) []byte {
	m := hmac.New(sha256.New, g.mac)
	m.Write(associated(purpose, "", value))
	return m.Sum(nil)
}

// sealText is what to store for a text value of table.column in row.
func (c *Cache) sealText(table, column, row, plain string) any {
	return c.records.seal(table, column, row, []byte(plain))
}

// patientIdentity is the keyed hash that tells patient rows apart (Patient
// ID, its issuer and the name, as the index always has).
func (c *Cache) patientIdentity(issuer, patientID, name string) []byte {
	return c.records.lookupKey("patient", issuer+"\x00"+patientID+"\x00"+name)
}

// patientKey is the keyed hash priors are looked up by: the Patient ID alone
// (an issuer is compared once the rows are open, because caches and archives
// that never recorded one must still find a patient's priors). nil for an
// empty Patient ID, which matches nothing.
func (c *Cache) patientKey(patientID string) any {
	if patientID == "" {
		return nil
	}
	return c.records.lookupKey("patient-id", patientID)
}

// rowOpener opens the sealed columns of one row, keeping the first error.
type rowOpener struct {
	c          *Cache
	table, row string // row: the key the values are bound to
	name       string // how errors name the row
	err        error
}

// opener opens values of table bound to the row key row; errors name the row
// by row too, unless named says otherwise.
func (c *Cache) opener(table, row string, named ...string) *rowOpener {
	o := &rowOpener{c: c, table: table, row: row, name: row}
	if len(named) > 0 {
		o.name = named[0]
	}
	return o
}

func (o *rowOpener) open(column string, stored any) []byte {
	if o.err != nil {
		return nil
	}
	b, err := o.c.records.open(o.table, column, o.row, stored)
	if err != nil {
		o.err = &SealError{Table: o.table, Column: column, Row: o.name, Err: err}
	}
	return b
}

// text opens the value Scan gave for column into *dst.
func (o *rowOpener) text(column string, stored any, dst *string) {
	if b := o.open(column, stored); o.err == nil {
		*dst = string(b)
	}
}

// raw receives a column's stored value whatever its type, for rowOpener.
type raw struct{ v any }

func (r *raw) Scan(src any) error {
	if b, ok := src.([]byte); ok {
		src = append([]byte(nil), b...) // the driver may reuse its buffer
	}
	r.v = src
	return nil
}
