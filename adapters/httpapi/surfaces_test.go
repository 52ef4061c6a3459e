package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/httpapi"
)

// The raw error of a failing check (a DSN, a host, a version) is not the
// public's business: /readyz names the check, the log keeps the error.
func TestReadyzNamesTheFailingCheckWithoutItsError(t *testing.T) {
	t.Parallel()
	secret := "dial tcp 10.1.2.3:5432: password authentication failed for user wdai_prod"
	f := newServer(t, httpapi.Config{Ready: []httpapi.Check{
		{Name: "database", Func: func(context.Context) error { return errors.New(secret) }},
		{Name: "migrations", Func: func(context.Context) error { return nil }},
	}})
	resp, body := get(t, f.srv.URL+"/readyz")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/readyz = %d, want 503", resp.StatusCode)
	}
	if strings.Contains(body, "10.1.2.3") || strings.Contains(body, "password") {
		t.Fatalf("/readyz leaks the raw error: %s", body)
	}
	var parsed struct {
		Checks  map[string]string
		Failing []string
	}
	if err := json.Unmarshal([]byte(body), &parsed); err != nil {
		t.Fatal(err)
	}
	if parsed.Checks["database"] != "failed" || parsed.Checks["migrations"] != "ok" || len(parsed.Failing) != 1 || parsed.Failing[0] != "database" {
		t.Fatalf("/readyz = %s, want database named as failing", body)
	}
	if lines := waitForLogLines(t, f.logs, 2); !strings.Contains(strings.Join(lines, "\n"), "10.1.2.3") {
		t.Fatalf("the raw error is not in the log: %s", f.logs.String())
	}
}

func TestMetricsAreNotOnThePublicListener(t *testing.T) {
	t.Parallel()
	f := newServer(t, httpapi.Config{})
	get(t, f.srv.URL+"/healthz")
	resp, body := get(t, f.srv.URL+"/metrics")
	if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "http_requests_total") {
		t.Fatalf("public /metrics = %d, want 404", resp.StatusCode)
	}
	resp, body = get(t, f.metrics.URL+"/metrics")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `http_requests_total{method="GET",route="GET /healthz",status="200"} 1`) {
		t.Fatalf("metrics listener /metrics = %d:\n%s", resp.StatusCode, body)
	}
}

// 3,000 requests with invented methods used to add one series per token;
// now they share the "other" label, and routes are mux patterns.
func TestMetricLabelsStayBoundedUnderInventedMethods(t *testing.T) {
	t.Parallel()
	f := newServer(t, httpapi.Config{})
	for i := range 300 {
		req, err := http.NewRequestWithContext(t.Context(), fmt.Sprintf("X%dY", i), f.srv.URL+fmt.Sprintf("/nope/%d", i), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	_, body := get(t, f.metrics.URL+"/metrics")
	series := 0
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "http_requests_total{") {
			series++
			if !strings.Contains(line, `method="other"`) && !strings.Contains(line, `method="GET"`) {
				t.Errorf("unbounded method label: %s", line)
			}
		}
	}
	if series == 0 || series > 3 {
		t.Fatalf("http_requests_total has %d series after 300 invented methods and paths, want at most 3:\n%s", series, body)
	}
}

// A client that hangs up is not a server fault: no ERROR line, and the line
// that is written says so.
func TestClientDisconnectIsNotLoggedAsError(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	f := newServer(t, httpapi.Config{GraphQL: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // the server watches the connection once the body is read
		close(started)
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
		http.Error(w, "canceled", http.StatusInternalServerError)
	})})
	ctx, cancel := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.srv.URL+"/graphql", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = resp.Body.Close()
		}
	}()
	<-started
	cancel()
	<-done
	// The access log is written after the handler returns, which may be
	// after the client has given up.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(f.logs.String(), "http request") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	var entry map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(f.logs.String())), &entry); err != nil {
		t.Fatalf("log = %q: %v", f.logs.String(), err)
	}
	if entry["level"] == "ERROR" || entry["client_gone"] != true {
		t.Fatalf("disconnect logged as %v", entry)
	}
}

// Any line logged with a request's context carries its id, not only the
// access log.
func TestRequestIDIsOnLinesLoggedWithTheRequestContext(t *testing.T) {
	t.Parallel()
	var inner *slog.Logger
	f := newServer(t, httpapi.Config{GraphQL: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ErrorContext(r.Context(), "resolver failed", "path", "me")
		w.WriteHeader(http.StatusOK)
	})})
	inner = slog.New(httpapi.ContextLogHandler(slog.NewJSONHandler(f.logs, nil)))
	get(t, f.srv.URL+"/graphql", httpapi.RequestIDHeader, "req-42")
	deadline := time.Now().Add(2 * time.Second)
	both := func() bool {
		out := f.logs.String()
		return strings.Contains(out, "resolver failed") && strings.Contains(out, "http request")
	}
	for !both() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	lines := waitForLogLines(t, f.logs, 2)
	if len(lines) != 2 {
		t.Fatalf("want the resolver line and the access line, got:\n%s", f.logs.String())
	}
	for _, line := range lines {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatal(err)
		}
		if entry["request_id"] != "req-42" {
			t.Errorf("line without the request id: %s", line)
		}
	}
}
