package stripe_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/stripe/stripefake"
	"github.com/womendefiningai/platform/ports"
)

// TestListEventsResumesAfterAnEvent: a reconciliation page resumes the
// listing after the last event it saw, newest first, across the provider's
// pages of 100.
func TestListEventsResumesAfterAnEvent(t *testing.T) {
	t.Parallel()
	fake, b := newFake(t)
	const n = 250
	for i := range n {
		fake.AddEvent(stripefake.SubscriptionEvent(fmt.Sprintf("evt_%03d", i), "customer.subscription.updated", t0.Add(time.Duration(i)*time.Second),
			stripefake.Subscription{ID: "sub_1", Customer: "cus_1", Status: "active"}))
	}
	list := func(after string) []string {
		var ids []string
		if err := b.ListEvents(context.Background(), t0, after, func(e ports.BillingEvent) error { ids = append(ids, e.ID); return nil }); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	all := list("")
	if len(all) != n || all[0] != "evt_249" {
		t.Fatalf("listed %d events starting at %v, want %d newest first", len(all), all[:1], n)
	}
	if rest := list("evt_120"); !slices.Equal(rest, all[130:]) {
		t.Fatalf("after evt_120: %d events starting at %v, want the %d older ones", len(rest), rest[:min(1, len(rest))], len(all[130:]))
	}
}
