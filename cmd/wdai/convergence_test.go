package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/stripe"
	"github.com/womendefiningai/platform/adapters/stripe/stripefake"
	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
)

// processDirect feeds a signed event through the same ingest path as the
// webhook, then processes every stored event synchronously (no router), so
// many seeds run quickly.
func processDirect(t *testing.T, l *lifecycle, raw []byte) {
	t.Helper()
	ev, err := stripe.EventFromJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	c := l.sys.app.Commands
	if _, err := c.IngestBillingEvent.Handle(t.Context(), application.IngestBillingEventInput{Event: ev, Source: application.SourceWebhook}); err != nil {
		t.Fatal(err)
	}
	if err := c.ProcessBillingEvent.Handle(t.Context(), application.ProcessBillingEventInput{EventID: ev.ID}); err != nil {
		t.Fatalf("process %s: %v", ev.Type, err)
	}
}

// TestShuffledDuplicatedDeliveriesConverge runs 200 seeds. Each seed plays
// a random lifecycle at the stand-in (signup, failed payments, recovery,
// scheduled cancellation, withdrawal, deletion), delivering the events of
// each step, duplicated, in a shuffled order interleaved with later steps.
// Whatever the order, the membership ends in the stand-in's final state.
func TestShuffledDuplicatedDeliveriesConverge(t *testing.T) {
	t.Parallel()
	l := newLifecycle(t, false)
	seeds := 200
	if testing.Short() {
		seeds = 20
	}
	if v, err := strconv.Atoi(os.Getenv("WDAI_CHAOS_SEEDS")); err == nil && v > 0 {
		seeds = v // make chaos (R2): 1,000 seeds
	}
	for seed := range seeds {
		rng := rand.New(rand.NewPCG(uint64(seed), 42))
		n := fmt.Sprintf("conv%d", seed)
		email := n + "@example.test"
		person := l.newPerson(email)
		now := time.Now()
		sub := stripefake.Subscription{ID: "sub_" + n, Customer: "cus_" + n, Status: "incomplete", PriceID: testPriceID, CurrentPeriodEnd: now.Add(30 * 24 * time.Hour)}

		var pending [][]byte
		step := func(typ string) {
			pending = append(pending, l.stripe.ChangeSubscription(typ, time.Now(), sub))
		}
		step("customer.subscription.created")
		pending = append(pending, stripefake.CheckoutSessionCompletedEvent("evt_cs_"+n, now, stripefake.CheckoutSession{
			Customer: sub.Customer, Subscription: sub.ID, ClientReferenceID: person, CustomerEmail: email}))
		sub.Status = "active"
		step("customer.subscription.updated")
		for range rng.IntN(6) {
			switch rng.IntN(5) {
			case 0:
				sub.Status, sub.LatestInvoiceAttempt = "past_due", sub.LatestInvoiceAttempt+1
				step("customer.subscription.updated")
				pending = append(pending, stripefake.InvoicePaymentFailedEvent(l.stripe.NewEventID(), time.Now(), stripefake.Invoice{
					ID: "in_" + n, Customer: sub.Customer, Subscription: sub.ID, AttemptCount: sub.LatestInvoiceAttempt}))
			case 1:
				sub.Status, sub.LatestInvoiceAttempt = "active", 0
				step("customer.subscription.updated")
			case 2:
				sub.CancelAtPeriodEnd = true
				step("customer.subscription.updated")
			case 3:
				sub.CancelAtPeriodEnd = false
				step("customer.subscription.updated")
			case 4:
				sub.CurrentPeriodEnd = sub.CurrentPeriodEnd.Add(30 * 24 * time.Hour)
				step("customer.subscription.updated")
			}
			// Some of what is pending arrives now, shuffled and duplicated.
			rng.Shuffle(len(pending), func(i, j int) { pending[i], pending[j] = pending[j], pending[i] })
			k := rng.IntN(len(pending) + 1)
			for _, ev := range pending[:k] {
				processDirect(t, l, ev)
				if rng.IntN(2) == 0 {
					processDirect(t, l, ev)
				}
			}
			pending = pending[k:]
		}
		if rng.IntN(3) == 0 {
			sub.Status = "canceled"
			step("customer.subscription.deleted")
		}
		dup := append(append([][]byte{}, pending...), pending...)
		rng.Shuffle(len(dup), func(i, j int) { dup[i], dup[j] = dup[j], dup[i] })
		for _, ev := range dup {
			processDirect(t, l, ev)
		}

		want := map[string]string{"incomplete": "pending", "active": "active", "past_due": "past_due", "canceled": "canceled"}[sub.Status]
		m := l.membership(person)
		if m.Status != want || (want != "canceled" && m.CancelAtPeriod != sub.CancelAtPeriodEnd) || (want == "canceled" && m.Visible) {
			t.Fatalf("seed %d: membership %+v, stand-in ends %s (cancel at period end %v)", seed, m, sub.Status, sub.CancelAtPeriodEnd)
		}
		// Activated happens at most once; it must have happened when the
		// final state is a member state. (When every delivery arrives after
		// the deletion, we never saw the active phase, so neither Activated
		// nor alumni can be asserted.)
		activated := l.eventCount(person, "activated")
		if activated > 1 || (want != "canceled" && activated != 1) || m.Alumni != (want == "canceled" && activated == 1) {
			t.Fatalf("seed %d: Activated %d times, alumni %v, final %s", seed, activated, m.Alumni, want)
		}
	}
}

