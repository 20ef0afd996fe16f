package main

import sconfig "teleread/sync/config"

// The configuration is package config's, shared with the app (main only wires
// it): these names keep the commands short.
type config = sconfig.Config

func configPath() string                   { return sconfig.Path() }
func loadConfig() (config, error)          { return sconfig.Load() }
func readPrivate(p string) ([]byte, error) { return sconfig.ReadPrivate(p) }
func sameOrigin(a, b string) bool          { return sconfig.SameOrigin(a, b) }

// ErrShared is returned for a configuration or token file that users other
// than its owner may read or change.
var ErrShared = sconfig.ErrShared
