package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/womendefiningai/platform/internal/testdb"
)

// wdaiBin is the binary under test, built once by TestMain.
var wdaiBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wdai-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	wdaiBin = filepath.Join(dir, "wdai")
	build := exec.CommandContext(context.Background(), "go", "build", "-o", wdaiBin, ".") // TestMain has no test context
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build wdai:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// process is a running wdai with its combined output captured.
type process struct {
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
}

func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

type lockedWriter struct{ p *process }

func (w lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.out.Write(b)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().String()
}

// httpGet is http.Get bound to the test's context.
func httpGet(t *testing.T, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	return http.DefaultClient.Do(req)
}

// baseEnv is the test process environment without anything wdai reads.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "DATABASE_URL", "WDAI_ENV", "HTTP_ADDR", "WDAI_DATA_DIR", "LOG_LEVEL", "METRICS_ADDR", "LOG_FORMAT":
			continue
		}
		env = append(env, kv)
	}
	// The tests read wdai's log records as JSON (development's default is text).
	return append(env, "LOG_FORMAT=json")
}

func start(t *testing.T, env map[string]string, args ...string) *process {
	t.Helper()
	p := &process{addr: freeAddr(t), done: make(chan error, 1)}
	// Not t.Context(): that would SIGKILL wdai when the test ends, before the
	// cleanup below stops it with SIGTERM (which also stops an embedded
	// cluster); tests signal the process themselves.
	p.cmd = exec.CommandContext(context.Background(), wdaiBin, args...)
	p.cmd.Env = append(baseEnv(), "HTTP_ADDR="+p.addr)
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout, p.cmd.Stderr = lockedWriter{p}, lockedWriter{p}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case err := <-p.done:
				t.Logf("wdai stopped at cleanup: %v", err)
			case <-time.After(30 * time.Second):
				_ = p.cmd.Process.Kill()
			}
		}
	})
	return p
}

// waitReady polls /readyz until it answers 200.
func (p *process) waitReady(t *testing.T, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			t.Fatalf("wdai exited before ready (%v):\n%s", err, p.output())
		default:
		}
		resp, err := httpGet(t, "http://"+p.addr+"/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("wdai not ready within %s:\n%s", within, p.output())
}

func (p *process) stop(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("wdai exited with %v after %v:\n%s", err, sig, p.output())
		}
	case <-time.After(45 * time.Second):
		t.Fatalf("wdai did not exit after %v:\n%s", sig, p.output())
	}
}

func (p *process) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := <-p.done; err == nil {
		t.Fatal("wdai exited cleanly after SIGKILL")
	}
}

func queryTiers(t *testing.T, addr string) []string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+addr+"/graphql",
		strings.NewReader(`{"query":"{ membershipTiers { id name } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var body struct {
		Data struct {
			MembershipTiers []struct{ ID, Name string }
		}
		Errors []any
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("decode graphql response: %v", err)
	}
	if resp.StatusCode != http.StatusOK || len(body.Errors) > 0 {
		t.Fatalf("graphql status %d errors %v", resp.StatusCode, body.Errors)
	}
	var ids []string
	for _, tr := range body.Data.MembershipTiers {
		ids = append(ids, tr.ID)
	}
	return ids
}

func TestServeAgainstDatabaseURLInProduction(t *testing.T) {
	t.Parallel()
	metricsAddr := freeAddr(t)
	p := start(t, map[string]string{"WDAI_ENV": "production", "DATABASE_URL": pricedTiersURL(t, testdb.NewURL(t)), "METRICS_ADDR": metricsAddr}, "serve")
	p.waitReady(t, 30*time.Second)

	if got := strings.Join(queryTiers(t, p.addr), ","); got != "community,professional,leader" {
		t.Fatalf("tiers = %s", got)
	}
	resp, err := httpGet(t, "http://"+p.addr+"/")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GraphiQL answered %d in production, want 404", resp.StatusCode)
	}
	// Metrics are served on METRICS_ADDR only, never on the public listener.
	resp, err = httpGet(t, "http://"+p.addr+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("public /metrics answered %d, want 404", resp.StatusCode)
	}
	resp, err = httpGet(t, "http://"+metricsAddr+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	for _, want := range []string{"go_goroutines", `http_requests_total{method="POST",route="/graphql",status="200"} 1`} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	p.stop(t, syscall.SIGTERM)

	// One JSON line per request, each with a request id.
	requests := 0
	sc := bufio.NewScanner(strings.NewReader(p.output()))
	for sc.Scan() {
		var entry map[string]any
		if err := json.Unmarshal(sc.Bytes(), &entry); err != nil {
			t.Fatalf("log line is not JSON: %q", sc.Text())
		}
		if entry["msg"] == "http request" {
			requests++
			if id, _ := entry["request_id"].(string); id == "" {
				t.Errorf("request log without request_id: %v", entry)
			}
		}
	}
	if requests < 4 {
		t.Errorf("logged %d requests, want at least 4", requests)
	}
}

func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	t.Parallel()
	p := start(t, map[string]string{"DATABASE_URL": pricedTiersURL(t, testdb.NewURL(t))}, "serve")
	p.waitReady(t, 30*time.Second)

	// Hold a connection mid-request: headers sent, body not yet complete.
	conn, err := (&net.Dialer{}).DialContext(t.Context(), "tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	body := `{"query":"{ membershipTiers { id } }"}`
	fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:10])
	time.Sleep(200 * time.Millisecond)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	fmt.Fprint(conn, body[10:])
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request lost on shutdown: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(got, []byte("community")) {
		t.Fatalf("in-flight request = %d %s", resp.StatusCode, got)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, p.output())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("wdai did not exit after SIGTERM")
	}
}

func TestBadConfigurationExitsWithOneLinePerProblem(t *testing.T) {
	t.Parallel()
	cmd := exec.CommandContext(t.Context(), wdaiBin, "serve")
	cmd.Env = append(baseEnv(), "WDAI_ENV=production", "HTTP_ADDR=nonsense")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("exit = %v, want non-zero; output:\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{"\n  DATABASE_URL: required when WDAI_ENV=production", "\n  HTTP_ADDR: must be host:port"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
}

func TestProductionRefusesDatabaseBehindUntilMigrated(t *testing.T) {
	t.Parallel()
	env := []string{"WDAI_ENV=production", "DATABASE_URL=" + testdb.NewURL(t)}
	run := func(args ...string) (string, error) {
		cmd := exec.CommandContext(t.Context(), wdaiBin, args...)
		cmd.Env = append(append(baseEnv(), env...), "HTTP_ADDR="+freeAddr(t))
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("migrate", "down"); err != nil || !strings.Contains(out, "rolled back") {
		t.Fatalf("migrate down: %v\n%s", err, out)
	}
	if out, err := run("migrate", "status"); err != nil || !strings.Contains(out, "pending") {
		t.Fatalf("migrate status: %v\n%s", err, out)
	}
	out, err := run("serve")
	if err == nil || !strings.Contains(out, "run `wdai migrate up`") {
		t.Fatalf("serve on a database behind: err=%v\n%s", err, out)
	}
	if out, err := run("migrate", "up"); err != nil || !strings.Contains(out, "applied") {
		t.Fatalf("migrate up: %v\n%s", err, out)
	}
	p := start(t, map[string]string{"WDAI_ENV": "production", "DATABASE_URL": strings.TrimPrefix(env[1], "DATABASE_URL=")}, "serve")
	p.waitReady(t, 30*time.Second)
	p.stop(t, syscall.SIGTERM)
}
