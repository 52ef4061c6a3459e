package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/stripe/stripefake"
	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
)

// TestReconciliationLeavesDeadLetteredEventsToTheOperator: a signed
// subscription event for a subscription the provider does not know is
// dead-lettered (permanent) and its inbox row stays 'received'.
// Reconciliation, run three times past RECONCILE_STUCK_AFTER, does not queue
// it again: still one dead letter (one alert), the row never claimed. Once
// the subscription exists, an operator's replay applies it.
func TestReconciliationLeavesDeadLetteredEventsToTheOperator(t *testing.T) {
	t.Parallel()
	l := newLifecycle(t, false, map[string]string{"RECONCILE_STUCK_AFTER": "1s"})
	ctx := context.Background()
	person := l.newPerson("late@example.test")
	sub := stripefake.Subscription{ID: "sub_x1", Customer: "cus_x1", Status: "active", PriceID: testPriceID, CurrentPeriodEnd: time.Now().Add(30 * 24 * time.Hour)}
	ev := stripefake.SubscriptionEvent("evt_unknown_sub", "customer.subscription.updated", time.Now(), sub)
	if code := l.deliver(ev); code != http.StatusOK {
		t.Fatalf("delivery answered %d", code)
	}
	deadline := time.Now().Add(30 * time.Second)
	for l.count(`SELECT count(*) FROM dead_letters WHERE topic = 'billing.event'`) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the event for an unknown subscription was not dead-lettered")
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(1100 * time.Millisecond) // past RECONCILE_STUCK_AFTER
	for i := range 3 {
		res, err := l.sys.app.Commands.ReconcileBilling.Handle(ctx, application.ReconcileBillingInput{Since: time.Now().Add(-time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if res.Requeued != 0 {
			t.Fatalf("reconciliation %d re-queued %d events, want 0: the only waiting one is dead-lettered", i+1, res.Requeued)
		}
	}
	time.Sleep(time.Second) // what a re-queue would have dead-lettered again
	if n := l.count(`SELECT count(*) FROM dead_letters`); n != 1 {
		t.Fatalf("%d dead letters after three reconciliations, want the first only", n)
	}
	if n := l.count(`SELECT attempts FROM billing_inbox WHERE event_id = 'evt_unknown_sub'`); n != 0 {
		t.Fatalf("the dead-lettered event was claimed %d times", n)
	}

	// The operator fixes the cause and replays: the event is applied.
	l.stripe.SetSubscription(sub)
	if _, err := l.pool.Exec(ctx, `UPDATE people SET billing_customer_id = 'cus_x1' WHERE id = $1`, person); err != nil {
		t.Fatal(err)
	}
	var dl string
	if err := l.pool.QueryRow(ctx, `SELECT id::text FROM dead_letters`).Scan(&dl); err != nil {
		t.Fatal(err)
	}
	operator, _ := access.NewSystem("cli:ops")
	if _, err := l.sys.app.Commands.ReplayDeadLetter.Handle(application.WithPrincipal(ctx, operator), dl); err != nil {
		t.Fatalf("replay: %v", err)
	}
	l.waitIdle()
	if n := l.count(`SELECT count(*) FROM billing_inbox WHERE event_id = 'evt_unknown_sub' AND status = 'processed'`); n != 1 {
		t.Fatal("the replayed event was not processed")
	}
	if m := l.membership(person); m.Status != "active" {
		t.Fatalf("membership after the replay %+v, want active", m)
	}
}
