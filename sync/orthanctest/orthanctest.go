// Package orthanctest starts a private Orthanc archive with the DICOMweb
// plugin for a test (New, which stops it when the test ends). The archive
// itself is sync/localarchive's, the one the application's first run uses;
// this package adds only what a test needs around it, and never ships in the
// application.
package orthanctest

import "teleread/sync/localarchive"

// ErrNotInstalled reports that the Orthanc binary or its DICOMweb plugin was
// not found.
var ErrNotInstalled = localarchive.ErrNotInstalled

// Environment variables that override where Orthanc and its plugin are.
const (
	EnvBinary = localarchive.EnvBinary // path of the Orthanc executable
	EnvPlugin = localarchive.EnvPlugin // path of libOrthancDicomWeb.so
)

// Options configure a server. The zero value is a server without
// authentication.
type Options = localarchive.Options

// Instance is Orthanc's answer to an upload.
type Instance = localarchive.Instance

// Server is a running (or stopped) private Orthanc: a localarchive.Server with
// the test helpers (MustUploadFiles) beside it.
type Server struct {
	*localarchive.Server
}

// Available reports whether Orthanc and its DICOMweb plugin are installed,
// returning their paths.
func Available() (binary, plugin string, err error) { return localarchive.Available() }

// Start starts a private Orthanc whose configuration and storage live in dir
// (created if needed), and waits until it answers. The caller must call Stop.
func Start(dir string, opts Options) (*Server, error) {
	s, err := localarchive.Start(dir, opts)
	if err != nil {
		return nil, err
	}
	return &Server{s}, nil
}
