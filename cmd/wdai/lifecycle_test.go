package main

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/stripe/stripefake"
)

// signUp drives the New Member Signup flow at the billing provider: the
// subscription is created incomplete, then paid (active), and the checkout
// completes. It returns the three events, and the subscription.
func signUp(l *lifecycle, personID, email, n string) ([][]byte, stripefake.Subscription) {
	now := time.Now()
	sub := stripefake.Subscription{ID: "sub_" + n, Customer: "cus_" + n, Status: "incomplete", PriceID: testPriceID, CurrentPeriodEnd: now.Add(30 * 24 * time.Hour)}
	created := l.stripe.ChangeSubscription("customer.subscription.created", now, sub)
	sub.Status = "active"
	updated := l.stripe.ChangeSubscription("customer.subscription.updated", now.Add(time.Second), sub)
	checkout := stripefake.CheckoutSessionCompletedEvent("evt_cs_"+n, now.Add(2*time.Second), stripefake.CheckoutSession{
		Customer: sub.Customer, Subscription: sub.ID, ClientReferenceID: personID, CustomerEmail: email, CustomerName: "Ada Lovelace",
	})
	l.stripe.AddEvent(checkout)
	return [][]byte{created, updated, checkout}, sub
}

// deliverShuffled delivers every event times times, in a random order, from
// several goroutines at once, as Stripe's at-least-once, unordered delivery
// may.
func deliverShuffled(t *testing.T, l *lifecycle, rng *rand.Rand, times int, events ...[]byte) {
	t.Helper()
	var all [][]byte
	for range times {
		all = append(all, events...)
	}
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			for j := i; j < len(all); j += 3 {
				if code := l.deliver(all[j]); code != http.StatusOK {
					t.Errorf("delivery answered %d", code)
				}
			}
		})
	}
	wg.Wait()
}

func TestCheckoutInAnyOrderActivatesOnceAndWelcomesOnce(t *testing.T) {
	t.Parallel()
	l := newLifecycle(t, true)
	const email = "ada@example.test"
	person := l.newPerson(email)
	events, _ := signUp(l, person, email, "1")

	deliverShuffled(t, l, rand.New(rand.NewPCG(1, 2)), 3, events...)
	l.waitIdle()

	m := l.membership(person)
	if m.Status != "active" || m.Tier != "community" {
		t.Fatalf("membership = %+v, want active community", m)
	}
	if n := l.eventCount(person, "activated"); n != 1 {
		t.Fatalf("Activated applied %d times, want 1", n)
	}
	if n := l.count(`SELECT count(*) FROM billing_inbox`); n != 3 {
		t.Fatalf("inbox holds %d events, want 3 (duplicates stored once)", n)
	}
	if n := l.count(`SELECT count(*) FROM people WHERE billing_customer_id = 'cus_1' AND id = $1`, person); n != 1 {
		t.Fatal("checkout did not link the person to the customer")
	}
	// Mailchimp: one upsert, member/active/community active, one welcome.
	if n := l.mailchimpCalls(http.MethodPut, "/members/"); n != 1 {
		t.Errorf("upserts = %d, want 1", n)
	}
	tags, err := l.tags(email)
	if err != nil || !tags["member"] || !tags["active"] || !tags["community"] || tags["alumni"] || tags["past_due"] {
		t.Errorf("tags = %v (%v), want member, active, community", tags, err)
	}
	if n := l.triggers("j_welcome", email); n != 1 {
		t.Errorf("welcome triggers = %d, want 1", n)
	}
	l.mc.AssertNoViolations(t)

	// The same events again: nothing more reaches Mailchimp.
	before := l.mc.CallCount()
	deliverShuffled(t, l, rand.New(rand.NewPCG(3, 4)), 3, events...)
	l.waitIdle()
	if after := l.mc.CallCount(); after != before {
		t.Fatalf("redelivered events made %d more Mailchimp calls, want 0", after-before)
	}
	if n := l.eventCount(person, "activated"); n != 1 {
		t.Fatalf("Activated applied %d times after redelivery, want 1", n)
	}
}

