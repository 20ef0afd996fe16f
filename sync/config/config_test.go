package config

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tsync "teleread/sync"
)

// memKeyring is an in-memory Secrets; broken makes every call fail the way
// a machine without a keyring does.
type memKeyring struct {
	m      map[string]string
	broken bool
}

func (k *memKeyring) Get(key string) (string, error) {
	if k.broken {
		return "", errors.New("no secret service on the bus")
	}
	s, ok := k.m[key]
	if !ok {
		return "", ErrNoSecret
	}
	return s, nil
}

func (k *memKeyring) Set(key, secret string) error {
	if k.broken {
		return ErrNoKeyring
	}
	k.m[key] = secret
	return nil
}

func (k *memKeyring) Delete(key string) error { delete(k.m, key); return nil }

func useKeyring(t *testing.T, k *memKeyring) {
	old := Keyring
	Keyring = k
	t.Cleanup(func() { Keyring = old })
}

// TestSaveKeepsSecretsOutOfTheFile: Save writes the fields it knows, keeps
// the keys it does not know, leaves the secret out of the file (also one the
// file held in clear before) and in the keyring, writes mode 0600; Load gives
// the secret back from the keyring.
func TestSaveKeepsSecretsOutOfTheFile(t *testing.T) {
	tests := []struct {
		name   string
		conf   Config
		secret string
	}{
		{"basic", Config{Archive: "https://pacs.example.org/dicom-web", Auth: "basic", User: "ann", Password: "pw-basic-1"}, "pw-basic-1"},
		{"bearer", Config{Archive: "https://pacs.example.org/dicom-web", Auth: "bearer", Token: "tok-bearer-2"}, "tok-bearer-2"},
		{"oauth2", Config{Archive: "https://pacs.example.org/dicom-web", Auth: "oauth2",
			OAuth2: &OAuth2{TokenURL: "https://login.example.org/token", ClientID: "teleread", ClientSecret: "cs-oauth-3", Scopes: []string{"dicom"}}}, "cs-oauth-3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kr := &memKeyring{m: map[string]string{}}
			useKeyring(t, kr)
			path := filepath.Join(t.TempDir(), "teleread", "config.json")
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				t.Fatal(err)
			}
			before := `{"password": "old-clear-secret", "future_option": {"x": [1, 2]}, "archive": "https://old.example.org"}`
			if err := os.WriteFile(path, []byte(before), 0o600); err != nil {
				t.Fatal(err)
			}
			c := tc.conf
			c.Reader = "Smith^Ann"
			c.TurnaroundMinutes = tsync.TurnaroundMinutes{STAT: 30, High: 60, Routine: 240}
			if err := Save(path, c); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{tc.secret, "old-clear-secret"} {
				if strings.Contains(string(b), s) {
					t.Errorf("the file holds the secret %q in clear:\n%s", s, b)
				}
			}
			var doc map[string]json.RawMessage
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatalf("the file is not JSON: %v\n%s", err, b)
			}
			if string(doc["future_option"]) == "" || !strings.Contains(string(doc["future_option"]), "[") {
				t.Errorf("an unknown key was not kept: %s", b)
			}
			if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("file mode %v (%v); want 0600", st.Mode().Perm(), err)
			}
			if len(kr.m) != 1 {
				t.Errorf("keyring holds %d secrets; want 1", len(kr.m))
			}
			t.Setenv("TELEREAD_CONFIG", path)
			got, err := Load()
			if err != nil {
				t.Fatal(err)
			}
			if p := got.secret(); p == nil || *p != tc.secret {
				t.Errorf("Load did not take the secret back from the keyring: %+v", got)
			}
			if got.Archive != c.Archive || got.Reader != c.Reader || got.Turnaround().For(tsync.PrioritySTAT) != 30*time.Minute {
				t.Errorf("Load after Save: %+v", got)
			}
			if _, err := got.Client(); err != nil {
				t.Errorf("client from the saved configuration: %v", err)
			}
		})
	}
}

// TestSaveWithoutKeyringRefuses: where no keyring can keep the secret, Save
// writes nothing and says to use token_file; a token_file needs no keyring.
func TestSaveWithoutKeyringRefuses(t *testing.T) {
	useKeyring(t, &memKeyring{m: map[string]string{}, broken: true})
	path := filepath.Join(t.TempDir(), "config.json")
	err := Save(path, Config{Archive: "https://pacs.example.org/dicom-web", Auth: "bearer", Token: "tok"})
	if !errors.Is(err, ErrNoKeyring) || !strings.Contains(err.Error(), "token_file") {
		t.Fatalf("Save without a keyring: %v; want ErrNoKeyring naming token_file", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a file was written although the secret could not be kept: %v", err)
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Save(path, Config{Archive: "https://pacs.example.org/dicom-web", Auth: "bearer", TokenFile: tokenFile}); err != nil {
		t.Fatalf("Save with a token_file: %v", err)
	}
}

// TestLoadFileIgnoresEnvironment: what Settings edit is the file alone; the
// environment's overrides are not written back into it.
func TestLoadFileIgnoresEnvironment(t *testing.T) {
	useKeyring(t, &memKeyring{m: map[string]string{}})
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(`{"archive": "https://file.example.org", "turnaround_minutes": 7, "priors": 0}`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TELEREAD_CONFIG", path)
	t.Setenv("TELEREAD_ARCHIVE", "https://env.example.org")
	env, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	file, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if env.Archive != "https://env.example.org" || file.Archive != "https://file.example.org" {
		t.Errorf("Load %q, LoadFile %q", env.Archive, file.Archive)
	}
	if file.PriorsPerStudy() != 0 || (Config{}).PriorsPerStudy() != DefaultPriors {
		t.Errorf("priors: explicit 0 read as %d, absent as %d", file.PriorsPerStudy(), Config{}.PriorsPerStudy())
	}
	tt := file.Turnaround()
	if tt.For(tsync.PrioritySTAT) != 7*time.Minute || tt.For(tsync.PriorityRoutine) != 7*time.Minute {
		t.Errorf("a single turnaround number is not every priority's: %+v", tt)
	}
}
