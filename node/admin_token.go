package node

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// AdminTokenFile is the name of the generated admin token in the data directory.
const AdminTokenFile = "admin.token"

// adminToken settles the token the admin endpoints take (API.md §7): Config.AdminToken
// when set (`--admin-token`, or STEMEDB_ADMIN_TOKEN through the flag's environment
// variable), else the one in <data-dir>/admin.token, generated on the first start
// without one. The file is created with mode 0600 and fsynced, and a file that other
// users may read is refused rather than trusted: the token is the key to every lens
// upload. Its path is logged, never its content.
func (n *Node) adminToken() (string, error) {
	if n.cfg.AdminToken != "" {
		n.log.Info("admin token from the configuration")
		return n.cfg.AdminToken, nil
	}
	path := filepath.Join(n.cfg.DataDir, AdminTokenFile)
	token, err := readAdminToken(path)
	if errors.Is(err, fs.ErrNotExist) {
		if token, err = createAdminToken(path); err != nil {
			return "", err
		}
		n.log.Info("admin token generated", "path", path)
	} else if err != nil {
		return "", err
	} else {
		n.log.Info("admin token from file", "path", path)
	}
	n.cfg.AdminToken = token
	return token, nil
}

// AdminToken is the token the node's admin endpoints take.
func (n *Node) AdminToken() string { return n.cfg.AdminToken }

func readAdminToken(path string) (string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("admin token: %s has mode %#o, readable by other users: chmod 600 it, or delete it to get a new token", path, perm)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	token := strings.TrimSpace(string(b))
	if token == "" {
		return "", fmt.Errorf("admin token: %s is empty: delete it to get a new token", path)
	}
	return token, nil
}

// createAdminToken writes a new random token (256 bits, hex) to path, which must not
// exist, and makes it durable.
func createAdminToken(path string) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	token := hex.EncodeToString(b[:])
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	_, err = f.WriteString(token + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		_ = os.Remove(path) // a half-written token would lock the admin out
		return "", fmt.Errorf("admin token: %w", err)
	}
	return token, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
