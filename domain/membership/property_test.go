package membership_test

import (
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/womendefiningai/platform/domain/membership"
)

var (
	propSubscriptions    = []string{"sub_a", "sub_b", "sub_c"}
	propTiers            = []string{"standard", "premium", "unknown"}
	propProviderStatuses = []membership.ProviderStatus{
		membership.ProviderIncomplete, membership.ProviderIncompleteExpired, membership.ProviderTrialing,
		membership.ProviderActive, membership.ProviderPastDue, membership.ProviderCanceled,
		membership.ProviderUnpaid, membership.ProviderPaused,
	}
)

// snapshotGen draws snapshots of the given subscriptions and tiers, taken
// within maxHour hours, with period ends in the same range so that snapshots
// taken after their own period end are common.
func snapshotGen(maxHour int, subscriptions, tiers []string) *rapid.Generator[membership.Snapshot] {
	return rapid.Custom(func(t *rapid.T) membership.Snapshot {
		s, err := membership.NewSnapshot(membership.SnapshotParams{
			SubscriptionID:    rapid.SampledFrom(subscriptions).Draw(t, "subscription"),
			Status:            rapid.SampledFrom(propProviderStatuses).Draw(t, "status"),
			Tier:              tier(rapid.SampledFrom(tiers).Draw(t, "tier")),
			CancelAtPeriodEnd: rapid.Bool().Draw(t, "cancelAtPeriodEnd"),
			CurrentPeriodEnd:  at(rapid.IntRange(1, maxHour).Draw(t, "periodEnd")),
			TakenAt:           at(rapid.IntRange(0, maxHour).Draw(t, "takenAt")),
			PaymentAttempt:    rapid.IntRange(0, 4).Draw(t, "attempt"),
		})
		if err != nil {
			t.Fatalf("generator built an invalid snapshot: %v", err)
		}
		return s
	})
}

// history draws a set of snapshots in which each subscription's snapshots
// have distinct times (so "the newest" is well defined), then a delivery
// sequence of them: every snapshot at least once, some more than once, in
// any order.
func history(t *rapid.T) (set, deliveries []membership.Snapshot) {
	drawn := rapid.SliceOfN(snapshotGen(60, propSubscriptions, propTiers), 1, 12).Draw(t, "snapshots")
	type key struct {
		sub string
		at  time.Time
	}
	seen := map[key]bool{}
	for _, s := range drawn {
		k := key{s.SubscriptionID(), s.TakenAt()}
		if !seen[k] {
			seen[k] = true
			set = append(set, s)
		}
	}
	repeats := rapid.SliceOfN(rapid.SampledFrom(set), 0, 6).Draw(t, "repeats")
	deliveries = rapid.Permutation(append(slices.Clone(set), repeats...)).Draw(t, "order")
	return set, deliveries
}

// newestOnly applies, to a fresh membership, only the newest snapshot of
// each subscription.
func newestOnly(t *rapid.T, set []membership.Snapshot) *membership.Membership {
	newest := map[string]membership.Snapshot{}
	for _, s := range set {
		if n, ok := newest[s.SubscriptionID()]; !ok || s.TakenAt().After(n.TakenAt()) {
			newest[s.SubscriptionID()] = s
		}
	}
	m := newMembership(t)
	for _, id := range slices.Sorted(maps.Keys(newest)) {
		if _, err := m.ApplySnapshot(newest[id]); err != nil {
			t.Fatalf("applying the newest snapshot of %s: %v", id, err)
		}
	}
	return m
}

// checkInvariants asserts what must hold after every step. everMember says
// whether the membership has been active or past_due at some point.
func checkInvariants(t *rapid.T, m *membership.Membership, everMember bool) {
	t.Helper()
	if m.Status() == membership.StatusActive && m.Tier().IsZero() {
		t.Fatalf("active without a tier")
	}
	if m.Alumni() && !everMember {
		t.Fatalf("alumni but never active")
	}
	if m.Alumni() && m.Status().IsMember() {
		t.Fatalf("alumni while %s", m.Status())
	}
	if m.CancelAtPeriodEnd() && !m.Status().IsMember() {
		t.Fatalf("cancellation scheduled while %s", m.Status())
	}
	if m.PaymentAttempt() != 0 && m.Status() != membership.StatusPastDue {
		t.Fatalf("payment attempt %d while %s", m.PaymentAttempt(), m.Status())
	}
	rebuilt, err := membership.FromStore(recordOf(m))
	if err != nil {
		t.Fatalf("FromStore(record of a reachable membership): %v", err)
	}
	if got, want := viewOf(rebuilt), viewOf(m); !got.equal(want) {
		t.Fatalf("FromStore does not rebuild exactly:\n got %+v\nwant %+v", got, want)
	}
}