func TestPaymentFailureNotifiesOncePerAttemptAndRecovers(t *testing.T) {
	t.Parallel()
	l := newLifecycle(t, true)
	const email = "grace@example.test"
	person := l.newPerson(email)
	events, sub := signUp(l, person, email, "2")
	deliverShuffled(t, l, rand.New(rand.NewPCG(5, 6)), 1, events...)
	l.waitIdle()

	for attempt := 1; attempt <= 2; attempt++ {
		sub.Status, sub.LatestInvoiceAttempt, sub.LatestInvoice = "past_due", attempt, "in_2"
		updated := l.stripe.ChangeSubscription("customer.subscription.updated", time.Now(), sub)
		failed := stripefake.InvoicePaymentFailedEvent(l.stripe.NewEventID(), time.Now(), stripefake.Invoice{
			ID: "in_2", Customer: sub.Customer, Subscription: sub.ID, AttemptCount: attempt, NextPaymentAttempt: time.Now().Add(48 * time.Hour),
		})
		deliverShuffled(t, l, rand.New(rand.NewPCG(uint64(attempt), 7)), 3, updated, failed)
		l.waitIdle()
		if m := l.membership(person); m.Status != "past_due" {
			t.Fatalf("attempt %d: status %s, want past_due", attempt, m.Status)
		}
		if n := l.count(`SELECT count(*) FROM payment_failure_notices WHERE invoice_id = 'in_2'`); n != attempt {
			t.Fatalf("notifications after attempt %d = %d, want one per attempt", attempt, n)
		}
		if n := l.triggers("j_failed", email); n != attempt {
			t.Fatalf("payment-failed journeys after attempt %d = %d", attempt, n)
		}
	}
	tags, _ := l.tags(email)
	if !tags["past_due"] || tags["active"] || !tags["member"] {
		t.Errorf("tags while past due = %v", tags)
	}

	sub.Status, sub.LatestInvoiceAttempt = "active", 0
	deliverShuffled(t, l, rand.New(rand.NewPCG(8, 9)), 2, l.stripe.ChangeSubscription("customer.subscription.updated", time.Now(), sub))
	l.waitIdle()
	if m := l.membership(person); m.Status != "active" {
		t.Fatalf("after recovery: %s, want active", m.Status)
	}
	if n := l.eventCount(person, "payment_recovered"); n != 1 {
		t.Fatalf("PaymentRecovered = %d, want 1", n)
	}
	l.mc.AssertNoViolations(t)
}

func TestCancelAtPeriodEndKeepsAccessUntilTheEnd(t *testing.T) {
	t.Parallel()
	l := newLifecycle(t, true)
	const email = "hedy@example.test"
	person := l.newPerson(email)
	events, sub := signUp(l, person, email, "3")
	deliverShuffled(t, l, rand.New(rand.NewPCG(10, 11)), 1, events...)
	l.waitIdle()
	if _, err := l.pool.Exec(t.Context(), `UPDATE memberships SET visible = true WHERE person_id = $1`, person); err != nil {
		t.Fatal(err)
	}

	// The member cancels in the portal: the period ends in 2 s.
	end := time.Now().Add(2 * time.Second).Truncate(time.Second)
	sub.CancelAtPeriodEnd, sub.CurrentPeriodEnd = true, end
	deliverShuffled(t, l, rand.New(rand.NewPCG(12, 13)), 3, l.stripe.ChangeSubscription("customer.subscription.updated", time.Now(), sub))
	l.waitIdle()
	if m := l.membership(person); m.Status != "active" || !m.CancelAtPeriod || !m.Visible {
		t.Fatalf("after scheduling: %+v, want still active (and visible) until the end", m)
	}
	if n := l.count(`SELECT count(*) FROM watermill_delayed`); n < 1 {
		t.Fatal("no membership.period_end was scheduled")
	}

	// The clock reaches the period end; the scheduled job runs.
	l.clock.Advance(3 * time.Second)
	deadline := time.Now().Add(15 * time.Second)
	for l.membership(person).Status != "canceled" {
		if time.Now().After(deadline) {
			t.Fatalf("not canceled after the period end: %+v", l.membership(person))
		}
		time.Sleep(100 * time.Millisecond)
	}
	l.waitIdle()
	if m := l.membership(person); m.Visible || !m.Alumni {
		t.Fatalf("at the end: %+v, want canceled, hidden, alumni", m)
	}
	if n := l.eventCount(person, "canceled"); n != 1 {
		t.Fatalf("Canceled = %d, want 1", n)
	}

	// Stripe's own deletion, later, changes nothing more.
	sub.Status = "canceled"
	deliverShuffled(t, l, rand.New(rand.NewPCG(14, 15)), 2, l.stripe.ChangeSubscription("customer.subscription.deleted", time.Now(), sub))
	l.waitIdle()
	if n := l.eventCount(person, "canceled"); n != 1 {
		t.Fatalf("Canceled after Stripe's deletion = %d, want still 1", n)
	}
	tags, _ := l.tags(email)
	if tags["active"] || !tags["alumni"] || tags["member"] {
		t.Errorf("tags after the end = %v, want active off, alumni on", tags)
	}
	if n := l.triggers("j_winback", email); n != 1 {
		t.Errorf("win-back triggers = %d, want 1", n)
	}
	l.mc.AssertNoViolations(t)
}

