package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"teleread/cache"
)

// TestKeysCommands: `keys status` says where the master key is (and nothing
// secret), `keys rotate` re-wraps the study keys after which the cache
// verifies and reads as before, SIGKILL in the middle of a rotation leaves a
// cache that verifies, and a missing or wrong passphrase is a clear error
// naming what to set.
func TestKeysCommands(t *testing.T) {
	requireCorpus(t)
	home := t.TempDir()
	ct := filepath.Join(corpusDir, "files", "ct_small_explicit_le.dcm")
	if r := teleread(t, home, "import", ct); r.code != 0 {
		t.Fatalf("import: %d %s", r.code, r.stderr)
	}
	var st struct {
		Keystore   string `json:"keystore"`
		Generation int64  `json:"generation"`
		StudyKeys  int    `json:"study_keys"`
		Unlocks    bool   `json:"unlocks"`
	}
	r := teleread(t, home, "keys", "status", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatalf("keys status --json: %v\n%s", err, r.stdout)
	}
	studyKeys := st.StudyKeys // 1 once files are sealed with the study's key
	r = teleread(t, home, "keys", "status")
	for _, want := range []string{"wrapped by a passphrase", "argon2id", "generation: 1", "study keys: ", "unlocks: yes"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("keys status lacks %q:\n%s", want, r.stdout)
		}
	}
	if r.code != 0 || strings.Contains(r.stdout+r.stderr, "teleread test passphrase") {
		t.Fatalf("keys status: %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	r = teleread(t, home, "keys", "rotate")
	if r.code != 0 || !strings.Contains(r.stdout, "generation 2") || !strings.Contains(r.stdout, fmt.Sprintf("%d study keys re-wrapped", studyKeys)) {
		t.Fatalf("keys rotate: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, step := range []string{cache.StepKeysRotateStored, cache.StepKeysRotateRewrapped, cache.StepKeysRotateCommitted} {
		killAt(t, home, step, "keys", "rotate")
		if r := teleread(t, home, "verify"); r.code != 0 {
			t.Fatalf("verify after a rotation killed at %s: %d\n%s%s", step, r.code, r.stdout, r.stderr)
		}
	}
	r = teleread(t, home, "keys", "status", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatalf("keys status --json: %v\n%s", err, r.stdout)
	}
	// Generation 2, then one rotation committed by the kill after the commit.
	if st.Keystore != cache.KeystorePassphrase || st.Generation != 3 || st.StudyKeys != studyKeys || !st.Unlocks {
		t.Fatalf("keys status --json: %+v", st)
	}

	t.Setenv(cache.EnvPassphrase, "not the passphrase")
	r = teleread(t, home, "studies")
	if r.code != 1 || !strings.Contains(r.stderr, "wrong passphrase") {
		t.Fatalf("studies with a wrong passphrase: %d %s", r.code, r.stderr)
	}
	if r = teleread(t, home, "keys", "status"); r.code != 1 || !strings.Contains(r.stdout, "unlocks: no") {
		t.Fatalf("keys status with a wrong passphrase: %d %s", r.code, r.stdout)
	}
	t.Setenv(cache.EnvPassphrase, "")
	if r = teleread(t, home, "studies"); r.code != 1 || !strings.Contains(r.stderr, cache.EnvPassphrase) {
		t.Fatalf("studies without a passphrase: %d %s", r.code, r.stderr)
	}

	// A new cache with no keyring and no passphrase is refused, and none is made.
	t.Setenv(cache.EnvKeystore, "")
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", "")
	fresh := t.TempDir()
	r = teleread(t, fresh, "import", ct)
	if r.code != 1 || !strings.Contains(r.stderr, "no keyring and no passphrase") || !strings.Contains(r.stderr, cache.EnvPassphrase) {
		t.Fatalf("import into a new cache without keystore: %d %s", r.code, r.stderr)
	}
	if r = teleread(t, fresh, "keys", "status"); !strings.Contains(r.stdout, "no master key yet") {
		t.Fatalf("keys status of the refused cache: %s %s", r.stdout, r.stderr)
	}
}
