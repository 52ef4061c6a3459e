package main

// integrationHealth over GraphQL on a real database, with the Mailchimp
// stand-in failing and recovering: each service's state, the breaker
// opening and closing, and the statements one read costs.

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/mailchimp/mailchimpfake"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/graph"
	"github.com/womendefiningai/platform/internal/config"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

const healthTestKey = "0123456789abcdef0123456789abcdef-us6"

type healthHarness struct {
	sys     *system
	pool    *pgxpool.Pool
	counter *statementCounter
	gql     *client.Client
	fake    *mailchimpfake.Server
	ops     access.Principal
}

func newHealthHarness(t *testing.T, clock ports.Clock, extra ...string) *healthHarness {
	t.Helper()
	fake := mailchimpfake.New(t, healthTestKey, "L1")
	dbURL := testdb.NewURL(t)
	vars := map[string]string{"DATABASE_URL": dbURL, "MAILCHIMP_API_KEY": healthTestKey, "MAILCHIMP_LIST_ID": "L1", "MAILCHIMP_API_URL": fake.URL(),
		"PROVIDER_BREAKER_FAILURES": "2", "PROVIDER_BREAKER_OPEN_FOR": "300ms"}
	for i := 0; i+1 < len(extra); i += 2 {
		vars[extra[i]] = extra[i+1]
	}
	cfg, err := config.LoadFrom(vars)
	if err != nil {
		t.Fatal(err)
	}
	pcfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	counter := &statementCounter{}
	pcfg.ConnConfig.Tracer = counter
	pool, err := pgxpool.NewWithConfig(t.Context(), pcfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	sys, err := buildSystemWith(cfg, pool, slog.New(slog.DiscardHandler), clock)
	if err != nil {
		t.Fatal(err)
	}
	opsUser, err := access.NewSystem("ops-test")
	if err != nil {
		t.Fatal(err)
	}
	return &healthHarness{sys: sys, pool: pool, counter: counter, fake: fake, ops: opsUser,
		gql: client.New(graph.NewHandler(sys.app, graph.Options{ComplexityLimit: 5000}))}
}

type serviceView struct {
	Name           string
	Configured     bool
	State          string
	LastSuccessAt  *string
	LastFailureAt  *string
	LastErrorClass *string
	Calls          int
	ErrorRate      float64
	Breaker        string
	RateLimitHits  int
}

type healthView struct {
	IntegrationHealth struct {
		Services []serviceView
		Jobs     []struct {
			Job  string
			Runs []struct {
				Outcome string
				Count   int
			}
			LastSummary string
		}
		Webhooks struct {
			Received, Applied, Failed int
			SuccessRate, P95Seconds   float64
			Backlog                   []struct {
				Status string
				Count  int
			}
			OpenDeadLetters int
		}
		Measures []struct {
			Measure, Level string
			Value          float64
		}
	}
}

const healthQuery = `{ integrationHealth {
	services { name configured state lastSuccessAt lastFailureAt lastErrorClass calls errorRate breaker rateLimitHits }
	jobs { job runs { outcome count } lastSummary }
	webhooks { received applied failed successRate p95Seconds backlog { status count } openDeadLetters }
	measures { measure level value } } }`

// read returns the view and the statements it cost.
func (h *healthHarness) read(t *testing.T) (healthView, int64) {
	t.Helper()
	var v healthView
	before := h.counter.n.Load()
	h.gql.MustPost(healthQuery, &v, as(h.ops))
	return v, h.counter.n.Load() - before
}

func (v healthView) service(t *testing.T, name string) serviceView {
	t.Helper()
	for _, s := range v.IntegrationHealth.Services {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no service %s in %+v", name, v.IntegrationHealth.Services)
	return serviceView{}
}

func (h *healthHarness) upsert(t *testing.T, i int) error {
	t.Helper()
	_, err := h.sys.providers.list.Upsert(t.Context(), ports.Subscriber{Email: fmt.Sprintf("member%d@example.test", i), FirstName: "M"}, "")
	return err
}

func TestIntegrationHealthShowsStateChangesAndTheBreaker(t *testing.T) {
	t.Parallel()
	h := newHealthHarness(t, ports.SystemClock{})

	v, _ := h.read(t)
	if s := v.service(t, "database"); s.State != "OK" {
		t.Fatalf("database = %+v, want OK", s)
	}
	if s := v.service(t, "stripe"); s.Configured || s.State != "NOT_CONFIGURED" {
		t.Fatalf("stripe without a key = %+v, want NOT_CONFIGURED", s)
	}
	if s := v.service(t, "mailchimp"); !s.Configured || s.State != "OK" || s.Breaker != "CLOSED" || s.Calls != 0 {
		t.Fatalf("mailchimp before any call = %+v, want configured, OK, CLOSED", s)
	}

	// Two 500s open the breaker (PROVIDER_BREAKER_FAILURES=2); the next
	// call is refused without reaching the stand-in.
	h.fake.FailNext(2, mailchimpfake.Fault500)
	for i := range 2 {
		if err := h.upsert(t, i); err == nil {
			t.Fatal("an upsert answered 500 succeeded")
		}
	}
	reached := h.fake.CallCount()
	if err := h.upsert(t, 2); !ports.IsTransient(err) {
		t.Fatalf("a call with the breaker open = %v, want a transient refusal", err)
	}
	if h.fake.CallCount() != reached {
		t.Fatal("the open breaker let a call reach the stand-in")
	}
	v, _ = h.read(t)
	s := v.service(t, "mailchimp")
	if s.State != "DOWN" || s.Breaker != "OPEN" || s.LastErrorClass == nil || *s.LastErrorClass != "circuit_open" || s.Calls != 3 || s.ErrorRate != 1 {
		t.Fatalf("mailchimp failing = %+v, want DOWN, OPEN, circuit_open, 3 calls, error rate 1", s)
	}

	// The samples move to the database: the view counts them once.
	if err := newHealthSampler(h.sys, nil).sample(t.Context()); err != nil {
		t.Fatal(err)
	}
	v, _ = h.read(t)
	if s := v.service(t, "mailchimp"); s.Calls != 3 || s.State != "DOWN" {
		t.Fatalf("after the sample mailchimp = %+v, want the same 3 calls, DOWN", s)
	}

	// After the open period a trial call succeeds and closes the breaker.
	time.Sleep(350 * time.Millisecond)
	if err := h.upsert(t, 3); err != nil {
		t.Fatalf("the trial call: %v", err)
	}
	v, _ = h.read(t)
	s = v.service(t, "mailchimp")
	if s.Breaker != "CLOSED" || s.State != "DEGRADED" || s.LastSuccessAt == nil || s.LastFailureAt == nil ||
		!mustTime(t, *s.LastSuccessAt).After(mustTime(t, *s.LastFailureAt)) {
		t.Fatalf("mailchimp recovered = %+v, want CLOSED and DEGRADED (3 of 4 calls failed this hour), last success after last failure", s)
	}
	t.Logf("mailchimp: OK → DOWN (breaker OPEN) → DEGRADED (breaker CLOSED)")
}

func TestIntegrationHealthCostsOneStatement(t *testing.T) {
	t.Parallel()
	h := newHealthHarness(t, ports.SystemClock{})
	_, few := h.read(t)
	// Many rows in every table the view reads.
	ctx := t.Context()
	if _, err := h.pool.Exec(ctx, `
		INSERT INTO job_runs (job, slot, trigger, status, summary, finished_at)
		SELECT 'luma_approval', now() - g * interval '1 minute', 'cron', CASE WHEN g % 10 = 0 THEN 'failed' ELSE 'completed' END,
			'{"approved": 28}', now() - g * interval '1 minute' FROM generate_series(1, 500) g;
		INSERT INTO billing_inbox (event_id, type, created, payload, source, status, received_at, processed_at)
		SELECT 'evt_' || g, 'invoice.paid', now(), '{}', 'webhook', CASE WHEN g % 50 = 0 THEN 'received' ELSE 'processed' END,
			now() - interval '1 hour', now() - interval '1 hour' + g * interval '1 millisecond' FROM generate_series(1, 2000) g;
		INSERT INTO provider_call_samples (provider, minute, process_id, calls, failures, rate_limited)
		SELECT 'mailchimp', date_trunc('minute', now()) - (g % 50) * interval '1 minute', 'p' || (g / 50), 10, 1, 1 FROM generate_series(1, 1000) g;`); err != nil {
		t.Fatal(err)
	}
	v, many := h.read(t)
	if few != many || many != 1 {
		t.Fatalf("the view ran %d statements on empty tables and %d on thousands of rows; want 1 both times", few, many)
	}
	if len(v.IntegrationHealth.Jobs) != 1 || v.IntegrationHealth.Jobs[0].LastSummary != "luma_approval: 28 approved" {
		t.Fatalf("jobs = %+v, want luma_approval with its last summary", v.IntegrationHealth.Jobs)
	}
	w := v.IntegrationHealth.Webhooks
	if w.Received != 2000 || w.Applied != 1960 || w.Failed != 40 || w.SuccessRate != 0.98 || w.P95Seconds <= 0 {
		t.Fatalf("webhooks = %+v, want 2000 received, 1960 applied, 40 failed (stuck), rate 0.98, a p95", w)
	}
	if s := v.service(t, "mailchimp"); s.Calls != 10000 || s.RateLimitHits != 1000 {
		t.Fatalf("mailchimp = %+v, want 10,000 calls and 1,000 rate-limit hits over the hour", s)
	}
	t.Logf("statements per integrationHealth read: %d (empty) and %d (500 runs, 2,000 inbox rows, 1,000 samples)", few, many)
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}
