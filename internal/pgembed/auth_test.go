package pgembed

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestOtherLocalUserCannotConnect: the cluster answers only to its owner.
// Over TCP a login without the password, or with a wrong one, is refused;
// as root, psql run as the unprivileged user nobody can use neither TCP nor
// the Unix socket. The URL (which carries the password) works.
func TestOtherLocalUserCannotConnect(t *testing.T) {
	requireBinaries(t)
	t.Parallel()
	c := start(t, filepath.Join(t.TempDir(), "pg"))
	t.Cleanup(func() { _ = c.Remove(context.Background()) })

	conn := connect(t, c) // c.URL: the password works
	conn.Close(t.Context())

	tcp := fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=disable connect_timeout=5", c.Port())
	for name, dsn := range map[string]string{
		"no password":    tcp,
		"wrong password": tcp + " password=" + strings.Repeat("0", 64),
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		cc, err := pgx.Connect(ctx, dsn)
		cancel()
		if err == nil {
			cc.Close(t.Context())
			t.Fatalf("%s: a TCP login succeeded", name)
		}
		if !strings.Contains(err.Error(), "password") {
			t.Errorf("%s: err = %v, want a password authentication failure", name, err)
		}
	}

	fi, err := os.Stat(filepath.Join(c.DataDir(), passwordFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("password file: %v mode %v, want 0600", err, fi.Mode().Perm())
	}
	if fi, err := os.Stat(c.SocketDir()); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("socket folder %s: mode %v err %v, want no access for group or others", c.SocketDir(), fi.Mode().Perm(), err)
	}

	runuser, err1 := exec.LookPath("runuser")
	psql, err2 := exec.LookPath("psql")
	if os.Geteuid() != 0 || err1 != nil || err2 != nil {
		t.Skip("another-user check needs root, runuser and psql; the TCP checks above ran")
	}
	for name, args := range map[string][]string{
		"tcp":    {"-h", "127.0.0.1", "-p", strconv.Itoa(c.Port())},
		"socket": {"-h", c.SocketDir(), "-p", strconv.Itoa(c.Port())},
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		argv := append([]string{"-u", "nobody", "--", psql, "-w", "-X", "-U", "postgres", "-d", "postgres"}, args...)
		argv = append(argv, "-c", "COPY (SELECT 1) TO PROGRAM 'true'")
		cmd := exec.CommandContext(ctx, runuser, argv...)
		cmd.Dir = "/"
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/nonexistent"}
		out, err := cmd.CombinedOutput()
		cancel()
		if err == nil {
			t.Fatalf("%s: user nobody connected:\n%s", name, out)
		}
		msg := string(out)
		if !strings.Contains(msg, "password") && !strings.Contains(msg, "Permission denied") {
			t.Errorf("%s: psql as nobody failed for another reason: %v\n%s", name, err, out)
		}
		t.Logf("%s as nobody: %s", name, strings.TrimSpace(msg))
	}
}
