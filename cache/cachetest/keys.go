package cachetest

import "os"

// TestPassphrase is the passphrase UseTestKeystore sets.
const TestPassphrase = "teleread test passphrase"

// UseTestKeystore sets the environment so that the caches this process opens,
// and those of the commands it starts, keep their master key wrapped by
// TestPassphrase with cheap argon2id parameters (one pass over 8 MiB, a few
// milliseconds, instead of about a second per new cache): test suites open
// hundreds of caches, and must not write test keys into the keyring of the
// developer who runs them. The variables are set, not defaulted, for the
// same reason. Call it from TestMain or an init function of a _test.go file.
func UseTestKeystore() {
	os.Setenv("TELEREAD_KEYSTORE", "passphrase")
	os.Setenv("TELEREAD_PASSPHRASE", TestPassphrase)
	os.Setenv("TELEREAD_TEST_KDF", "fast")
}
