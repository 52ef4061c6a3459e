package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/womendefiningai/platform/adapters/stripe/stripefake"
	"github.com/womendefiningai/platform/internal/config"
)

// TestStripeOutageIsRiddenOut: 200 checkout events arrive while Stripe is
// down (its stand-in answers 503) for 8 s, longer than the old retry
// budget (4 attempts in about 6 s, then the dead letters). The budgets are
// shrunk to seconds through the environment: WORKER_TRANSIENT_RETRY_INITIAL
// 200ms, WORKER_TRANSIENT_RETRY_MAX 1s, WORKER_RETRY_BUDGET 30s, and the
// breaker opens after 5 failed calls for PROVIDER_BREAKER_OPEN_FOR 10s.
//
// The window ends with no dead letter; once Stripe is back all 200 events
// are applied, each once; the Stripe breaker opened once and closed once,
// as its metric shows.
func TestStripeOutageIsRiddenOut(t *testing.T) {
	t.Parallel()
	const (
		events = 200
		window = 8 * time.Second
	)
	var down atomic.Bool
	var refused atomic.Int64
	var target atomic.Pointer[url.URL]
	stand := newStandIn(t, func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			refused.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":{"type":"api_error","message":"Stripe is down (test)"}}`))
			return
		}
		httputil.NewSingleHostReverseProxy(target.Load()).ServeHTTP(w, r)
	})
	l := newLifecycle(t, false, map[string]string{
		"STRIPE_API_URL":                 stand,
		"WORKER_TRANSIENT_RETRY_INITIAL": "200ms",
		"WORKER_TRANSIENT_RETRY_MAX":     "1s",
		"WORKER_RETRY_BUDGET":            "30s",
		"PROVIDER_BREAKER_FAILURES":      "5",
		"PROVIDER_BREAKER_OPEN_FOR":      "10s",
	})
	l.idle = 60 * time.Second
	u, err := url.Parse(l.stripe.URL())
	if err != nil {
		t.Fatal(err)
	}
	target.Store(u)
	reg := prometheus.NewRegistry()
	reg.MustRegister(l.sys.breakers)

	down.Store(true)
	start := time.Now()
	people := make([]string, events)
	now := time.Now()
	for i := range events {
		n := fmt.Sprintf("out%03d", i)
		email := n + "@example.test"
		people[i] = l.newPerson(email)
		sub := stripefake.Subscription{ID: "sub_" + n, Customer: "cus_" + n, Status: "active", PriceID: testPriceID, CurrentPeriodEnd: now.Add(30 * 24 * time.Hour)}
		l.stripe.SetSubscription(sub)
		ev := stripefake.CheckoutSessionCompletedEvent("evt_cs_"+n, now, stripefake.CheckoutSession{
			Customer: sub.Customer, Subscription: sub.ID, ClientReferenceID: people[i], CustomerEmail: email, CustomerName: "Ada Lovelace",
		})
		if code := l.deliver(ev); code != http.StatusOK {
			t.Fatalf("webhook answered %d during the outage", code)
		}
	}
	for time.Since(start) < window {
		if n := l.count(`SELECT count(*) FROM dead_letters`); n != 0 {
			t.Fatalf("%d dead letters %v into the outage", n, time.Since(start).Round(time.Second))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got := l.sys.breakers.State(providerStripe); got != "open" {
		t.Fatalf("Stripe breaker is %s at the end of the outage; want open", got)
	}
	if n := l.count(`SELECT count(*) FROM dead_letters`); n != 0 {
		t.Fatalf("%d dead letters at the end of the outage", n)
	}
	if n := l.count(`SELECT count(*) FROM billing_inbox WHERE status = 'received'`); n != events {
		t.Fatalf("%d events waiting at the end of the outage, want %d", n, events)
	}
	calls := refused.Load()
	down.Store(false)

	l.waitIdle()
	if n := l.count(`SELECT count(*) FROM dead_letters`); n != 0 {
		t.Fatalf("%d dead letters after the outage", n)
	}
	for _, p := range people {
		if m := l.membership(p); m.Status != "active" {
			t.Fatalf("membership of %s is %+v after the outage, want active", p, m)
		}
		if n := l.eventCount(p, "activated"); n != 1 {
			t.Fatalf("Activated applied %d times for %s, want 1", n, p)
		}
	}
	if n := l.count(`SELECT count(*) FROM billing_inbox WHERE status = 'processed'`); n != events {
		t.Fatalf("%d of %d events processed", n, events)
	}
	for to, want := range map[string]float64{"open": 1, "closed": 1} {
		if got := transitions(t, reg, providerStripe, to); got != want {
			t.Errorf("Stripe breaker entered %s %v times, want %v", to, got, want)
		}
	}
	// The open breaker kept the calls away: far fewer than one per event
	// per re-delivery reached the stand-in while it was down.
	t.Logf("outage %v: %d calls reached the stand-in while down; all %d events applied %v after it began",
		window, calls, events, time.Since(start).Round(100*time.Millisecond))
}

// transitions reads wdai_provider_circuit_transitions_total{provider,to}
// from the registry, as a scrape of /metrics would.
func transitions(t *testing.T, reg *prometheus.Registry, provider, to string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "wdai_provider_circuit_transitions_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			if labels["provider"] == provider && labels["to"] == to {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// newStandIn serves h for the test and returns its URL.
func newStandIn(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestWorkerPoolSizeIsChecked: an explicit worker pool too small for the
// consumers is refused with an error that names the settings and the need;
// 0 sizes the pool from the consumers.
func TestWorkerPoolSizeIsChecked(t *testing.T) {
	t.Parallel()
	cfg, err := config.LoadFrom(map[string]string{"WORKER_CONSUMERS": "4", "WORKER_DB_MAX_CONNS": "20"})
	if err != nil {
		t.Fatal(err)
	}
	// 6 handlers × 4 consumers + the scheduled messages' = 25 consumers.
	_, err = workerPoolSize(cfg, 6)
	if err == nil || !strings.Contains(err.Error(), "WORKER_DB_MAX_CONNS=20") || !strings.Contains(err.Error(), "at least 53") {
		t.Fatalf("error = %v, want a refusal naming WORKER_DB_MAX_CONNS=20 and the 53 needed", err)
	}
	cfg.WorkerDBMaxConns = 53
	if n, err := workerPoolSize(cfg, 6); err != nil || n != 53 {
		t.Fatalf("53 connections: %d, %v", n, err)
	}
	cfg.WorkerDBMaxConns = 0
	if n, err := workerPoolSize(cfg, 6); err != nil || n != 53 {
		t.Fatalf("automatic size: %d, %v; want 53", n, err)
	}
}

// TestHungStripeCallHoldsUpOnlyItsEvent: 50 checkout events on 4
// consumers; Stripe never answers for one of their subscriptions. The
// other 49 are applied in their normal time (well under the handler's 20 s
// timeout that ends the hung call): claims are one row while the queue is
// short, and the worker's stores have their own pool.
func TestHungStripeCallHoldsUpOnlyItsEvent(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var target atomic.Pointer[url.URL]
	stand := newStandIn(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "sub_hung") {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		httputil.NewSingleHostReverseProxy(target.Load()).ServeHTTP(w, r)
	})
	t.Cleanup(func() { close(release) })
	l := newLifecycle(t, false, map[string]string{"STRIPE_API_URL": stand, "WORKER_CONSUMERS": "4"})
	u, err := url.Parse(l.stripe.URL())
	if err != nil {
		t.Fatal(err)
	}
	target.Store(u)
	now := time.Now()
	people := make([]string, 50)
	for i := range people {
		n := fmt.Sprintf("iso%02d", i)
		if i == 0 {
			n = "hung" // first in line
		}
		email := n + "@example.test"
		people[i] = l.newPerson(email)
		sub := stripefake.Subscription{ID: "sub_" + n, Customer: "cus_" + n, Status: "active", PriceID: testPriceID, CurrentPeriodEnd: now.Add(30 * 24 * time.Hour)}
		l.stripe.SetSubscription(sub)
		ev := stripefake.CheckoutSessionCompletedEvent("evt_cs_"+n, now, stripefake.CheckoutSession{
			Customer: sub.Customer, Subscription: sub.ID, ClientReferenceID: people[i], CustomerEmail: email, CustomerName: "Ada Lovelace",
		})
		if code := l.deliver(ev); code != http.StatusOK {
			t.Fatalf("webhook answered %d", code)
		}
	}
	start := time.Now()
	deadline := start.Add(8 * time.Second)
	for {
		active := l.count(`SELECT count(*) FROM memberships WHERE status = 'active'`)
		if active == 49 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of the 49 applied after %v next to a hung Stripe call", active, time.Since(start).Round(time.Millisecond))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("49 events applied %v after delivery, next to a hung Stripe call", time.Since(start).Round(time.Millisecond))
	if m := l.count(`SELECT count(*) FROM memberships WHERE person_id = $1`, people[0]); m != 0 {
		t.Fatalf("the hung event was applied")
	}
}