func TestSubscriptionDeletedCancels(t *testing.T) {
	t.Parallel()
	l := newLifecycle(t, false)
	person := l.newPerson("ida@example.test")
	events, sub := signUp(l, person, "ida@example.test", "4")
	deliverShuffled(t, l, rand.New(rand.NewPCG(16, 17)), 1, events...)
	l.waitIdle()
	sub.Status = "canceled"
	deliverShuffled(t, l, rand.New(rand.NewPCG(18, 19)), 3, l.stripe.ChangeSubscription("customer.subscription.deleted", time.Now(), sub))
	l.waitIdle()
	if m := l.membership(person); m.Status != "canceled" || m.Visible || !m.Alumni {
		t.Fatalf("after deletion: %+v, want canceled, hidden, alumni", m)
	}
	// Mailchimp is not configured here: syncs are recorded as skipped.
	if n := l.count(`SELECT count(*) FROM integrations WHERE person_id = $1 AND note = 'skipped: not configured'`, person); n != 1 {
		t.Fatalf("unconfigured email sync not recorded as skipped")
	}
	if l.mc.CallCount() != 0 {
		t.Fatal("unconfigured Mailchimp was called")
	}
}

func TestWebhookRefusesBadSignaturesAndIgnoresUnknownTypes(t *testing.T) {
	t.Parallel()
	l := newLifecycle(t, false)
	event := stripefake.SubscriptionEvent("evt_bad", "customer.subscription.updated", time.Now(), stripefake.Subscription{ID: "sub_x", Customer: "cus_x", Status: "active"})
	body, header := l.stripe.SignedWebhook("whsec_someone_else", event)
	if code := l.post(body, header); code != http.StatusBadRequest {
		t.Errorf("wrong secret: %d, want 400", code)
	}
	if code := l.post(event, ""); code != http.StatusBadRequest {
		t.Errorf("no signature: %d, want 400", code)
	}
	good, goodHeader := l.stripe.SignedWebhook(testWebhookSecret, event)
	if code := l.post(bytes.Replace(good, []byte("active"), []byte("canceled"), 1), goodHeader); code != http.StatusBadRequest {
		t.Errorf("tampered: %d, want 400", code)
	}
	old, oldHeader := stripefake.SignedWebhookAt(testWebhookSecret, event, time.Now().Add(-6*time.Minute))
	if code := l.post(old, oldHeader); code != http.StatusBadRequest {
		t.Errorf("stale: %d, want 400", code)
	}
	if code := l.post(bytes.Repeat([]byte("x"), 1<<20+1), goodHeader); code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized: %d, want 413", code)
	}
	if n := l.count(`SELECT count(*) FROM billing_inbox`); n != 0 {
		t.Fatalf("refused deliveries stored %d events", n)
	}

	refund := []byte(`{"id":"evt_refund","object":"event","api_version":"2020-08-27","created":1700000000,"type":"charge.refunded","data":{"object":{"id":"ch_1","object":"charge"}}}`)
	if code := l.deliver(refund); code != http.StatusOK {
		t.Fatalf("unknown type: %d, want 200", code)
	}
	l.waitIdle()
	if n := l.count(`SELECT count(*) FROM billing_inbox WHERE event_id = 'evt_refund' AND status = 'ignored'`); n != 1 {
		t.Fatal("unknown event type not recorded as ignored")
	}
}
