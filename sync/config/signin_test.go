package config

import (
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
)

// TestSignInStaysWithArchive: the sign-in session of the configured archive
// goes only with its origin: ForTarget keeps it for the archive's own
// origin and drops it for another host or a token file, and a configuration
// whose archive was changed (a flag) refuses to build a client rather than
// send the token there.
func TestSignInStaysWithArchive(t *testing.T) {
	var c Config
	if err := json.Unmarshal([]byte(`{"archive": "https://pacs.example.org/dicom-web",
		"oauth2": {"issuer": "https://idp.example.org/realms/x", "client_id": "teleread"}}`), &c); err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	c, err := c.WithSignIn(t.TempDir(), key)
	if err != nil {
		t.Fatal(err)
	}
	if c.SignIn() == nil {
		t.Fatal("no session for an archive with an issuer")
	}
	tests := []struct {
		name, target, tokenFile string
		keep                    bool
	}{
		{"same origin", "https://pacs.example.org/other-root", "", true},
		{"same origin, explicit port", "https://PACS.example.org:443/dicom-web", "", true},
		{"other host", "https://elsewhere.example.org/dicom-web", "", false},
		{"other port", "https://pacs.example.org:8443/dicom-web", "", false},
		{"plain http", "http://pacs.example.org/dicom-web", "", false},
		{"token file", "https://pacs.example.org/dicom-web", "/tmp/token", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.ForTarget(tt.target, tt.tokenFile)
			if (got.SignIn() != nil) != tt.keep || got.SignsIn() != tt.keep {
				t.Errorf("session kept: %v, want %v", got.SignIn() != nil, tt.keep)
			}
		})
	}
	moved := c
	moved.Archive = "https://elsewhere.example.org/dicom-web"
	if _, err := moved.Client(); err == nil || !strings.Contains(err.Error(), "not sent there") {
		t.Errorf("client for another archive with the session: %v", err)
	}
	if _, err := c.Client(); err != nil {
		t.Errorf("client for the archive: %v", err)
	}
}