// TestPropertySnapshotsConvergeToTheNewest: whatever the order, the
// duplicates and the person's attempts to show themselves in the directory,
// a membership ends in the state given by the newest snapshot of each
// subscription; a stale snapshot is refused with StaleSnapshotError and
// changes nothing; applying a snapshot again changes nothing; the
// invariants hold after every step.
func TestPropertySnapshotsConvergeToTheNewest(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		set, deliveries := history(t)
		m := newMembership(t)
		applied := map[string]time.Time{}
		everMember := false

		for _, s := range deliveries {
			before := viewOf(m)
			events, err := m.ApplySnapshot(s)
			last, known := applied[s.SubscriptionID()]
			switch {
			case known && s.TakenAt().Before(last):
				var stale membership.StaleSnapshotError
				if !errors.As(err, &stale) {
					t.Fatalf("snapshot taken %s after one taken %s: error %v, want StaleSnapshotError", s.TakenAt(), last, err)
				}
				if !stale.Applied.Equal(last) || !stale.Got.Equal(s.TakenAt()) || stale.SubscriptionID != s.SubscriptionID() {
					t.Fatalf("StaleSnapshotError %+v, want applied %s, got %s", stale, last, s.TakenAt())
				}
			case known && s.TakenAt().Equal(last):
				// Times are distinct per subscription: this is a repeat.
				if err != nil {
					t.Fatalf("repeated snapshot: %v", err)
				}
			default:
				if err != nil {
					t.Fatalf("newer snapshot: %v", err)
				}
				applied[s.SubscriptionID()] = s.TakenAt()
			}
			if err != nil || (known && s.TakenAt().Equal(last)) {
				if events != nil {
					t.Fatalf("refused or repeated snapshot yielded events %v", eventNames(events))
				}
				if after := viewOf(m); !after.equal(before) {
					t.Fatalf("refused or repeated snapshot changed the state:\n got %+v\nwant %+v", after, before)
				}
			}

			// Applying the same snapshot again is always a no-op.
			before = viewOf(m)
			again, err := m.ApplySnapshot(s)
			var stale membership.StaleSnapshotError
			if (err != nil && !errors.As(err, &stale)) || again != nil || !viewOf(m).equal(before) {
				t.Fatalf("second application: events %v, error %v, state changed %t", eventNames(again), err, !viewOf(m).equal(before))
			}

			if m.Status().IsMember() {
				everMember = true
			}
			if rapid.Bool().Draw(t, "show in directory") {
				hasAccess := rapid.Bool().Draw(t, "has access")
				err := m.SetVisible(true, hasAccess)
				if hasAccess != (err == nil) || (!hasAccess && !errors.Is(err, membership.ErrNotActive)) {
					t.Fatalf("SetVisible(true, %v) while %s: %v", hasAccess, m.Status(), err)
				}
			}
			checkInvariants(t, m, everMember)
		}

		want := newestOnly(t, set)
		if got, want := viewOf(m).billing(), viewOf(want).billing(); !got.equal(want) {
			t.Fatalf("did not converge to the newest snapshots:\n got %+v\nwant %+v", got, want)
		}
	})
}

// TestPropertySameInstantSnapshotsDoNotDependOnOrder: when different
// snapshots of a subscription carry the same time, delivery order still does
// not decide the outcome, and each delivery is applied or refused as stale.
func TestPropertySameInstantSnapshotsDoNotDependOnOrder(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		// Variants of one snapshot, each differing from it in one fact.
		base := snapshotGen(3, propSubscriptions, propTiers).Draw(t, "base")
		set := []membership.Snapshot{base}
		for range rapid.IntRange(1, 6).Draw(t, "variants") {
			p := membership.SnapshotParams{
				SubscriptionID:    base.SubscriptionID(),
				Status:            base.Status(),
				Tier:              base.Tier(),
				CancelAtPeriodEnd: base.CancelAtPeriodEnd(),
				CurrentPeriodEnd:  base.CurrentPeriodEnd(),
				TakenAt:           base.TakenAt(),
				PaymentAttempt:    base.PaymentAttempt(),
			}
			switch rapid.IntRange(0, 5).Draw(t, "changed fact") {
			case 0:
				p.Status = rapid.SampledFrom(propProviderStatuses).Draw(t, "status")
			case 1:
				p.Tier = tier(rapid.SampledFrom(propTiers).Draw(t, "tier"))
			case 2:
				p.CancelAtPeriodEnd = !p.CancelAtPeriodEnd
			case 3:
				p.CurrentPeriodEnd = at(rapid.IntRange(1, 3).Draw(t, "periodEnd"))
			case 4:
				p.PaymentAttempt = rapid.IntRange(0, 4).Draw(t, "attempt")
			case 5:
				p.SubscriptionID = rapid.SampledFrom(propSubscriptions).Draw(t, "subscription")
			}
			set = append(set, snap(t, p))
		}
		first := rapid.Permutation(set).Draw(t, "first order")
		second := rapid.Permutation(set).Draw(t, "second order")

		deliver := func(order []membership.Snapshot) view {
			m := newMembership(t)
			for _, s := range order {
				_, err := m.ApplySnapshot(s)
				var stale membership.StaleSnapshotError
				if err != nil && !errors.As(err, &stale) {
					t.Fatalf("ApplySnapshot: %v", err)
				}
			}
			return viewOf(m).billing()
		}
		if a, b := deliver(first), deliver(second); !a.equal(b) {
			t.Fatalf("order decided the outcome:\n%+v\n%+v", a, b)
		}
	})
}

