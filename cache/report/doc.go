// Package report holds the reading report logic: drafts pre-filled from
// templates, signing, addenda, and the DICOM Basic Text SR (PS3.3 A.35.1,
// PS3.16 TID 2000) that a signed report becomes.
//
// Everything here is pure: no database, no network. The cache package stores
// what this package produces (the Report value and the signed SR bytes) and
// the outbox delivers the bytes unchanged.
package report
