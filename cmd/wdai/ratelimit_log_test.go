package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/womendefiningai/platform/adapters/httpapi"
	"github.com/womendefiningai/platform/graph"
	"github.com/womendefiningai/platform/internal/config"
	"github.com/womendefiningai/platform/ports"
)

// downLimiter is the rate limiter with its database down.
type downLimiter struct{}

func (downLimiter) Take(context.Context, string, int, ports.Rate) (ports.RateDecision, error) {
	return ports.RateDecision{}, errors.New("postgres: rate limit: connection refused")
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// With the database down, the rate limit's ERROR line carries the request
// id of the request, as the access line does, so the two can be joined:
// the binary's logger adds it from the context.
func TestRateLimitErrorLineCarriesTheRequestID(t *testing.T) {
	t.Parallel()
	logs := &lockedBuffer{}
	logger := newLogger(logs, config.Config{LogFormat: config.LogJSON})
	limits := graph.RateLimits{Limiter: downLimiter{}, SignedIn: perMinute(600), Anonymous: perMinute(120),
		ProviderCalls: perMinute(10), Logger: logger}
	h, err := httpapi.NewHandler(httpapi.Config{Logger: logger, Registry: prometheus.NewRegistry(),
		GraphQL: limits.Middleware()(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("served past a failed limit") }))})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ membershipTiers { id } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(httpapi.RequestIDHeader, "req-rl-1")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", rec.Code)
	}
	deadline := time.Now().Add(2 * time.Second)
	for !strings.Contains(logs.String(), "graphql: rate limit") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	var found bool
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		if e["msg"] == "graphql: rate limit" {
			found = true
			if e["level"] != "ERROR" || e["request_id"] != "req-rl-1" {
				t.Fatalf("rate limit line %v, want ERROR with request_id req-rl-1", e)
			}
		}
	}
	if !found {
		t.Fatalf("no rate limit line in:\n%s", logs)
	}
}
