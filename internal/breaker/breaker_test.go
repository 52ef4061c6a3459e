package breaker

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/womendefiningai/platform/ports"
)

// TestBreakerOpensRefusesAndCloses: 3 failures in a row open the breaker;
// while open, calls fail at once as transient with CircuitOpen and a
// RetryAfter, and never reach the server; after OpenFor a trial call that
// succeeds closes it. The metric shows one opening and one closing.
func TestBreakerOpensRefusesAndCloses(t *testing.T) {
	var down atomic.Bool
	var hits atomic.Int64
	down.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		if down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	set := New(Config{Failures: 3, OpenFor: 300 * time.Millisecond}, "stripe", "mailchimp")
	client := set.Client("stripe", nil, 5*time.Second)
	get := func() (int, error) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_ = resp.Body.Close()
		return resp.StatusCode, nil
	}
	for range 3 {
		if code, err := get(); err != nil || code != http.StatusServiceUnavailable {
			t.Fatalf("got %d, %v; want 503", code, err)
		}
	}
	if got := set.State("stripe"); got != "open" {
		t.Fatalf("state %s after 3 failures; want open", got)
	}
	_, err := get()
	te, ok := ports.AsTransient(err)
	if !ok || !te.CircuitOpen || te.Provider != "stripe" || te.RetryAfter <= 0 || te.RetryAfter > 300*time.Millisecond {
		t.Fatalf("open breaker gave %v (%+v); want a transient CircuitOpen error with RetryAfter in (0, 300ms]", err, te)
	}
	if !errors.Is(err, ports.ErrTransient) {
		t.Fatal("errors.Is(err, ports.ErrTransient) is false")
	}
	if hits.Load() != 3 {
		t.Fatalf("server saw %d calls; the open breaker must not call it", hits.Load())
	}
	if got := testutil.ToFloat64(set.state.WithLabelValues("stripe")); got != 2 {
		t.Fatalf("state metric %v; want 2 (open)", got)
	}
	if got := testutil.ToFloat64(set.state.WithLabelValues("mailchimp")); got != 0 {
		t.Fatalf("mailchimp state metric %v; want 0: breakers are per provider", got)
	}
	down.Store(false)
	time.Sleep(350 * time.Millisecond)
	if code, err := get(); err != nil || code != http.StatusOK {
		t.Fatalf("trial call: %d, %v", code, err)
	}
	if got := set.State("stripe"); got != "closed" {
		t.Fatalf("state %s after a successful trial; want closed", got)
	}
	for to, want := range map[string]float64{"open": 1, "half-open": 1, "closed": 1} {
		if got := testutil.ToFloat64(set.transitions.WithLabelValues("stripe", to)); got != want {
			t.Errorf("transitions to %s = %v; want %v", to, got, want)
		}
	}
	if n, err := testutil.GatherAndCount(newRegistry(t, set)); err != nil || n == 0 {
		t.Fatalf("the set gathers %d metrics, %v", n, err)
	}
}

// TestNotFoundDoesNotTrip: 4xx answers are the caller's problem, not
// the provider's, and never open the breaker.
func TestNotFoundDoesNotTrip(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNotFound)
	}))
	defer srv.Close()
	set := New(Config{Failures: 2, OpenFor: time.Minute})
	client := set.Client("clerk", &http.Client{Timeout: time.Second}, 0)
	for range 5 {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	if got := set.State("clerk"); got != "closed" {
		t.Fatalf("state %s after 404s; want closed", got)
	}
}

func newRegistry(t *testing.T, s *Set) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewRegistry()
	if err := reg.Register(s); err != nil {
		t.Fatal(err)
	}
	return reg
}

func TestClassification(t *testing.T) {
	for status, want := range map[int]bool{500: true, 502: true, 503: true, 429: true, 408: true, 400: false, 401: false, 404: false, 409: false, 200: false} {
		if got := StatusTransient(status); got != want {
			t.Errorf("StatusTransient(%d) = %v; want %v", status, got, want)
		}
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"": 0, "7": 7 * time.Second, "-3": 0, "x": 0, "999999999": 24 * time.Hour,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
	} {
		h := http.Header{}
		if v != "" {
			h.Set("Retry-After", v)
		}
		if got := RetryAfter(h, now); got != want {
			t.Errorf("RetryAfter(%q) = %v; want %v", v, got, want)
		}
	}
	// A refused connection is transient; a cancelled call and an
	// unclassified error are not; a permanent error stays permanent.
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, addr, nil)
	_, err := http.DefaultClient.Do(req) //nolint:bodyclose // the call fails
	if err == nil {
		t.Fatal("a closed server answered")
	}
	if got := NetworkTransient("stripe", err); !ports.IsTransient(got) {
		t.Errorf("refused connection %v is not transient", err)
	}
	for _, e := range []error{context.Canceled, errors.New("bad json"), ports.Permanent(context.DeadlineExceeded)} {
		if ports.IsTransient(NetworkTransient("stripe", e)) {
			t.Errorf("%v became transient", e)
		}
	}
	if !ports.IsTransient(NetworkTransient("stripe", context.DeadlineExceeded)) {
		t.Error("a timeout is not transient")
	}
}
