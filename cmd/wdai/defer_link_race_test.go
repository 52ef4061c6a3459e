package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/adapters/stripe/stripefake"
	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/ports"
)

// TestNoEventStaysDeferredOnceItsCustomerIsLinked races the deferral of a
// customer's subscription events against the checkout that links the
// customer: in each of 40 rounds, one checkout.session.completed and 30
// customer.subscription.updated events of a new customer are processed in a
// shuffled order by 16 goroutines. Every subscription event must end either
// applied or queued again by the link: none may be left deferred and never
// claimed (attempts 0) while its customer is linked, which would wait for
// the next reconciliation.
func TestNoEventStaysDeferredOnceItsCustomerIsLinked(t *testing.T) {
	t.Parallel()
	l := newLifecycle(t, false)
	ctx := context.Background()
	inbox := postgres.NewBillingInbox(l.pool)
	const rounds, updates, workers = 40, 30, 16
	rng := rand.New(rand.NewPCG(1, 2)) //nolint:gosec // a shuffle, not a secret
	for r := range rounds {
		n := fmt.Sprintf("race%02d", r)
		person := l.newPerson(n + "@example.test")
		sub := stripefake.Subscription{ID: "sub_" + n, Customer: "cus_" + n, Status: "active", PriceID: testPriceID, CurrentPeriodEnd: time.Now().Add(30 * 24 * time.Hour)}
		l.stripe.SetSubscription(sub)
		ids := make([]string, 0, updates+1)
		for i := range updates + 1 {
			ev := ports.BillingEvent{ID: fmt.Sprintf("evt_%s_%02d", n, i), Kind: ports.BillingSubscriptionChanged, Type: "customer.subscription.updated",
				Created: time.Now(), Payload: []byte(`{}`), SubscriptionID: sub.ID, CustomerID: sub.Customer}
			if i == updates {
				ev.Kind, ev.Type, ev.ClientReferenceID, ev.CustomerEmail = ports.BillingCheckoutCompleted, "checkout.session.completed", person, n+"@example.test"
			}
			if _, err := inbox.Insert(ctx, ev, "webhook"); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, ev.ID)
		}
		rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := w; i < len(ids); i += workers {
					if err := l.sys.app.Commands.ProcessBillingEvent.Handle(ctx, application.ProcessBillingEventInput{EventID: ids[i]}); err != nil {
						t.Errorf("process %s: %v", ids[i], err)
					}
				}
			})
		}
		wg.Wait()
	}
	left := l.count(`SELECT count(*) FROM billing_inbox b JOIN people p ON p.billing_customer_id = b.customer_id
		WHERE b.status = 'deferred' AND b.attempts = 0`)
	linked := l.count(`SELECT count(*) FROM people WHERE billing_customer_id LIKE 'cus_race%'`)
	t.Logf("%d rounds: %d customers linked, %d events left deferred and unclaimed", rounds, linked, left)
	if linked != rounds || left != 0 {
		t.Fatalf("%d of %d customers linked; %d events left deferred, never queued again, after their customer was linked", linked, rounds, left)
	}
}
