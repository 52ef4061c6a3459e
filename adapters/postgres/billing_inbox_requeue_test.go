package postgres_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

var testPolicy = ports.RequeuePolicy{StuckAfter: time.Minute, Backoff: time.Hour, MaxBackoff: 4 * time.Hour, Limit: 10}

// TestBillingInboxClaimsWaitingEventsWithBackoff: a deferred event is due at
// once and each claim counts an attempt and pushes the next one back,
// doubling up to the ceiling; a customer's deferred events are claimed
// whenever they are due; Mark keeps when an event was first deferred.
func TestBillingInboxClaimsWaitingEventsWithBackoff(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	inbox := postgres.NewBillingInbox(pool)
	for _, id := range []string{"evt_a", "evt_b"} {
		ev := ports.BillingEvent{ID: id, Kind: ports.BillingPaymentFailed, Type: "invoice.payment_failed", Created: time.Now(), Payload: []byte(`{}`), CustomerID: "cus_1"}
		if _, err := inbox.Insert(ctx, ev, "webhook"); err != nil {
			t.Fatal(err)
		}
	}
	if ids, err := inbox.ClaimDue(ctx, testPolicy); err != nil || len(ids) != 0 {
		t.Fatalf("fresh 'received' events claimed: %v, %v", ids, err)
	}
	if err := inbox.Mark(ctx, "evt_a", ports.InboxDeferred, "no person yet"); err != nil {
		t.Fatal(err)
	}
	var firstDeferred time.Time
	if err := pool.QueryRow(ctx, `SELECT deferred_at FROM billing_inbox WHERE event_id = 'evt_a'`).Scan(&firstDeferred); err != nil {
		t.Fatal(err)
	}
	waits := []time.Duration{time.Hour, 2 * time.Hour, 4 * time.Hour, 4 * time.Hour}
	for i, want := range waits {
		// Make it due again, as time passing would.
		if _, err := pool.Exec(ctx, `UPDATE billing_inbox SET next_attempt_at = now() - interval '1 second' WHERE event_id = 'evt_a'`); err != nil {
			t.Fatal(err)
		}
		ids, err := inbox.ClaimDue(ctx, testPolicy)
		if err != nil || !slices.Equal(ids, []string{"evt_a"}) {
			t.Fatalf("claim %d: %v, %v; want evt_a", i+1, ids, err)
		}
		var attempts int
		var wait time.Duration
		if err := pool.QueryRow(ctx, `SELECT attempts, next_attempt_at - now() FROM billing_inbox WHERE event_id = 'evt_a'`).Scan(&attempts, &wait); err != nil {
			t.Fatal(err)
		}
		if attempts != i+1 || wait < want-time.Minute || wait > want {
			t.Fatalf("claim %d: attempts %d, next in %v; want %d and %v", i+1, attempts, wait, i+1, want)
		}
		if ids, _ := inbox.ClaimDue(ctx, testPolicy); len(ids) != 0 {
			t.Fatalf("claim %d: claimed again before its backoff: %v", i+1, ids)
		}
		if err := inbox.Mark(ctx, "evt_a", ports.InboxDeferred, "still no person"); err != nil {
			t.Fatal(err)
		}
	}
	var deferredAt time.Time
	if err := pool.QueryRow(ctx, `SELECT deferred_at FROM billing_inbox WHERE event_id = 'evt_a'`).Scan(&deferredAt); err != nil || !deferredAt.Equal(firstDeferred) {
		t.Fatalf("deferred_at moved from %v to %v (%v)", firstDeferred, deferredAt, err)
	}
	if err := inbox.Mark(ctx, "evt_b", ports.InboxDeferred, "no person yet"); err != nil {
		t.Fatal(err)
	}
	ids, err := inbox.ClaimCustomer(ctx, "cus_1", testPolicy)
	if slices.Sort(ids); err != nil || !slices.Equal(ids, []string{"evt_a", "evt_b"}) {
		t.Fatalf("customer claim = %v, %v; want both deferred events, due or not", ids, err)
	}
	if ids, err := inbox.ClaimCustomer(ctx, "cus_other", testPolicy); err != nil || len(ids) != 0 {
		t.Fatalf("another customer's claim = %v, %v", ids, err)
	}
	if _, err := inbox.ClaimDue(ctx, ports.RequeuePolicy{Limit: 10}); err == nil {
		t.Fatal("a policy without backoff was accepted")
	}
}

// TestSideEffectsIntendOnce: one intent per key, a released intent can be
// taken again, a sent one never.
func TestSideEffectsIntendOnce(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	fx := postgres.NewSideEffects(pool)
	if ok, err := fx.Intend(ctx, "k1", "email_journey"); err != nil || !ok {
		t.Fatalf("first intent = %v, %v", ok, err)
	}
	if ok, err := fx.Intend(ctx, "k1", "email_journey"); err != nil || ok {
		t.Fatalf("second intent = %v, %v; want taken", ok, err)
	}
	if err := fx.Release(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	if ok, err := fx.Intend(ctx, "k1", "email_journey"); err != nil || !ok {
		t.Fatalf("intent after release = %v, %v", ok, err)
	}
	if err := fx.Sent(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	if err := fx.Release(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	if ok, err := fx.Intend(ctx, "k1", "email_journey"); err != nil || ok {
		t.Fatalf("intent after a sent one was released = %v, %v; want still taken", ok, err)
	}
	if _, err := fx.Intend(ctx, "", "email_journey"); err == nil {
		t.Fatal("an empty key was accepted")
	}
}

// TestBillingInboxOldDeferredEventsDoNotStarveNewOnes: with room for one
// event a run, the oldest deferred event is claimed first, then waits for its
// backoff while the newer one gets the slot (before, the oldest took every
// slot for ever).
func TestBillingInboxOldDeferredEventsDoNotStarveNewOnes(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO billing_inbox (event_id, type, created, payload, source, status, received_at, deferred_at, next_attempt_at) VALUES
		('evt_old', 'invoice.payment_failed', now(), '{}', 'webhook', 'deferred', now() - interval '3 days', now() - interval '3 days', now() - interval '3 days'),
		('evt_new', 'invoice.payment_failed', now(), '{}', 'webhook', 'deferred', now() - interval '1 hour', now() - interval '1 hour', now() - interval '1 hour')`); err != nil {
		t.Fatal(err)
	}
	inbox := postgres.NewBillingInbox(pool)
	one := testPolicy
	one.Limit = 1
	for _, want := range []string{"evt_old", "evt_new"} {
		ids, err := inbox.ClaimDue(ctx, one)
		if err != nil || !slices.Equal(ids, []string{want}) {
			t.Fatalf("claimed %v (%v), want %s", ids, err, want)
		}
	}
}
