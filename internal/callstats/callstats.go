// Package callstats counts what each provider's calls did in this process:
// successes, failures by class, and rate-limit answers. The counts feed the
// Prometheus metrics at once and, drained every few seconds, the shared
// samples in the database that the health view and the alerts read.
//
// Labels are bounded: the provider names are the platform's own (a fixed
// handful), and the outcome is one of the classes below.
package callstats

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/womendefiningai/platform/ports"
)

// The outcomes of a call. Every class but Success is a failure.
const (
	Success      = "success"
	ServerError  = "server_error" // 5xx
	RateLimited  = "rate_limited" // 429
	Timeout      = "timeout"      // the call or the connection timed out
	Network      = "network"      // refused, reset, DNS
	CircuitOpen  = "circuit_open" // the breaker refused the call
	Unauthorized = "unauthorized" // 401: the key is wrong or revoked
	Canceled     = "canceled"     // the caller gave up (not counted)
	ClientError  = "client_error" // other 4xx: the provider is up; counted as a success
)

// Outcomes lists every outcome label.
var Outcomes = []string{Success, ServerError, RateLimited, Timeout, Network, CircuitOpen, Unauthorized, ClientError}

// Classify names the outcome of one HTTP call.
func Classify(resp *http.Response, err error) string {
	if err != nil {
		var t *ports.TransientError
		var nerr net.Error
		switch {
		case errors.As(err, &t) && t.CircuitOpen:
			return CircuitOpen
		case errors.Is(err, context.Canceled):
			return Canceled
		case errors.Is(err, context.DeadlineExceeded), errors.As(err, &nerr) && nerr.Timeout():
			return Timeout
		default:
			return Network
		}
	}
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests:
		return RateLimited
	case s == http.StatusUnauthorized:
		return Unauthorized
	case s >= 500:
		return ServerError
	case s >= 400:
		return ClientError
	default:
		return Success
	}
}

// Recorder holds this process's counts. Its zero value is not usable: use New.
type Recorder struct {
	process  string
	now      func() time.Time
	calls    *prometheus.CounterVec
	waits    *prometheus.CounterVec
	breakers func() map[string]string

	mu      sync.Mutex
	pending map[string]ports.CallCounts
}

// New returns the recorder of the process named processID, for the
// providers named (their metrics exist at zero from the start). breakers
// reports the breakers' states (nil: none).
func New(processID string, breakers func() map[string]string, providers ...string) *Recorder {
	r := &Recorder{
		process: processID,
		now:     time.Now,
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wdai_provider_calls_total",
			Help: "Calls to each provider by outcome: success, server_error, rate_limited, timeout, network, circuit_open, unauthorized, client_error.",
		}, []string{"provider", "outcome"}),
		waits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wdai_provider_limit_waits_total",
			Help: "Calls that waited for a provider's limit shared across replicas (connections or requests per period).",
		}, []string{"provider"}),
		breakers: breakers,
		pending:  map[string]ports.CallCounts{},
	}
	for _, p := range providers {
		for _, o := range Outcomes {
			r.calls.WithLabelValues(p, o)
		}
		r.waits.WithLabelValues(p)
	}
	return r
}

// Describe implements prometheus.Collector.
func (r *Recorder) Describe(ch chan<- *prometheus.Desc) {
	r.calls.Describe(ch)
	r.waits.Describe(ch)
}

// Collect implements prometheus.Collector.
func (r *Recorder) Collect(ch chan<- prometheus.Metric) {
	r.calls.Collect(ch)
	r.waits.Collect(ch)
}

// Observe counts one call of provider with outcome.
func (r *Recorder) Observe(provider, outcome string) {
	if outcome == Canceled {
		return
	}
	r.calls.WithLabelValues(provider, outcome).Inc()
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.pending[provider]
	c.Provider = provider
	c.Calls++
	switch outcome {
	case Success, ClientError:
		c.LastSuccess = now
	default:
		c.Failures++
		c.LastFailure, c.LastErrorClass = now, outcome
		if outcome == RateLimited {
			c.RateLimited++
		}
	}
	r.pending[provider] = c
}

// Waited counts one call that waited for a shared provider limit: a
// rate-limit hit that did not reach the provider.
func (r *Recorder) Waited(provider string) {
	r.waits.WithLabelValues(provider).Inc()
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.pending[provider]
	c.Provider = provider
	c.RateLimited++
	r.pending[provider] = c
}

// ProcessID names this process in the shared samples.
func (r *Recorder) ProcessID() string { return r.process }

// Pending returns the counts not yet drained, by provider name.
func (r *Recorder) Pending() []ports.CallCounts {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sorted()
}

func (r *Recorder) sorted() []ports.CallCounts {
	out := make([]ports.CallCounts, 0, len(r.pending))
	for _, c := range r.pending {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Provider < out[j].Provider })
	return out
}

// Drain returns the pending counts and forgets them; Restore puts them back
// when they could not be recorded.
func (r *Recorder) Drain() []ports.CallCounts {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.sorted()
	r.pending = map[string]ports.CallCounts{}
	return out
}

// Restore adds counts drained but not recorded back to the pending ones.
func (r *Recorder) Restore(counts []ports.CallCounts) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range counts {
		r.pending[c.Provider] = r.pending[c.Provider].Add(c)
	}
}

// Breakers reports the breakers' states in this process.
func (r *Recorder) Breakers() map[string]string {
	if r.breakers == nil {
		return map[string]string{}
	}
	return r.breakers()
}

var _ ports.LocalCalls = (*Recorder)(nil)

// Transport wraps base so that every call of provider is observed.
func (r *Recorder) Transport(provider string, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return roundTripper{r: r, provider: provider, base: base}
}

type roundTripper struct {
	r        *Recorder
	provider string
	base     http.RoundTripper
}

func (t roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil && req.Context().Err() != nil && errors.Is(req.Context().Err(), context.Canceled) {
		return resp, err //nolint:wrapcheck // a RoundTripper returns its transport's error as is
	}
	t.r.Observe(t.provider, Classify(resp, err))
	return resp, err //nolint:wrapcheck // a RoundTripper returns its transport's error as is
}
