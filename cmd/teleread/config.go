package main

import sconfig "teleread/sync/config"

// The configuration is package config's, shared with the app (main only wires
// it): these names keep the commands short.
type config = sconfig.Config

func configPath() string          { return sconfig.Path() }
func loadConfig() (config, error) { return sconfig.Load() }

// ErrShared is returned for a configuration or token file that users other
// than its owner may read or change.
var ErrShared = sconfig.ErrShared