// TestReconcileEnqueuesExactlyTheMissingEvents: 8 events at the provider,
// 3 delivered by webhook; reconciliation enqueues the other 5 and then none.
func TestReconcileEnqueuesExactlyTheMissingEvents(t *testing.T) {
	t.Parallel()
	l := newLifecycle(t, false)
	person := l.newPerson("rec@example.test")
	events, sub := signUp(l, person, "rec@example.test", "rec")
	for i := range 5 {
		sub.CurrentPeriodEnd = sub.CurrentPeriodEnd.Add(time.Duration(i+1) * time.Hour)
		events = append(events, l.stripe.ChangeSubscription("customer.subscription.updated", time.Now(), sub))
	}
	for _, ev := range events[:3] {
		if code := l.deliver(ev); code != 200 {
			t.Fatalf("deliver: %d", code)
		}
	}
	l.waitIdle()
	reconcile := l.sys.app.Commands.ReconcileBilling
	since := time.Now().Add(-72 * time.Hour)

	dry, err := reconcile.Handle(context.Background(), application.ReconcileBillingInput{Since: since, DryRun: true})
	if err != nil || dry.Seen != 8 || dry.Present != 3 || dry.Enqueued != 5 {
		t.Fatalf("dry run = %+v, %v; want seen 8, present 3, would enqueue 5", dry, err)
	}
	if n := l.count(`SELECT count(*) FROM billing_inbox`); n != 3 {
		t.Fatalf("dry run stored events: inbox %d", n)
	}
	first, err := reconcile.Handle(context.Background(), application.ReconcileBillingInput{Since: since})
	if err != nil || first.Enqueued != 5 || first.Present != 3 {
		t.Fatalf("first run = %+v, %v; want enqueued 5", first, err)
	}
	second, err := reconcile.Handle(context.Background(), application.ReconcileBillingInput{Since: since})
	if err != nil || second.Enqueued != 0 || second.Present != 8 {
		t.Fatalf("second run = %+v, %v; want enqueued 0", second, err)
	}
	l.waitIdle()
	if n := l.count(`SELECT count(*) FROM billing_inbox WHERE source = 'reconcile' AND status = 'processed'`); n != 5 {
		t.Fatalf("reconciled events processed = %d, want 5", n)
	}
}

