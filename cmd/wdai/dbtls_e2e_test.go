package main_test

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// TestServeRefusesAnUnencryptedRemoteDatabase: wdai serve in production
// exits before connecting when DATABASE_URL may be plain text to another
// machine, and names the fix without printing the password.
func TestServeRefusesAnUnencryptedRemoteDatabase(t *testing.T) {
	t.Parallel()
	cmd := exec.CommandContext(t.Context(), wdaiBin, "serve")
	cmd.Env = append(baseEnv(), "WDAI_ENV=production", "HTTP_ADDR=127.0.0.1:0",
		"DATABASE_URL=postgres://wdai:s3cret@db.example.com:5432/wdai?sslmode=disable")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("exit = %v, want non-zero; output:\n%s", err, out)
	}
	text := string(out)
	if !strings.Contains(text, "DATABASE_URL: the connection to db.example.com may be unencrypted") || !strings.Contains(text, "DATABASE_ALLOW_INSECURE") ||
		strings.Contains(text, "s3cret") {
		t.Fatalf("output does not name the problem and its fix, or carries the password:\n%s", text)
	}
}
