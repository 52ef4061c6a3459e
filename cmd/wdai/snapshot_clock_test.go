package main

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/ports"
)

// TestSnapshotOrderIgnoresASkewedWorkerClock: one replica's clock runs an
// hour ahead, another's an hour behind. The first applies the subscription
// as active; the provider then cancels it and the second replica syncs it.
// Stamped with the replicas' own clocks, the cancellation would look an
// hour older than the state applied and be dropped as stale; stamped with
// the database's time after each fetch, it is applied.
func TestSnapshotOrderIgnoresASkewedWorkerClock(t *testing.T) {
	t.Parallel()
	l := newLifecycle(t, false)
	person := l.newPerson("skew@example.test")
	events, sub := signUp(l, person, "skew@example.test", "4")
	deliverShuffled(t, l, rand.New(rand.NewPCG(31, 32)), 1, events...)
	l.waitIdle()
	if m := l.membership(person); m.Status != "active" {
		t.Fatalf("after sign-up: %+v, want active", m)
	}
	sync := func() {
		t.Helper()
		err := l.sys.app.Commands.SyncSubscription.Handle(context.Background(),
			application.SyncSubscriptionInput{SubscriptionID: sub.ID, Reason: ports.ReasonSubscriptionSync})
		if err != nil {
			t.Fatal(err)
		}
	}
	l.clock.Advance(time.Hour) // a replica an hour ahead
	sync()
	sub.Status = "canceled"
	l.stripe.SetSubscription(sub)
	l.clock.Advance(-2 * time.Hour) // another replica an hour behind
	sync()
	if m := l.membership(person); m.Status != "canceled" {
		t.Fatalf("after the provider canceled, synced by a replica whose clock is behind: %+v, want canceled", m)
	}
}
