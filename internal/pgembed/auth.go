package pgembed

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// passwordFile is the file in the data folder holding the postgres role's
// password (mode 0600, 64 hex digits from crypto/rand).
const passwordFile = "wdai-password"

// hbaConf is the client authentication written into the data folder at every
// start: the Unix socket (in a folder only the server's user and root can
// enter) trusts its callers, and TCP on 127.0.0.1 asks for the password.
// Nothing else may connect.
const hbaConf = `# Written by pgembed at every start; edits are overwritten.
# The Unix socket lives in a folder only the server's owner (and root) can enter.
local all all trust
# TCP, loopback only: the password kept in ` + passwordFile + `.
host  all all 127.0.0.1/32 scram-sha-256
`

// Password returns the postgres role's password (see [Cluster.URL]).
func (c *Cluster) Password() string { return c.password }

// preparePassword reads the password file of an initialised data folder, or
// writes a new random one, and writes pg_hba.conf. It runs before postgres
// starts.
func (c *Cluster) preparePassword() error {
	path := filepath.Join(c.dataDir, passwordFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil && len(strings.TrimSpace(string(b))) >= 32:
		c.password = strings.TrimSpace(string(b))
	case err == nil || errors.Is(err, fs.ErrNotExist):
		raw := make([]byte, 32)
		if _, err := rand.Read(raw); err != nil {
			return fmt.Errorf("pgembed: password: %w", err)
		}
		c.password = hex.EncodeToString(raw)
		if err := c.writeOwned(path, c.password+"\n"); err != nil {
			return err
		}
	default:
		return fmt.Errorf("pgembed: read %s: %w", path, err)
	}
	return c.writeOwned(filepath.Join(c.dataDir, "pg_hba.conf"), hbaConf)
}

// writeOwned writes a 0600 file in the data folder, owned by the server user.
func (c *Cluster) writeOwned(path, content string) error {
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		return fmt.Errorf("pgembed: write %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("pgembed: chmod %s: %w", path, err)
	}
	if c.srv != nil {
		if err := os.Chown(path, int(c.srv.uid), int(c.srv.gid)); err != nil {
			return fmt.Errorf("pgembed: chown %s: %w", path, err)
		}
	}
	return nil
}

// applyPassword sets the postgres role's password over the Unix socket, so
// that TCP connections (which need it) work. Until then nobody can connect
// over TCP at all: the role has no password yet on a new cluster.
func (c *Cluster) applyPassword(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	dsn := fmt.Sprintf("host=%s port=%s user=postgres dbname=postgres sslmode=disable",
		c.sockDir, strconv.Itoa(c.port))
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("pgembed: connect over the Unix socket to set the password: %w", err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	// The password is hex, so quoting it is exact; ALTER ROLE takes no
	// parameters.
	if _, err := conn.Exec(ctx, "SET password_encryption = 'scram-sha-256'"); err != nil {
		return fmt.Errorf("pgembed: set password: %w", err)
	}
	if _, err := conn.Exec(ctx, "ALTER ROLE postgres PASSWORD '"+c.password+"'"); err != nil {
		return fmt.Errorf("pgembed: set password: %w", err)
	}
	return nil
}
