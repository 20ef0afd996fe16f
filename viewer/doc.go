// Package viewer is the image pipeline of Teleread: it opens a DICOM image, decodes
// single frames for every supported transfer syntax into their stored values, and
// turns them into 8-bit display pixels following DICOM PS3.3 C.11 (Modality LUT, VOI,
// presentation) and C.7.6.3 (colour). The CPU renderer here is the reference the GPU
// renderer is held to; both take the same Frame and Display values.
package viewer
