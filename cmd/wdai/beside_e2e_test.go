package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runBeside runs a wdai CLI command in development with no DATABASE_URL and
// the given data folder, as a person would in a second terminal.
func runBeside(t *testing.T, dataDir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), wdaiBin, args...)
	cmd.Env = append(baseEnv(), "WDAI_DATA_DIR="+dataDir, "LOG_FORMAT=text")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestCLIBesideRunningServer is the "CLI beside the server" acceptance:
// while `wdai serve` runs the embedded database, `wdai job run
// mailchimp_resync` and `wdai dlq list` reach it through the URL the server
// wrote into WDAI_DATA_DIR, and say nothing about the embedded cluster. The
// server's ready line names the URL without its password, and the human
// line names GraphiQL. Without the URL file, the lock error names
// WDAI_DATA_DIR.
func TestCLIBesideRunningServer(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	env := map[string]string{"WDAI_DATA_DIR": dataDir}
	srv := start(t, env, "serve")
	srv.waitReady(t, 60*time.Second)
	t.Cleanup(func() {
		if d := embeddedDataDir(t, srv.output()); strings.HasPrefix(d, os.TempDir()) && d != dataDir {
			_ = os.RemoveAll(filepath.Dir(d))
		}
	})

	urlFile := filepath.Join(dataDir, "database-url")
	raw, err := os.ReadFile(urlFile)
	if err != nil {
		t.Fatalf("the server wrote no %s: %v", urlFile, err)
	}
	if fi, _ := os.Stat(urlFile); fi.Mode().Perm() != 0o600 {
		t.Errorf("%s mode %v, want 0600", urlFile, fi.Mode().Perm())
	}
	dbURL := strings.TrimSpace(string(raw))
	_, afterUser, _ := strings.Cut(dbURL, "postgres:")
	password, _, _ := strings.Cut(afterUser, "@")
	if len(password) < 32 {
		t.Fatalf("database URL carries no password: %q", dbURL)
	}
	// The human lines are written beside the listener's start, which
	// readiness may beat on a loaded machine: give them a moment.
	graphiQL := "GraphiQL: http://" + srv.addr + "/"
	out := srv.output()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out, graphiQL) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		out = srv.output()
	}
	if strings.Contains(out, password) {
		t.Errorf("the server log holds the database password:\n%s", out)
	}
	if !strings.Contains(out, `"url":"postgres://postgres:xxxxx@127.0.0.1:`) || !strings.Contains(out, urlFile) {
		t.Errorf("no ready line naming the (redacted) URL and %s:\n%s", urlFile, out)
	}
	if !strings.Contains(out, graphiQL) {
		t.Errorf("no human GraphiQL line for %s:\n%s", srv.addr, out)
	}

	for _, args := range [][]string{{"job", "run", "mailchimp_resync"}, {"dlq", "list"}} {
		got, err := runBeside(t, dataDir, args...)
		if err != nil {
			t.Fatalf("wdai %s beside the server: %v\n%s", strings.Join(args, " "), err, got)
		}
		if strings.Contains(got, "pgembed") || strings.Contains(got, "embedded postgres") {
			t.Errorf("wdai %s talks about the embedded cluster:\n%s", strings.Join(args, " "), got)
		}
		t.Logf("wdai %s:\n%s", strings.Join(args, " "), got)
	}

	// Without the URL file the CLI cannot know the URL: the error says which
	// data folder is in use and how to choose another.
	if err := os.Rename(urlFile, urlFile+".away"); err != nil {
		t.Fatal(err)
	}
	got, err := runBeside(t, dataDir, "dlq", "list")
	if err == nil || !strings.Contains(got, "WDAI_DATA_DIR="+dataDir) {
		t.Errorf("dlq list without the URL file: err %v, output:\n%s", err, got)
	}
	if err := os.Rename(urlFile+".away", urlFile); err != nil {
		t.Fatal(err)
	}
	srv.stop(t, syscall.SIGINT)
	if _, err := os.Stat(urlFile); !os.IsNotExist(err) {
		t.Errorf("%s left behind after the server stopped (stat: %v)", urlFile, err)
	}
}
