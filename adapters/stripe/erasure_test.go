package stripe_test

import (
	"context"
	"testing"

	"github.com/womendefiningai/platform/adapters/stripe"
	"github.com/womendefiningai/platform/adapters/stripe/stripefake"
)

// Erasure's calls against stripe-mock, which refuses unknown parameters and
// malformed values, so every parameter sent is one Stripe accepts.
func TestErasureAgainstStripeMock(t *testing.T) {
	t.Parallel()
	root := stripefake.StartStripeMock(t)
	b, err := stripe.NewBilling(stripe.Config{SecretKey: stripefake.StripeMockKey, APIURL: root})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, atPeriodEnd := range []bool{false, true} {
		if err := b.CancelSubscription(ctx, "sub_123", atPeriodEnd); err != nil {
			t.Errorf("CancelSubscription(at period end %t): %v", atPeriodEnd, err)
		}
	}
	for _, remove := range []bool{true, false} {
		if err := b.EraseCustomer(ctx, "cus_123", remove); err != nil {
			t.Errorf("EraseCustomer(remove %t): %v", remove, err)
		}
	}
	if err := b.CancelSubscription(ctx, "", false); err == nil {
		t.Error("an empty subscription id was sent")
	}
}

// Against the stand-in: a canceled subscription, a deleted customer and
// one cleared; unknown ones are done.
func TestErasureAgainstTheStandIn(t *testing.T) {
	t.Parallel()
	fake := stripefake.New(t)
	b, err := stripe.NewBilling(stripe.Config{SecretKey: fake.SecretKey(), APIURL: fake.URL()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	fake.SetSubscription(stripefake.Subscription{ID: "sub_1", Customer: "cus_1", Status: "active", PriceID: "price_1"})
	fake.SetSubscription(stripefake.Subscription{ID: "sub_2", Customer: "cus_2", Status: "active", PriceID: "price_1"})
	if err := b.CancelSubscription(ctx, "sub_1", false); err != nil {
		t.Fatal(err)
	}
	if err := b.CancelSubscription(ctx, "sub_2", true); err != nil {
		t.Fatal(err)
	}
	if s, _ := fake.Subscription("sub_1"); s.Status != "canceled" {
		t.Errorf("sub_1 = %+v, want canceled", s)
	}
	if s, _ := fake.Subscription("sub_2"); s.Status != "active" || !s.CancelAtPeriodEnd {
		t.Errorf("sub_2 = %+v, want active, ending at its period end", s)
	}
	if err := b.CancelSubscription(ctx, "sub_unknown", false); err != nil {
		t.Errorf("an unknown subscription: %v, want done", err)
	}
	if err := b.EraseCustomer(ctx, "cus_1", true); err != nil || fake.Customer("cus_1") != "deleted" {
		t.Errorf("delete: %v, customer %q", err, fake.Customer("cus_1"))
	}
	if err := b.EraseCustomer(ctx, "cus_2", false); err != nil || fake.Customer("cus_2") != "cleared" {
		t.Errorf("clear: %v, customer %q", err, fake.Customer("cus_2"))
	}
}
