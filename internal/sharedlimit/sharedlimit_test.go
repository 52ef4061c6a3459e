package sharedlimit_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/womendefiningai/platform/internal/sharedlimit"
	"github.com/womendefiningai/platform/ports"
)

// refusingLimiter refuses the first n takes of each key, asking for a
// short wait, then allows.
type refusingLimiter struct {
	mu    sync.Mutex
	n     int
	takes map[string]int
}

func (l *refusingLimiter) Take(_ context.Context, key string, _ int, _ ports.Rate) (ports.RateDecision, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.takes[key]++
	if l.takes[key] <= l.n {
		return ports.RateDecision{RetryAfter: 5 * time.Millisecond}, nil
	}
	return ports.RateDecision{Allowed: true}, nil
}

func TestRequestsWaitForTheAllowanceOfTheirTier(t *testing.T) {
	t.Parallel()
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { calls++ }))
	defer srv.Close()
	lim := &refusingLimiter{n: 2, takes: map[string]int{}}
	waits := 0
	tier2 := sharedlimit.Rate{Key: "tier2", Rate: ports.Rate{Limit: 20, Period: time.Minute}}
	tier3 := sharedlimit.Rate{Key: "tier3", Rate: ports.Rate{Limit: 50, Period: time.Minute}}
	rt := sharedlimit.Requests(nil, lim, func(r *http.Request) sharedlimit.Rate {
		if r.URL.Path == "/users.list" {
			return tier2
		}
		return tier3
	}, func() { waits++ })
	c := &http.Client{Transport: rt}
	get, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/users.list", nil)
	resp, err := c.Do(get)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if calls != 1 || lim.takes["tier2"] != 3 || lim.takes["tier3"] != 0 || waits != 1 {
		t.Fatalf("calls %d, takes %v, waits %d; want one call after two refusals of tier2, one wait", calls, lim.takes, waits)
	}

	// A caller who gives up while waiting is not sent.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Millisecond)
	defer cancel()
	lim.n = 1 << 30
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/users.lookupByEmail", nil)
	if _, err := c.Do(req); err == nil || calls != 1 {
		t.Fatalf("a canceled wait: err %v, calls %d; want an error and no call", err, calls)
	}
}

type countingSemaphore struct {
	mu        sync.Mutex
	held, max int
}

func (s *countingSemaphore) Acquire(context.Context) (func(), error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held++
	s.max = max(s.max, s.held)
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.held--
	}, nil
}

func TestConnectionsHoldTheSlotUntilTheBodyIsClosed(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	defer srv.Close()
	sem := &countingSemaphore{}
	c := &http.Client{Transport: sharedlimit.Connections(nil, sem)}
	get, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
	resp, err := c.Do(get)
	if err != nil {
		t.Fatal(err)
	}
	if sem.held != 1 {
		t.Fatalf("held %d while the body is open, want 1", sem.held)
	}
	_, _ = io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	_ = resp.Body.Close() // a second close gives nothing back twice
	if sem.held != 0 {
		t.Fatalf("held %d after the body closed, want 0", sem.held)
	}
}

func TestDeferringAnswersA429WithoutSendingTheCall(t *testing.T) {
	t.Parallel()
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { calls++ }))
	defer srv.Close()
	lim := &refusingLimiter{n: 1, takes: map[string]int{}}
	rate := sharedlimit.Rate{Key: "tier3", Rate: ports.Rate{Limit: 50, Period: time.Minute}}
	c := &http.Client{Transport: sharedlimit.Deferring(nil, lim, func(*http.Request) sharedlimit.Rate { return rate })}
	for i, want := range []int{http.StatusTooManyRequests, http.StatusOK} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/users.lookupByEmail", nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != want || (want == http.StatusTooManyRequests && resp.Header.Get("Retry-After") != "1") {
			t.Fatalf("call %d: %d, Retry-After %q; want %d (with Retry-After 1 when deferred)", i, resp.StatusCode, resp.Header.Get("Retry-After"), want)
		}
	}
	if calls != 1 {
		t.Fatalf("the server saw %d calls, want 1 (the deferred one is not sent)", calls)
	}
}
