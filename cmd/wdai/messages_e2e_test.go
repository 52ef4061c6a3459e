package main_test

import (
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/womendefiningai/platform/internal/testdb"
)

// runWdai runs the binary with the environment given and returns its output.
func runWdai(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), wdaiBin, args...)
	cmd.Env = append(baseEnv(), env...)
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// The messages a newcomer met: each says what is wrong and what to do.
func TestMessagesSayWhatToDo(t *testing.T) {
	t.Parallel()
	busy, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, c := range []struct {
		name string
		env  []string
		args []string
		fail bool
		want []string
		not  []string
	}{
		{name: "serve --help", args: []string{"serve", "--help"},
			want: []string{`serve HTTP only; run "wdai worker" separately`}, not: []string{"--no-worker wdai worker"}},
		{name: "job run without a name", args: []string{"job", "run"}, fail: true,
			want: []string{"name one job to run: luma_approval, slack_sync, mailchimp_resync, stripe_reconcile"}},
		{name: "LOG_LEVEL=verbose", env: []string{"LOG_LEVEL=verbose"}, args: []string{"serve"}, fail: true,
			want: []string{"LOG_LEVEL: must be debug, info, warn or error"}},
		{name: "malformed DATABASE_URL", env: []string{"DATABASE_URL=postgres://ada:s3cret@db:notaport/x"}, args: []string{"migrate", "status"}, fail: true,
			want: []string{"invalid port", "expected postgres://USER:PASSWORD@HOST:5432/DBNAME"}, not: []string{"s3cret", "*pgconn"}},
		{name: "unreachable DATABASE_URL", env: []string{"DATABASE_URL=postgres://ada@127.0.0.1:1/x?connect_timeout=2"}, args: []string{"migrate", "status"}, fail: true,
			want: []string{"cannot reach the database"}},
		{name: "port clash", env: []string{"HTTP_ADDR=" + busy.Addr().String(), "DATABASE_URL=postgres://ada@127.0.0.1:1/x"}, args: []string{"serve"}, fail: true,
			want: []string{"address is in use", "HTTP_ADDR"}},
	} {
		out, err := runWdai(t, c.env, c.args...)
		if (err != nil) != c.fail {
			t.Errorf("%s: err = %v, want failure %t:\n%s", c.name, err, c.fail, out)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", c.name, w, out)
			}
		}
		for _, n := range c.not {
			if strings.Contains(out, n) {
				t.Errorf("%s: output has %q:\n%s", c.name, n, out)
			}
		}
		if c.name == "unreachable DATABASE_URL" && strings.Count(out, "connection refused") != 1 {
			t.Errorf("%s: the refusal is not said exactly once:\n%s", c.name, out)
		}
	}
}

// A feature whose provider has no credentials says which variable to set.
func TestNotConfiguredNamesTheVariable(t *testing.T) {
	t.Parallel()
	dbURL, dataDir := testdb.NewURL(t), t.TempDir()
	token, err := runWdai(t, []string{"DATABASE_URL=" + dbURL, "WDAI_DATA_DIR=" + dataDir}, "dev", "token", "--email", "ada@example.com")
	if err != nil {
		t.Fatalf("dev token: %v\n%s", err, token)
	}
	token = strings.TrimSpace(strings.Split(token, "\n")[0])
	p := start(t, map[string]string{"DATABASE_URL": dbURL, "WDAI_DATA_DIR": dataDir}, "serve")
	p.waitReady(t, 60*time.Second)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+p.addr+"/graphql",
		strings.NewReader(`{"query":"mutation { startCheckout(tierId: \"community\") }"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if !strings.Contains(string(body), "NOT_CONFIGURED") || !strings.Contains(string(body), "set STRIPE_SECRET_KEY") {
		t.Errorf("startCheckout without Stripe: %s", body)
	}
}
