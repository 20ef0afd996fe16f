// Package assets holds the files Teleread ships inside its binary.
package assets

import "embed"

// Templates holds the report templates, templates/*.json: each pre-fills
// the findings, impression and recommendation of a new draft for the
// modalities and body parts it lists (see package cache/report).
//
//go:embed templates/*.json
var Templates embed.FS
