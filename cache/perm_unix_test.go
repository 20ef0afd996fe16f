//go:build unix

package cache

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestOpenMakesHomePrivate: index.db was created 0644 and --home pointing at
// an existing 0755 folder let another local user read patients' names from
// it. Whatever the umask and whatever modes the home had, an open cache has a
// 0700 home and 0600 index, WAL, shared-memory and audit files.
func TestOpenMakesHomePrivate(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	tests := []struct {
		name    string
		prepare func(t *testing.T, home string) // leaves the home as another program or an old version did
	}{
		{name: "new home, umask 0", prepare: func(t *testing.T, home string) {}},
		{name: "existing 0755 folder", prepare: func(t *testing.T, home string) {
			if err := os.Chmod(home, 0o755); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "cache left world-readable", prepare: func(t *testing.T, home string) {
			c, err := Open(home)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Audit(AuditImport, "1.2.3", "1 instances"); err != nil {
				t.Fatal(err)
			}
			c.Close()
			for _, d := range []string{"", "files", "tmp", "owners"} {
				if err := os.Chmod(filepath.Join(home, d), 0o777); err != nil {
					t.Fatal(err)
				}
			}
			for _, f := range []string{"index.db", auditFile, auditHead} {
				if err := os.Chmod(filepath.Join(home, f), 0o666); err != nil {
					t.Fatal(err)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := filepath.Join(t.TempDir(), "home")
			if err := os.Mkdir(home, 0o755); err != nil {
				t.Fatal(err)
			}
			tt.prepare(t, home)
			c, err := Open(home)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Audit(AuditRender, "1.2.3", "1 frame"); err != nil {
				t.Fatal(err)
			}
			want := map[string]os.FileMode{
				"": 0o700, "files": 0o700, "tmp": 0o700, "owners": 0o700,
				"index.db": 0o600, "index.db-wal": 0o600, "index.db-shm": 0o600, auditFile: 0o600, auditHead: 0o600,
			}
			for name, mode := range want {
				st, err := os.Stat(filepath.Join(home, name))
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				if got := st.Mode().Perm(); got != mode {
					t.Errorf("%s: mode %04o, want %04o", filepath.Join("HOME", name), got, mode)
				}
			}
		})
	}
}
