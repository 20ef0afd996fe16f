package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
)

// Save writes c to the configuration file at path the way the app's Settings
// edit it: the fields Config knows are replaced (a zero value removes its
// key), every other key of the file is kept as it was, and the secret the
// auth needs (password, bearer token, OAuth2 client secret) goes to the
// keyring, never into the file: a secret the file held in clear is removed
// from it. When the keyring cannot keep the secret, nothing is written and
// the error wraps ErrNoKeyring. The file is replaced atomically (a temporary
// file in the same folder, synced, renamed) with mode 0600.
func Save(path string, c Config) error {
	if path == "" {
		return errors.New("config: save: no configuration path (no home folder?)")
	}
	doc := map[string]json.RawMessage{}
	b, err := ReadPrivate(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("config: save: %w", err)
	default:
		if len(bytes.TrimSpace(b)) > 0 {
			if err := json.Unmarshal(b, &doc); err != nil {
				return fmt.Errorf("config: save %s: the file is not a JSON object: %w", path, err)
			}
		}
	}
	// The secret first: when it cannot be kept, the file stays as it was.
	if p := c.secret(); p != nil {
		key := c.SecretKey(c.secretKind())
		if *p != "" {
			if err := Keyring.Set(key, *p); err != nil {
				return fmt.Errorf("config: save: %w", err)
			}
		} else {
			// Best effort: a keyring that cannot be reached holds nothing
			// this could have stored.
			_ = Keyring.Delete(key)
		}
	}
	plain := c
	plain.Password, plain.Token = "", ""
	if c.OAuth2 != nil {
		o := *c.OAuth2
		o.ClientSecret = ""
		plain.OAuth2 = &o
	}
	fields, err := json.Marshal(plain)
	if err != nil {
		return fmt.Errorf("config: save: %w", err)
	}
	var known map[string]json.RawMessage
	if err := json.Unmarshal(fields, &known); err != nil {
		return fmt.Errorf("config: save: %w", err)
	}
	for _, key := range knownKeys() {
		delete(doc, key)
		if v, ok := known[key]; ok && !zeroJSON(v) {
			doc[key] = v
		}
	}
	if c.TurnaroundMinutes.IsZero() {
		delete(doc, "turnaround_minutes")
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("config: save: %w", err)
	}
	return writeAtomic(path, append(out, '\n'))
}

// knownKeys are the JSON names of Config's fields.
func knownKeys() []string {
	t := reflect.TypeOf(Config{})
	var keys []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			keys = append(keys, name)
		}
	}
	return keys
}

// zeroJSON reports a value Save leaves out: null, "", 0, false, [] or an
// object whose every member is zero.
func zeroJSON(v json.RawMessage) bool {
	switch s := string(bytes.TrimSpace(v)); s {
	case "null", `""`, "0", "false", "[]", "{}":
		return true
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(v, &obj) == nil {
		for _, m := range obj {
			if !zeroJSON(m) {
				return false
			}
		}
		return true
	}
	return false
}

// writeAtomic replaces path with b: a private temporary file in the same
// folder, synced, renamed over path, and the folder synced, so a crash
// leaves the old file or the new one, never half of either.
func writeAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("config: save: %w", err)
	}
	f, err := os.CreateTemp(dir, ".config-*.tmp")
	if err != nil {
		return fmt.Errorf("config: save: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the rename there is nothing left to remove
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("config: save: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("config: save %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("config: save %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("config: save %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("config: save %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
