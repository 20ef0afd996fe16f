// Package share makes copies of cached studies for someone else: a zip file
// set with a DICOMDIR (PS3.10, PS3.3 F.5) or individual files for STOW-RS,
// optionally de-identified with the Basic Application Level Confidentiality
// Profile of PS3.15 Annex E (Table E.1-1), with the Retain Longitudinal
// Temporal Information with Modified Dates and Retain Device Identity options.
//
// De-identified files are written in explicit VR little endian when the
// source was implicit VR or deflated, and otherwise in the source's transfer
// syntax (explicit big endian stays big endian, encapsulated syntaxes keep
// their fragments), so that pixel data are copied byte for byte. The one
// exception: JPEG, JPEG-LS and JPEG 2000 frames that carry comment or
// application segments lose those segments (markers.go) and are then written
// one fragment per frame with a new Basic Offset Table; the compressed image
// data themselves are not touched, so the frames decode identically.
//
// Beyond the table's letter, every date (DA, DT) and every instance UID (UI
// outside the DICOM root, other than class and coding scheme UIDs) is cleaned
// wherever it appears, private attributes are removed, and an overlay whose
// data the profile removes is removed as a whole group.
package share
