package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/womendefiningai/platform/adapters/httpapi"
)

type fixture struct {
	srv     *httptest.Server
	metrics *httptest.Server // the separate metrics listener
	logs    *syncWriter
}

func newServer(t *testing.T, cfg httpapi.Config) fixture {
	t.Helper()
	logs := &syncWriter{buf: &bytes.Buffer{}}
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.GraphQL == nil {
		cfg.GraphQL = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-Panic") != "" {
				panic("resolver exploded")
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"data":{}}`)
		})
	}
	h, err := httpapi.NewHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	metrics := httptest.NewServer(httpapi.MetricsHandler(cfg.Registry))
	t.Cleanup(metrics.Close)
	return fixture{srv: srv, metrics: metrics, logs: logs}
}

func get(t *testing.T, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestHealthzIsAlwaysOK(t *testing.T) {
	t.Parallel()
	f := newServer(t, httpapi.Config{Ready: []httpapi.Check{{Name: "database", Func: func(context.Context) error { return errors.New("down") }}}})
	resp, _ := get(t, f.srv.URL+"/healthz")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz = %d, want 200 even when not ready", resp.StatusCode)
	}
}

func TestReadyzReflectsChecks(t *testing.T) {
	t.Parallel()
	ok := func(context.Context) error { return nil }
	down := func(context.Context) error {
		return errors.New("database schema is at version 1 but this binary needs 2")
	}
	tests := []struct {
		name   string
		checks []httpapi.Check
		want   int
	}{
		{"all pass", []httpapi.Check{{Name: "database", Func: ok}, {Name: "migrations", Func: ok}}, http.StatusOK},
		{"migrations behind", []httpapi.Check{{Name: "database", Func: ok}, {Name: "migrations", Func: down}}, http.StatusServiceUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newServer(t, httpapi.Config{Ready: tc.checks})
			resp, body := get(t, f.srv.URL+"/readyz")
			if resp.StatusCode != tc.want {
				t.Fatalf("/readyz = %d (%s), want %d", resp.StatusCode, body, tc.want)
			}
			var parsed struct{ Checks map[string]string }
			if err := json.Unmarshal([]byte(body), &parsed); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if len(parsed.Checks) != len(tc.checks) {
				t.Fatalf("checks = %v", parsed.Checks)
			}
		})
	}
}

func TestRequestIDIsEchoedOrMintedAndLoggedOncePerRequest(t *testing.T) {
	t.Parallel()
	f := newServer(t, httpapi.Config{})
	resp, _ := get(t, f.srv.URL+"/healthz", httpapi.RequestIDHeader, "edge-123")
	if got := resp.Header.Get(httpapi.RequestIDHeader); got != "edge-123" {
		t.Fatalf("request id = %q, want the caller's", got)
	}
	resp, _ = get(t, f.srv.URL+"/healthz", httpapi.RequestIDHeader, "bad id with spaces")
	minted := resp.Header.Get(httpapi.RequestIDHeader)
	if minted == "" || strings.Contains(minted, " ") {
		t.Fatalf("minted id = %q", minted)
	}

	lines := waitForLogLines(t, f.logs, 2)
	if len(lines) != 2 {
		t.Fatalf("want one log line per request, got %d:\n%s", len(lines), f.logs.String())
	}
	var entry map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &entry); err != nil {
		t.Fatalf("log line is not JSON: %v", err)
	}
	if entry["request_id"] != "edge-123" || entry["route"] != "GET /healthz" || entry["status"] != float64(200) {
		t.Fatalf("log entry = %v", entry)
	}
}

func TestMetricsCountRequestsByRouteAndStatus(t *testing.T) {
	t.Parallel()
	f := newServer(t, httpapi.Config{})
	get(t, f.srv.URL+"/healthz")
	get(t, f.srv.URL+"/healthz")
	get(t, f.srv.URL+"/no-such-thing")
	_, body := get(t, f.metrics.URL+"/metrics")
	for _, want := range []string{
		`http_requests_total{method="GET",route="GET /healthz",status="200"} 2`,
		`http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`http_request_duration_seconds_bucket{method="GET",route="GET /healthz",status="200"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestPanicBecomes500AndIsLogged(t *testing.T) {
	t.Parallel()
	f := newServer(t, httpapi.Config{})
	resp, _ := get(t, f.srv.URL+"/graphql", "X-Panic", "1")
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status = %d, want 500", resp.StatusCode)
	}
	if lines := waitForLogLines(t, f.logs, 2); !strings.Contains(strings.Join(lines, "\n"), "resolver exploded") {
		t.Fatalf("panic not logged: %s", f.logs.String())
	}
}

func TestGraphiQLOnlyWhenEnabled(t *testing.T) {
	t.Parallel()
	off := newServer(t, httpapi.Config{})
	if resp, _ := get(t, off.srv.URL+"/"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET / without GraphiQL = %d, want 404", resp.StatusCode)
	}
	on := newServer(t, httpapi.Config{GraphiQL: true})
	resp, body := get(t, on.srv.URL+"/")
	if resp.StatusCode != http.StatusOK || !strings.Contains(strings.ToLower(body), "graphiql") {
		t.Errorf("GET / with GraphiQL = %d", resp.StatusCode)
	}
}
