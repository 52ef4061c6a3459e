package main

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/stripe/stripefake"
)

func TestJourneysFireOncePerTransitionAndUnsetOnesAreRecordedAsSkipped(t *testing.T) {
	t.Parallel()
	// Welcome back and recovered are configured; alumni is not.
	l := newLifecycle(t, true, map[string]string{
		"MAILCHIMP_WELCOME_BACK_JOURNEY_ID": "j_welcome_back", "MAILCHIMP_WELCOME_BACK_STEP_ID": "s_welcome_back",
		"MAILCHIMP_RECOVERED_JOURNEY_ID": "j_recovered", "MAILCHIMP_RECOVERED_STEP_ID": "s_recovered",
	})
	const email = "katherine@example.test"
	person := l.newPerson(email)
	events, sub := signUp(l, person, email, "50")
	deliverShuffled(t, l, rand.New(rand.NewPCG(50, 51)), 2, events...)
	l.waitIdle()

	// A status change: a payment fails, then succeeds; recovered fires once.
	sub.Status, sub.LatestInvoiceAttempt, sub.LatestInvoice = "past_due", 1, "in_50"
	deliverShuffled(t, l, rand.New(rand.NewPCG(52, 53)), 3, l.stripe.ChangeSubscription("customer.subscription.updated", time.Now(), sub))
	l.waitIdle()
	sub.Status, sub.LatestInvoiceAttempt = "active", 0
	deliverShuffled(t, l, rand.New(rand.NewPCG(54, 55)), 3, l.stripe.ChangeSubscription("customer.subscription.updated", time.Now().Add(time.Second), sub))
	l.waitIdle()
	if n := l.triggers("j_recovered", email); n != 1 {
		t.Fatalf("recovered journeys = %d, want 1", n)
	}

	// The member leaves: win-back fires once; alumni is not configured and
	// is recorded on the email state as skipped.
	sub.Status = "canceled"
	deliverShuffled(t, l, rand.New(rand.NewPCG(56, 57)), 3, l.stripe.ChangeSubscription("customer.subscription.deleted", time.Now().Add(2*time.Second), sub))
	l.waitIdle()
	if n := l.triggers("j_winback", email); n != 1 {
		t.Fatalf("win-back journeys = %d, want 1", n)
	}
	if n := l.count(`SELECT count(*) FROM integrations, jsonb_array_elements_text(state->'skipped_journeys_not_configured') k
		WHERE person_id = $1 AND provider = 'email_list' AND k LIKE 'alumni:%'`, person); n != 1 {
		t.Fatalf("skipped alumni journeys recorded = %d, want 1", n)
	}

	// The member rejoins with a new subscription: welcome back fires once,
	// welcome does not fire again.
	again := stripefake.Subscription{ID: "sub_50b", Customer: sub.Customer, Status: "active", PriceID: testPriceID, CurrentPeriodEnd: time.Now().Add(30 * 24 * time.Hour)}
	deliverShuffled(t, l, rand.New(rand.NewPCG(58, 59)), 3, l.stripe.ChangeSubscription("customer.subscription.created", time.Now().Add(3*time.Second), again))
	l.waitIdle()
	if m := l.membership(person); m.Status != "active" || m.Alumni {
		t.Fatalf("after rejoining: %+v, want active", m)
	}
	if n := l.triggers("j_welcome_back", email); n != 1 {
		t.Fatalf("welcome-back journeys = %d, want 1", n)
	}
	if n := l.triggers("j_welcome", email); n != 1 {
		t.Fatalf("welcome journeys = %d, want only the first one", n)
	}
	l.mc.AssertNoViolations(t)
}
