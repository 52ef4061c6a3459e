package main_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/womendefiningai/platform/internal/testdb"
)

// meWith asks /graphql for `me` with the bearer token.
func meWith(t *testing.T, addr, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+addr+"/graphql",
		strings.NewReader(`{"query":"{ me { email role } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestDevTokenDevelopmentOnly is the "dev tokens" acceptance: `wdai dev
// token` creates the person with the role and prints a token that a
// development server accepts as that person; a production server on the
// same database and data folder refuses it (401), and `wdai dev token`
// itself is refused in production.
func TestDevTokenDevelopmentOnly(t *testing.T) {
	t.Parallel()
	dbURL, dataDir := testdb.NewURL(t), t.TempDir()
	run := func(extra ...string) (string, string, error) {
		cmd := exec.CommandContext(t.Context(), wdaiBin, "dev", "token", "--email", "ada@example.com", "--role", "leader")
		cmd.Env = append(baseEnv(), append([]string{"DATABASE_URL=" + dbURL, "WDAI_DATA_DIR=" + dataDir}, extra...)...)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return strings.TrimSpace(stdout.String()), stderr.String(), err
	}
	token, info, err := run()
	if err != nil || !strings.HasPrefix(token, "wdaidev_") {
		t.Fatalf("wdai dev token: %v\nstdout %q\nstderr %s", err, token, info)
	}
	if strings.Contains(info, token) {
		t.Errorf("the token is repeated on stderr (logs): %s", info)
	}

	dev := start(t, map[string]string{"DATABASE_URL": dbURL, "WDAI_DATA_DIR": dataDir}, "serve")
	dev.waitReady(t, 60*time.Second)
	status, body := meWith(t, dev.addr, token)
	var got struct {
		Data struct{ Me struct{ Email, Role string } }
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || status != http.StatusOK ||
		got.Data.Me.Email != "ada@example.com" || got.Data.Me.Role != "LEADER" {
		t.Fatalf("development me with the dev token: %d %s", status, body)
	}
	if status, body := meWith(t, dev.addr, token[:len(token)-4]+"AAAA"); status != http.StatusUnauthorized {
		t.Errorf("development, tampered token: %d %s, want 401", status, body)
	}

	prod := start(t, map[string]string{"WDAI_ENV": "production", "DATABASE_URL": dbURL, "WDAI_DATA_DIR": dataDir}, "serve")
	prod.waitReady(t, 60*time.Second)
	if status, body := meWith(t, prod.addr, token); status == http.StatusOK || strings.Contains(body, "ada@example.com") {
		t.Fatalf("production accepted the dev token: %d %s", status, body)
	} else {
		t.Logf("production refused the dev token: %d %s", status, strings.TrimSpace(body))
	}

	if _, msg, err := run("WDAI_ENV=production"); err == nil || !strings.Contains(msg, "development only") {
		t.Errorf("wdai dev token in production: err %v, stderr %s", err, msg)
	}
}