func TestCheckoutAndPortalThroughTheBillingProvider(t *testing.T) {
	t.Parallel()
	l := newLifecycle(t, false)
	person := l.newPerson("new@example.test")
	user, _ := access.NewUser(person, access.RoleMember, false) // not a member yet: checkout needs only a sign-in
	ctx := application.WithPrincipal(t.Context(), user)
	c := l.sys.app.Commands

	if _, err := c.OpenBillingPortal.Handle(ctx); err == nil {
		t.Fatal("portal opened for a person without a billing customer")
	}
	if _, err := c.StartCheckout.Handle(ctx, "professional"); err == nil || !strings.Contains(err.Error(), "no price") {
		t.Fatalf("checkout of an unpriced tier: %v", err)
	}
	checkoutURL, err := c.StartCheckout.Handle(ctx, "community")
	if err != nil || checkoutURL == "" {
		t.Fatalf("StartCheckout = %q, %v", checkoutURL, err)
	}
	form := lastForm(t, l, "/v1/checkout/sessions")
	if form.Get("client_reference_id") != person || form.Get("mode") != "subscription" || form.Get("customer_email") != "new@example.test" ||
		form.Get("line_items[0][price]") != testPriceID {
		t.Fatalf("checkout request = %v", form)
	}

	// Once linked to a customer, checkout reuses it and the portal opens.
	if _, err := l.pool.Exec(ctx, `UPDATE people SET billing_customer_id = 'cus_existing' WHERE id = $1`, person); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StartCheckout.Handle(ctx, "community"); err != nil {
		t.Fatal(err)
	}
	if form := lastForm(t, l, "/v1/checkout/sessions"); form.Get("customer") != "cus_existing" || form.Get("customer_email") != "" {
		t.Fatalf("second checkout = %v, want the existing customer reused", form)
	}
	portal, err := c.OpenBillingPortal.Handle(ctx)
	if err != nil || portal == "" {
		t.Fatalf("portal = %q, %v", portal, err)
	}
	if form := lastForm(t, l, "/v1/billing_portal/sessions"); form.Get("customer") != "cus_existing" {
		t.Fatalf("portal request = %v", form)
	}
	if _, err := c.StartCheckout.Handle(t.Context(), "community"); err == nil {
		t.Fatal("anonymous checkout allowed")
	}
}

func lastForm(t *testing.T, l *lifecycle, path string) url.Values {
	t.Helper()
	reqs := l.stripe.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Method == "POST" && reqs[i].Path == path {
			return reqs[i].Form
		}
	}
	t.Fatalf("no POST %s", path)
	return nil
}

// TestReconcileRequeuesDeferredEvents: a subscription event for a customer
// no person is linked to waits as deferred; once the customer is linked,
// reconciliation queues it again and it is applied.
func TestReconcileRequeuesDeferredEvents(t *testing.T) {
	t.Parallel()
	l := newLifecycle(t, false)
	person := l.newPerson("late@example.test")
	sub := stripefake.Subscription{ID: "sub_late", Customer: "cus_late", Status: "active", PriceID: testPriceID, CurrentPeriodEnd: time.Now().Add(720 * time.Hour)}
	if code := l.deliver(l.stripe.ChangeSubscription("customer.subscription.created", time.Now(), sub)); code != 200 {
		t.Fatalf("deliver: %d", code)
	}
	l.waitIdle()
	if n := l.count(`SELECT count(*) FROM billing_inbox WHERE status = 'deferred'`); n != 1 {
		t.Fatalf("deferred events = %d, want 1", n)
	}
	if _, err := l.pool.Exec(t.Context(), `UPDATE people SET billing_customer_id = 'cus_late' WHERE id = $1`, person); err != nil {
		t.Fatal(err)
	}
	res, err := l.sys.app.Commands.ReconcileBilling.Handle(context.Background(), application.ReconcileBillingInput{Since: time.Now().Add(-time.Hour)})
	if err != nil || res.Requeued != 1 {
		t.Fatalf("reconcile = %+v, %v; want 1 requeued", res, err)
	}
	l.waitIdle()
	if m := l.membership(person); m.Status != "active" {
		t.Fatalf("after the requeue: %+v, want active", m)
	}
}
