// Package breaker gives each provider (stripe, clerk, mailchimp, and the
// ones to come) a circuit breaker from sony/gobreaker, applied to every
// HTTP call its adapter makes through an http.RoundTripper.
//
// A call counts as a failure when the provider answers 5xx or 429, or the
// connection fails or times out. After Config.Failures failures in a row the
// breaker opens: for Config.OpenFor no call is made, and each one fails at
// once with a *ports.TransientError whose CircuitOpen is set and whose
// RetryAfter is the time left. The worker then delays that provider's
// messages instead of attempting or dead-lettering them. After OpenFor one
// trial call goes through (half-open); its success closes the breaker.
//
// A Set is a prometheus.Collector: wdai_provider_circuit_state (0 closed,
// 1 half-open, 2 open) and wdai_provider_circuit_transitions_total, by
// provider.
package breaker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"

	"github.com/womendefiningai/platform/ports"
)

// Defaults of Config.
const (
	DefaultFailures = 5
	DefaultOpenFor  = 30 * time.Second
)

// Config tunes every breaker of a Set. Zero values take the defaults.
type Config struct {
	// Failures is how many failed calls in a row open a breaker (5).
	Failures uint32
	// OpenFor is how long an open breaker refuses calls before it lets a
	// trial call through (30s).
	OpenFor time.Duration
}

// Set holds one breaker per provider.
type Set struct {
	cfg         Config
	state       *prometheus.GaugeVec
	transitions *prometheus.CounterVec

	mu       sync.Mutex
	breakers map[string]*provider
	observer Observer
	limits   map[string]func(http.RoundTripper) http.RoundTripper
}

// Limit makes every later client and transport of provider send its calls
// through wrap, outside the breaker (and inside the observer): an answer
// the limit makes up (a deferral) never counts against the breaker.
func (s *Set) Limit(provider string, wrap func(http.RoundTripper) http.RoundTripper) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.limits == nil {
		s.limits = map[string]func(http.RoundTripper) http.RoundTripper{}
	}
	s.limits[provider] = wrap
}

// Observer wraps each provider's transport outside its breaker, so that it
// sees every call, the ones the breaker refuses included.
type Observer interface {
	Transport(provider string, base http.RoundTripper) http.RoundTripper
}

// Observe makes o see every call of the clients and transports made after
// it.
func (s *Set) Observe(o Observer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.observer = o
}

// States returns every provider's breaker state ("closed", "half-open" or
// "open"), by provider.
func (s *Set) States() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.breakers))
	for name, p := range s.breakers {
		out[name] = p.cb.State().String()
	}
	return out
}

type provider struct {
	cb *gobreaker.TwoStepCircuitBreaker[struct{}]

	mu       sync.Mutex
	openedAt time.Time
}

// New returns a Set with breakers for the providers named (more are added
// on first use); their state metric exists, closed, from the start.
func New(cfg Config, providers ...string) *Set {
	if cfg.Failures == 0 {
		cfg.Failures = DefaultFailures
	}
	if cfg.OpenFor <= 0 {
		cfg.OpenFor = DefaultOpenFor
	}
	s := &Set{
		cfg: cfg,
		state: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "wdai_provider_circuit_state",
			Help: "State of each provider's circuit breaker: 0 closed, 1 half-open (trial call), 2 open (calls refused).",
		}, []string{"provider"}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wdai_provider_circuit_transitions_total",
			Help: "State changes of each provider's circuit breaker, by the state entered.",
		}, []string{"provider", "to"}),
		breakers: map[string]*provider{},
	}
	for _, name := range providers {
		s.get(name)
	}
	return s
}

// Describe implements prometheus.Collector.
func (s *Set) Describe(ch chan<- *prometheus.Desc) {
	s.state.Describe(ch)
	s.transitions.Describe(ch)
}

// Collect implements prometheus.Collector.
func (s *Set) Collect(ch chan<- prometheus.Metric) {
	s.state.Collect(ch)
	s.transitions.Collect(ch)
}

// State returns the provider's breaker state: "closed", "half-open" or
// "open".
func (s *Set) State(name string) string { return s.get(name).cb.State().String() }

func (s *Set) get(name string) *provider {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.breakers[name]; ok {
		return p
	}
	p := &provider{}
	p.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        name,
		MaxRequests: 1,
		Timeout:     s.cfg.OpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= s.cfg.Failures },
		IsExcluded:  func(err error) bool { return errors.Is(err, context.Canceled) },
		OnStateChange: func(name string, _, to gobreaker.State) {
			if to == gobreaker.StateOpen {
				p.mu.Lock()
				p.openedAt = time.Now()
				p.mu.Unlock()
			}
			s.state.WithLabelValues(name).Set(stateValue(to))
			s.transitions.WithLabelValues(name, to.String()).Inc()
		},
	})
	s.state.WithLabelValues(name).Set(0)
	s.breakers[name] = p
	return p
}

func stateValue(st gobreaker.State) float64 {
	switch st {
	case gobreaker.StateHalfOpen:
		return 1
	case gobreaker.StateOpen:
		return 2
	default:
		return 0
	}
}

// retryAfter is the time until an open breaker lets a trial call through.
func (p *provider) retryAfter(openFor time.Duration) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return max(time.Until(p.openedAt.Add(openFor)), 100*time.Millisecond)
}

// Client returns a copy of c (nil: a client with timeout) whose calls go
// through the provider's breaker.
func (s *Set) Client(name string, c *http.Client, timeout time.Duration) *http.Client {
	out := &http.Client{Timeout: timeout}
	if c != nil {
		cp := *c
		out = &cp
	}
	out.Transport = s.Transport(name, out.Transport)
	return out
}

// Transport wraps base (nil: http.DefaultTransport) with the provider's
// breaker.
func (s *Set) Transport(name string, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	s.mu.Lock()
	o, limit := s.observer, s.limits[name]
	s.mu.Unlock()
	var rt http.RoundTripper = &transport{name: name, p: s.get(name), openFor: s.cfg.OpenFor, base: base}
	if limit != nil {
		rt = limit(rt)
	}
	if o != nil {
		rt = o.Transport(name, rt)
	}
	return rt
}

type transport struct {
	name    string
	p       *provider
	openFor time.Duration
	base    http.RoundTripper
}

// errProviderFailed is what the breaker counts for a 5xx or 429 answer.
var errProviderFailed = errors.New("provider answered 5xx or 429")

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	done, err := t.p.cb.Allow()
	if err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		wait := time.Second // half-open, its one trial call in flight
		if errors.Is(err, gobreaker.ErrOpenState) {
			wait = t.p.retryAfter(t.openFor)
		}
		return nil, &ports.TransientError{
			Provider: t.name, RetryAfter: wait, CircuitOpen: true,
			Err: fmt.Errorf("%s: %w", t.name, err),
		}
	}
	resp, err := t.base.RoundTrip(req)
	switch {
	case err != nil && req.Context().Err() != nil && !errors.Is(req.Context().Err(), context.DeadlineExceeded):
		done(context.Canceled) // the caller gave up: not the provider's fault
	case err != nil:
		done(err)
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		done(errProviderFailed)
	default:
		done(nil)
	}
	return resp, err //nolint:wrapcheck // a RoundTripper returns its transport's error as is
}
