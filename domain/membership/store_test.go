package membership_test

import (
	"errors"
	"testing"
	"time"

	"github.com/womendefiningai/platform/domain/membership"
)

func TestFromStoreRebuildsExactly(t *testing.T) {
	t.Parallel()
	m := newMembership(t)
	given(t, m, []step{
		apply(sp(subA, membership.ProviderActive, 1, tierNamed("premium"))),
		setVisible(true),
		apply(sp(subB, membership.ProviderPastDue, 2, attempt(2))),
		apply(sp(subA, membership.ProviderActive, 3, tierNamed("premium"), cancelAtEnd)),
	})

	rebuilt, err := membership.FromStore(recordOf(m))
	if err != nil {
		t.Fatalf("FromStore: %v", err)
	}
	if got, want := viewOf(rebuilt), viewOf(m); !got.equal(want) {
		t.Fatalf("rebuilt:\n got %+v\nwant %+v", got, want)
	}

	// The rebuilt membership behaves like the original: the same snapshot is
	// a no-op, an older one is stale.
	events, err := rebuilt.ApplySnapshot(snap(t, sp(subA, membership.ProviderActive, 3, tierNamed("premium"), cancelAtEnd)))
	if err != nil || events != nil {
		t.Errorf("re-applying the last snapshot = %v, %v; want nothing", events, err)
	}
	var stale membership.StaleSnapshotError
	if _, err := rebuilt.ApplySnapshot(snap(t, sp(subA, membership.ProviderActive, 1))); !errors.As(err, &stale) {
		t.Errorf("older snapshot error = %v, want StaleSnapshotError", err)
	}
}

func TestFromStoreWithTimesInAnotherZone(t *testing.T) {
	t.Parallel()
	paris := time.FixedZone("CET", 3600)
	r := membership.Record{
		PersonID:   "person_1",
		EverActive: true,
		Subscriptions: []membership.SubscriptionState{{
			ID: subA, Status: membership.StatusActive, Tier: tier("standard"),
			CurrentPeriodEnd: at(720).In(paris), SnapshotAt: at(5).In(paris),
		}},
	}
	m, err := membership.FromStore(r)
	if err != nil {
		t.Fatalf("FromStore: %v", err)
	}
	events, err := m.ApplySnapshot(snap(t, sp(subA, membership.ProviderActive, 5)))
	if err != nil || events != nil {
		t.Errorf("same snapshot read back in another zone = %v, %v; want nothing", events, err)
	}
}

func TestFromStoreRefusesImpossibleRecords(t *testing.T) {
	t.Parallel()
	active := membership.SubscriptionState{
		ID: subA, Status: membership.StatusActive, Tier: tier("standard"),
		CurrentPeriodEnd: at(720), SnapshotAt: at(1),
	}
	with := func(mod func(*membership.SubscriptionState)) []membership.SubscriptionState {
		s := active
		mod(&s)
		return []membership.SubscriptionState{s}
	}
	tests := []struct {
		name string
		r    membership.Record
	}{
		{"blank person id", membership.Record{PersonID: " "}},
		{"padded person id", membership.Record{PersonID: " person_1"}},
		{"blank subscription id", membership.Record{PersonID: "p", EverActive: true, Subscriptions: with(func(s *membership.SubscriptionState) { s.ID = "" })}},
		{"padded subscription id", membership.Record{PersonID: "p", EverActive: true, Subscriptions: with(func(s *membership.SubscriptionState) { s.ID = "sub_a " })}},
		{"invalid status", membership.Record{PersonID: "p", EverActive: true, Subscriptions: with(func(s *membership.SubscriptionState) { s.Status = 0 })}},
		{"missing tier", membership.Record{PersonID: "p", EverActive: true, Subscriptions: with(func(s *membership.SubscriptionState) { s.Tier = membership.Tier{} })}},
		{"missing snapshot time", membership.Record{PersonID: "p", EverActive: true, Subscriptions: with(func(s *membership.SubscriptionState) { s.SnapshotAt = time.Time{} })}},
		{"negative payment attempt", membership.Record{PersonID: "p", EverActive: true, Subscriptions: with(func(s *membership.SubscriptionState) { s.PaymentAttempt = -1 })}},
		{"cancellation without a period end", membership.Record{PersonID: "p", EverActive: true, Subscriptions: with(func(s *membership.SubscriptionState) {
			s.CancelAtPeriodEnd, s.CurrentPeriodEnd = true, time.Time{}
		})}},
		{"payment attempt while active", membership.Record{PersonID: "p", EverActive: true, Subscriptions: with(func(s *membership.SubscriptionState) { s.PaymentAttempt = 1 })}},
		{"cancellation scheduled on a canceled subscription", membership.Record{PersonID: "p", EverActive: true, Subscriptions: with(func(s *membership.SubscriptionState) {
			s.Status, s.CancelAtPeriodEnd = membership.StatusCanceled, true
		})}},
		{"scheduled cancellation already past its period end", membership.Record{PersonID: "p", EverActive: true, Subscriptions: with(func(s *membership.SubscriptionState) {
			s.CancelAtPeriodEnd, s.SnapshotAt = true, at(721)
		})}},
		{"the same subscription twice", membership.Record{PersonID: "p", EverActive: true, Subscriptions: []membership.SubscriptionState{active, active}}},
		{"active but never active", membership.Record{PersonID: "p", Subscriptions: []membership.SubscriptionState{active}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if m, err := membership.FromStore(tt.r); !errors.Is(err, membership.ErrInvalidRecord) {
				t.Errorf("FromStore = %v, %v; want ErrInvalidRecord", m, err)
			}
		})
	}
}
