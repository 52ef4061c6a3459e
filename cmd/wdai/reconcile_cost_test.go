package main

// Reconciliation against the billing stand-in and a real database: what it
// costs in statements, which waiting events it queues again, and how a
// deferred event that never links expires.

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/adapters/stripe"
	"github.com/womendefiningai/platform/adapters/stripe/stripefake"
	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

// sqlCounter counts every statement, alone (statementCounter) or in a
// batch: the unit of work pipelines its statements in batches.
type sqlCounter struct{ statementCounter }

func (c *sqlCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}
func (c *sqlCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) { c.n.Add(1) }
func (c *sqlCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// alertLog records alerts.
type alertLog struct {
	mu     sync.Mutex
	alerts []ports.Alert
}

func (a *alertLog) Alert(_ context.Context, al ports.Alert) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.alerts = append(a.alerts, al)
	return nil
}

func (a *alertLog) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.alerts)
}

type reconcileFixture struct {
	pool    *pgxpool.Pool
	counter *sqlCounter
	stripe  *stripefake.Server
	alerts  *alertLog
	h       application.ReconcileBilling
}

func newReconcileFixture(t *testing.T) reconcileFixture {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(testdb.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	counter := &sqlCounter{}
	cfg.ConnConfig.Tracer = counter
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	st := stripefake.New(t)
	billing, err := stripe.NewBilling(stripe.Config{SecretKey: st.SecretKey(), APIURL: st.URL()})
	if err != nil {
		t.Fatal(err)
	}
	uow, err := newUnitOfWork(pool)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := buildScopes(uow)
	if err != nil {
		t.Fatal(err)
	}
	ingest, err := application.NewIngestBillingEvent(sc.inbox)
	if err != nil {
		t.Fatal(err)
	}
	alerts := &alertLog{}
	h, err := application.NewReconcileBilling(application.ReconcileBillingDeps{Billing: billing, Inbox: postgres.NewBillingInbox(pool),
		Ingest: ingest, UoW: sc.inbox, Alerter: alerts, Requeue: application.DefaultRequeue})
	if err != nil {
		t.Fatal(err)
	}
	return reconcileFixture{pool: pool, counter: counter, stripe: st, alerts: alerts, h: h}
}

func (f reconcileFixture) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := f.pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

func (f reconcileFixture) queued(t *testing.T) map[string]bool {
	t.Helper()
	rows, err := f.pool.Query(context.Background(), `SELECT convert_from(payload, 'UTF8')::jsonb->>'event_id' FROM "watermill_billing.event"`)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, id := range ids {
		out[id] = true
	}
	return out
}

// TestReconciliationCostsAFixedNumberOfStatements: 5,000 listed events, all
// stored, and 300 deferred events due. Reconciliation looks the events up
// 1,000 at a time and re-queues the deferred ones in one transaction: 5
// look-ups plus two short transactions, not one query per event and one
// transaction per re-queued id (over 5,300 before).
func TestReconciliationCostsAFixedNumberOfStatements(t *testing.T) {
	t.Parallel()
	f := newReconcileFixture(t)
	const listed, deferred = 5000, 300
	created := time.Now().Add(-time.Hour)
	for i := range listed {
		f.stripe.AddEvent(stripefake.SubscriptionEvent(fmt.Sprintf("evt_%05d", i), "customer.subscription.updated", created,
			stripefake.Subscription{ID: "sub_1", Customer: "cus_1", Status: "active"}))
	}
	f.exec(t, `INSERT INTO billing_inbox (event_id, type, created, payload, source, status)
		SELECT 'evt_' || lpad(g::text, 5, '0'), 'customer.subscription.updated', now(), '{}', 'webhook', 'processed'
		FROM generate_series(0, $1 - 1) g`, listed)
	f.exec(t, `INSERT INTO billing_inbox (event_id, type, created, payload, source, status, deferred_at, next_attempt_at, customer_id)
		SELECT 'evt_deferred_' || g, 'invoice.payment_failed', now(), '{}', 'webhook', 'deferred', now(), now(), 'cus_unlinked'
		FROM generate_series(1, $1) g`, deferred)

	before := f.counter.n.Load()
	res, err := f.h.Handle(context.Background(), application.ReconcileBillingInput{Since: created.Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	statements := f.counter.n.Load() - before
	t.Logf("reconciliation of %d stored events and %d deferred: %d statements (%+v)", listed, deferred, statements, res)
	if res.Seen != listed || res.Present != listed || res.Requeued != deferred {
		t.Fatalf("result %+v, want %d seen and present, %d re-queued", res, listed, deferred)
	}
	// 5 look-ups; BEGIN, claim, outbox insert, COMMIT; BEGIN, expire, COMMIT.
	if statements > 12 {
		t.Fatalf("%d statements, want at most 12 (5 look-ups and 2 short transactions)", statements)
	}
	if q := f.queued(t); len(q) != deferred {
		t.Fatalf("%d events queued, want the %d deferred", len(q), deferred)
	}
	// Claimed rows wait for their backoff: an immediate second run re-queues none.
	res, err = f.h.Handle(context.Background(), application.ReconcileBillingInput{Since: created.Add(-time.Minute)})
	if err != nil || res.Requeued != 0 {
		t.Fatalf("second run: %+v, %v; want nothing re-queued before the backoff", res, err)
	}
}

// TestReconciliationRequeuesStuckReceivedAndExpiresUnlinkable: an event
// left 'received' past the threshold (its message was lost) is queued
// again; one deferred for over 7 days expires with one alert, and a second
// run raises none.
func TestReconciliationRequeuesStuckReceivedAndExpiresUnlinkable(t *testing.T) {
	t.Parallel()
	f := newReconcileFixture(t)
	f.exec(t, `INSERT INTO billing_inbox (event_id, type, created, payload, source, status, received_at) VALUES
		('evt_stuck', 'customer.subscription.updated', now(), '{}', 'webhook', 'received', now() - interval '1 hour'),
		('evt_fresh', 'customer.subscription.updated', now(), '{}', 'webhook', 'received', now())`)
	f.exec(t, `INSERT INTO billing_inbox (event_id, type, created, payload, source, status, received_at, deferred_at, next_attempt_at, attempts) VALUES
		('evt_unlinkable', 'invoice.payment_failed', now(), '{}', 'webhook', 'deferred', now() - interval '8 days', now() - interval '8 days', now() + interval '1 hour', 9),
		('evt_recent', 'invoice.payment_failed', now(), '{}', 'webhook', 'deferred', now() - interval '1 day', now() - interval '1 day', now() + interval '1 hour', 2)`)

	res, err := f.h.Handle(context.Background(), application.ReconcileBillingInput{Since: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if q := f.queued(t); !q["evt_stuck"] || len(q) != 1 || res.Requeued != 1 {
		t.Fatalf("queued %v (%+v), want only the stuck 'received' event", q, res)
	}
	var status string
	var attempts int
	if err := f.pool.QueryRow(context.Background(), `SELECT status, attempts FROM billing_inbox WHERE event_id = 'evt_unlinkable'`).Scan(&status, &attempts); err != nil {
		t.Fatal(err)
	}
	if status != ports.InboxExpired || res.Expired != 1 || f.alerts.count() != 1 {
		t.Fatalf("unlinkable event is %s, %d expired, %d alerts; want expired with one alert", status, res.Expired, f.alerts.count())
	}
	if err := f.pool.QueryRow(context.Background(), `SELECT status FROM billing_inbox WHERE event_id = 'evt_recent'`).Scan(&status); err != nil || status != ports.InboxDeferred {
		t.Fatalf("an event deferred for a day is %s (%v), want still deferred", status, err)
	}
	if _, err := f.h.Handle(context.Background(), application.ReconcileBillingInput{Since: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if f.alerts.count() != 1 {
		t.Fatalf("%d alerts after a second run, want still 1", f.alerts.count())
	}
}

// TestReconciliationRunsAsAPagedJob: a stripe_reconcile run through the
// worker lists 2,500 events in pages of 1,000, each page a message of its
// own, and completes with the counts of all three.
func TestReconciliationRunsAsAPagedJob(t *testing.T) {
	t.Parallel()
	l := newLifecycle(t, false)
	const n = 2500
	created := time.Now().Add(-time.Hour)
	for i := range n {
		l.stripe.AddEvent(stripefake.SubscriptionEvent(fmt.Sprintf("evt_paged_%04d", i), "customer.subscription.updated", created,
			stripefake.Subscription{ID: "sub_1", Customer: "cus_1", Status: "active"}))
	}
	if _, err := l.pool.Exec(context.Background(), `INSERT INTO billing_inbox (event_id, type, created, payload, source, status)
		SELECT 'evt_paged_' || lpad(g::text, 4, '0'), 'customer.subscription.updated', now(), '{}', 'webhook', 'processed'
		FROM generate_series(0, $1 - 1) g`, n); err != nil {
		t.Fatal(err)
	}
	run, err := l.sys.app.Commands.EnqueueJob.Handle(context.Background(), application.EnqueueJobInput{Job: jobBillingRecon, Slot: time.Now(), Trigger: ports.TriggerCron})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := l.sys.app.Queries.GetJobRun.Handle(context.Background(), run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == ports.JobCompleted {
			if got.Pages != 3 || got.Summary["seen"] != float64(n) || got.Summary["present"] != float64(n) {
				t.Fatalf("completed run: %d pages, summary %v; want 3 pages seeing %d present events", got.Pages, got.Summary, n)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("run not completed: %+v", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDeferredEventsAreQueuedWhenTheCustomerLinks: subscription events that
// arrive before the checkout wait as deferred; the checkout that links the
// customer queues them again in its own transaction, so they are processed
// without waiting for a reconciliation.
func TestDeferredEventsAreQueuedWhenTheCustomerLinks(t *testing.T) {
	t.Parallel()
	l := newLifecycle(t, false)
	person := l.newPerson("early@example.test")
	events, _ := signUp(l, person, "early@example.test", "early")
	for _, ev := range events[:2] { // created, updated: nobody is linked yet
		if code := l.deliver(ev); code != http.StatusOK {
			t.Fatalf("delivery answered %d", code)
		}
	}
	l.waitIdle()
	if n := l.count(`SELECT count(*) FROM billing_inbox WHERE status = 'deferred' AND customer_id = 'cus_early'`); n != 2 {
		t.Fatalf("%d deferred events before the checkout, want 2", n)
	}
	if code := l.deliver(events[2]); code != http.StatusOK {
		t.Fatalf("checkout delivery answered %d", code)
	}
	l.waitIdle()
	if n := l.count(`SELECT count(*) FROM billing_inbox WHERE status = 'deferred'`); n != 0 {
		t.Fatalf("%d events still deferred after the link, want 0", n)
	}
	if n := l.count(`SELECT count(*) FROM billing_inbox WHERE customer_id = 'cus_early' AND status = 'processed' AND attempts = 1`); n != 2 {
		t.Fatalf("%d early events processed after one re-queue, want 2", n)
	}
	if m := l.membership(person); m.Status != "active" {
		t.Fatalf("membership %+v, want active", m)
	}
}