// TestPropertyPeriodEndAndProviderCancellationCommute: reaching the period
// end and receiving the provider's canceled snapshots end in the same state
// whichever comes first, with at most one Canceled between them.
func TestPropertyPeriodEndAndProviderCancellationCommute(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		_, deliveries := history(t)
		m := newMembership(t)
		for _, s := range deliveries {
			_, _ = m.ApplySnapshot(s) // stale deliveries are refused; the rest build a history
		}
		// Make a cancellation scheduled likely: a newest snapshot of sub_a.
		schedule := snap(t, membership.SnapshotParams{
			SubscriptionID:    "sub_a",
			Status:            rapid.SampledFrom([]membership.ProviderStatus{membership.ProviderActive, membership.ProviderPastDue}).Draw(t, "scheduled status"),
			Tier:              tier("standard"),
			CancelAtPeriodEnd: true,
			CurrentPeriodEnd:  at(rapid.IntRange(100, 200).Draw(t, "scheduled period end")),
			TakenAt:           at(70),
		})
		if _, err := m.ApplySnapshot(schedule); err != nil {
			t.Fatalf("applying the scheduling snapshot: %v", err)
		}
		if !m.CancelAtPeriodEnd() {
			if _, err := m.ReachPeriodEnd(at(1000)); !errors.Is(err, membership.ErrNoScheduledCancellation) {
				t.Fatalf("ReachPeriodEnd with nothing scheduled: %v", err)
			}
			return
		}
		now := m.CurrentPeriodEnd().Add(time.Duration(rapid.IntRange(0, 150).Draw(t, "hours after period end")) * time.Hour)

		// The provider's canceled snapshot of every subscription whose
		// scheduled period end has come, taken at or after that period end.
		var cancellations []membership.Snapshot
		for _, s := range m.Subscriptions() {
			if !s.Status.IsMember() || !s.CancelAtPeriodEnd || s.CurrentPeriodEnd.After(now) {
				continue
			}
			takenAt := s.CurrentPeriodEnd.Add(time.Duration(rapid.IntRange(0, 3).Draw(t, "provider delay")) * time.Hour)
			cancellations = append(cancellations, snap(t, membership.SnapshotParams{
				SubscriptionID:    s.ID,
				Status:            membership.ProviderCanceled,
				Tier:              s.Tier,
				CancelAtPeriodEnd: rapid.Bool().Draw(t, "provider keeps the cancel flag"),
				CurrentPeriodEnd:  s.CurrentPeriodEnd,
				TakenAt:           takenAt,
				PaymentAttempt:    rapid.IntRange(0, 4).Draw(t, "provider attempt"),
			}))
		}

		countCanceled := func(events []membership.Event) int {
			return len(slices.DeleteFunc(events, func(e membership.Event) bool { return e.Name() != membership.NameCanceled }))
		}

		periodEndFirst, err := membership.FromStore(recordOf(m))
		if err != nil {
			t.Fatal(err)
		}
		events, err := periodEndFirst.ReachPeriodEnd(now)
		if err != nil {
			t.Fatalf("ReachPeriodEnd: %v", err)
		}
		canceledA := countCanceled(events)
		for _, c := range cancellations {
			events, err := periodEndFirst.ApplySnapshot(c)
			if err != nil || events != nil {
				t.Fatalf("provider's canceled snapshot after the period end: %v, %v; want nothing", eventNames(events), err)
			}
		}

		providerFirst, err := membership.FromStore(recordOf(m))
		if err != nil {
			t.Fatal(err)
		}
		canceledB := 0
		for _, c := range cancellations {
			events, err := providerFirst.ApplySnapshot(c)
			if err != nil {
				t.Fatalf("provider's canceled snapshot: %v", err)
			}
			canceledB += countCanceled(events)
		}
		_, err = providerFirst.ReachPeriodEnd(now)
		if !errors.Is(err, membership.ErrNoScheduledCancellation) && !errors.Is(err, membership.ErrPeriodNotEnded) {
			t.Fatalf("ReachPeriodEnd after the provider's cancellation: %v, want a named error", err)
		}

		if a, b := viewOf(periodEndFirst), viewOf(providerFirst); !a.equal(b) {
			t.Fatalf("order decided the outcome:\nperiod end first %+v\nprovider first   %+v", a, b)
		}
		if canceledA != canceledB || canceledA > 1 {
			t.Fatalf("Canceled yielded %d times (period end first) and %d times (provider first)", canceledA, canceledB)
		}
		if periodEndFirst.Status() == membership.StatusCanceled && !periodEndFirst.Alumni() {
			t.Fatalf("canceled at period end but not alumni")
		}
	})
}
