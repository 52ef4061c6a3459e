package membership_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/womendefiningai/platform/domain/membership"
)

const (
	subA = "sub_a"
	subB = "sub_b"
)

// TestTransitions names every transition of the seed's "Payment Retry Logic"
// diagram, and the ones this package adds around it, with the events each
// yields and the state it leaves.
func TestTransitions(t *testing.T) {
	t.Parallel()
	var (
		activeA    = sp(subA, membership.ProviderActive, 1)
		scheduledA = sp(subA, membership.ProviderActive, 2, cancelAtEnd)
		pastDueA   = sp(subA, membership.ProviderPastDue, 3, attempt(1))
		canceledA  = sp(subA, membership.ProviderCanceled, 4)
	)
	tests := []struct {
		name        string
		given       []step
		when        step
		want        []membership.Event
		wantStatus  membership.Status
		wantVisible bool
		wantAlumni  bool
	}{
		{
			name:       "[*] → active: subscription created (first activation)",
			when:       apply(activeA),
			want:       []membership.Event{membership.Activated{Tier: tier("standard")}},
			wantStatus: membership.StatusActive,
		},
		{
			name:       "[*] → active: trial started",
			when:       apply(sp(subA, membership.ProviderTrialing, 1, tierNamed("premium"))),
			want:       []membership.Event{membership.Activated{Tier: tier("premium")}},
			wantStatus: membership.StatusActive,
		},
		{
			name:       "[*] → pending: checkout begun, not paid",
			when:       apply(sp(subA, membership.ProviderIncomplete, 0)),
			want:       nil,
			wantStatus: membership.StatusPending,
		},
		{
			name:       "pending → active: first payment succeeded",
			given:      []step{apply(sp(subA, membership.ProviderIncomplete, 0))},
			when:       apply(activeA),
			want:       []membership.Event{membership.Activated{Tier: tier("standard")}},
			wantStatus: membership.StatusActive,
		},
		{
			name:       "pending → canceled: checkout expired, never a member",
			given:      []step{apply(sp(subA, membership.ProviderIncomplete, 0))},
			when:       apply(sp(subA, membership.ProviderIncompleteExpired, 1)),
			want:       nil,
			wantStatus: membership.StatusCanceled,
			wantAlumni: false,
		},
		{
			name:        "active → past_due: payment failed",
			given:       []step{apply(activeA), setVisible(true)},
			when:        apply(pastDueA),
			want:        []membership.Event{membership.PaymentFailed{Attempt: 1}},
			wantStatus:  membership.StatusPastDue,
			wantVisible: true,
		},
		{
			name: "active → suspended: subscription paused",
			// The choice to be listed stays: losing access (the ledger's
			// call) is what hides a member, in the application.
			wantVisible: true,
			given:       []step{apply(activeA), setVisible(true)},
			when:        apply(sp(subA, membership.ProviderPaused, 3)),
			want:        []membership.Event{membership.Suspended{}},
			wantStatus:  membership.StatusSuspended,
		},
		{
			name:        "suspended → active: a paused subscription resumes",
			given:       []step{apply(activeA), apply(sp(subA, membership.ProviderPaused, 3))},
			when:        apply(sp(subA, membership.ProviderActive, 5)),
			want:        []membership.Event{membership.PaymentRecovered{}},
			wantStatus:  membership.StatusActive,
			wantVisible: false,
		},
		{
			name:       "suspended → suspended: paused then unpaid changes nothing",
			given:      []step{apply(activeA), apply(sp(subA, membership.ProviderPaused, 3))},
			when:       apply(sp(subA, membership.ProviderUnpaid, 5)),
			want:       nil,
			wantStatus: membership.StatusSuspended,
		},
		{
			name:       "suspended → canceled: an unpaid subscription is canceled",
			given:      []step{apply(activeA), apply(sp(subA, membership.ProviderUnpaid, 3))},
			when:       apply(sp(subA, membership.ProviderCanceled, 5)),
			want:       []membership.Event{membership.Canceled{}},
			wantStatus: membership.StatusCanceled,
			wantAlumni: true,
		},
		{
			name:       "pending → suspended: first seen unpaid",
			given:      nil,
			when:       apply(sp(subA, membership.ProviderUnpaid, 3)),
			want:       []membership.Event{membership.Activated{Tier: tier("standard")}, membership.Suspended{}},
			wantStatus: membership.StatusSuspended,
		},
		{
			name:       "past_due → past_due: retry failed again",
			given:      []step{apply(activeA), apply(pastDueA)},
			when:       apply(sp(subA, membership.ProviderPastDue, 5, attempt(2))),
			want:       []membership.Event{membership.PaymentFailed{Attempt: 2}},
			wantStatus: membership.StatusPastDue,
		},
		{
			name: "past_due → suspended: provider marks unpaid, access suspended",
			// The choice to be listed stays: losing access (the ledger's
			// call) is what hides a member, in the application.
			wantVisible: true,
			given:       []step{apply(activeA), setVisible(true), apply(pastDueA)},
			when:        apply(sp(subA, membership.ProviderUnpaid, 5, attempt(1))),
			want:        []membership.Event{membership.Suspended{}},
			wantStatus:  membership.StatusSuspended,
		},
		{
			name:       "suspended → active: an unpaid subscription is paid",
			given:      []step{apply(activeA), apply(pastDueA), apply(sp(subA, membership.ProviderUnpaid, 5, attempt(1)))},
			when:       apply(sp(subA, membership.ProviderActive, 6)),
			want:       []membership.Event{membership.PaymentRecovered{}},
			wantStatus: membership.StatusActive,
		},
		{
			name:        "past_due → active: payment succeeded",
			given:       []step{apply(activeA), setVisible(true), apply(pastDueA)},
			when:        apply(sp(subA, membership.ProviderActive, 5, periodEnd(1440))),
			want:        []membership.Event{membership.PaymentRecovered{}},
			wantStatus:  membership.StatusActive,
			wantVisible: true,
		},
		{
			name: "past_due → canceled: max retries exceeded",
			// The choice to be listed stays: losing access (the ledger's
			// call) is what hides a member, in the application.
			wantVisible: true,
			given:       []step{apply(activeA), setVisible(true), apply(pastDueA)},
			when:        apply(sp(subA, membership.ProviderCanceled, 9)),
			want:        []membership.Event{membership.Canceled{}},
			wantStatus:  membership.StatusCanceled,
			wantAlumni:  true,
		},
		{
			name: "active → canceled: user cancels immediately",
			// The choice to be listed stays: losing access (the ledger's
			// call) is what hides a member, in the application.
			wantVisible: true,
			given:       []step{apply(activeA), setVisible(true)},
			when:        apply(canceledA),
			want:        []membership.Event{membership.Canceled{}},
			wantStatus:  membership.StatusCanceled,
			wantAlumni:  true,
		},
		{
			name:        "active → active: user schedules cancellation at period end",
			given:       []step{apply(activeA), setVisible(true)},
			when:        apply(scheduledA),
			want:        []membership.Event{membership.CancellationScheduled{At: at(720)}},
			wantStatus:  membership.StatusActive,
			wantVisible: true,
		},
		{
			name:       "active → active: scheduled cancellation moves to a new period end",
			given:      []step{apply(scheduledA)},
			when:       apply(sp(subA, membership.ProviderActive, 3, cancelAtEnd, periodEnd(900))),
			want:       []membership.Event{membership.CancellationScheduled{At: at(900)}},
			wantStatus: membership.StatusActive,
		},
		{
			name:        "active → active: user withdraws the scheduled cancellation",
			given:       []step{apply(activeA), setVisible(true), apply(scheduledA)},
			when:        apply(sp(subA, membership.ProviderActive, 3)),
			want:        []membership.Event{membership.CancellationWithdrawn{}},
			wantStatus:  membership.StatusActive,
			wantVisible: true,
		},
		{
			name: "active (scheduled) → canceled: period end reached",
			// The choice to be listed stays: losing access (the ledger's
			// call) is what hides a member, in the application.
			wantVisible: true,
			given:       []step{apply(activeA), setVisible(true), apply(scheduledA)},
			when:        reachPeriodEnd(720),
			want:        []membership.Event{membership.Canceled{}},
			wantStatus:  membership.StatusCanceled,
			wantAlumni:  true,
		},
		{
			name:       "active (scheduled) → canceled: provider's canceled snapshot comes before the period end job",
			given:      []step{apply(activeA), apply(scheduledA)},
			when:       apply(sp(subA, membership.ProviderCanceled, 720, cancelAtEnd)),
			want:       []membership.Event{membership.Canceled{}},
			wantStatus: membership.StatusCanceled,
			wantAlumni: true,
		},
		{
			name:       "canceled → canceled: provider's canceled snapshot after the period end was reached",
			given:      []step{apply(activeA), apply(scheduledA), reachPeriodEnd(721)},
			when:       apply(sp(subA, membership.ProviderCanceled, 722, cancelAtEnd)),
			want:       nil,
			wantStatus: membership.StatusCanceled,
			wantAlumni: true,
		},
		{
			name:       "canceled → canceled: provider's canceled snapshot at the very period end instant",
			given:      []step{apply(activeA), apply(scheduledA), reachPeriodEnd(800)},
			when:       apply(sp(subA, membership.ProviderCanceled, 720)),
			want:       nil,
			wantStatus: membership.StatusCanceled,
			wantAlumni: true,
		},
		{
			name:       "active (scheduled) → canceled: a snapshot taken after its own period end is read as canceled",
			given:      []step{apply(activeA)},
			when:       apply(sp(subA, membership.ProviderActive, 721, cancelAtEnd)),
			want:       []membership.Event{membership.Canceled{}},
			wantStatus: membership.StatusCanceled,
			wantAlumni: true,
		},
		{
			name:       "canceled → active: rejoining with a new subscription is a reactivation",
			given:      []step{apply(activeA), apply(canceledA)},
			when:       apply(sp(subB, membership.ProviderActive, 100, tierNamed("premium"))),
			want:       []membership.Event{membership.Reactivated{}},
			wantStatus: membership.StatusActive,
		},
		{
			name:       "canceled → active: rejoining on the same subscription is a reactivation",
			given:      []step{apply(activeA), apply(canceledA)},
			when:       apply(sp(subA, membership.ProviderActive, 100)),
			want:       []membership.Event{membership.Reactivated{}},
			wantStatus: membership.StatusActive,
		},
		{
			name:       "canceled → past_due: rejoined and the payment failed at once",
			given:      []step{apply(activeA), apply(canceledA)},
			when:       apply(sp(subA, membership.ProviderPastDue, 100, attempt(1))),
			want:       []membership.Event{membership.Reactivated{}, membership.PaymentFailed{Attempt: 1}},
			wantStatus: membership.StatusPastDue,
		},
		{
			name:       "canceled → active: first activation after an expired checkout",
			given:      []step{apply(sp(subA, membership.ProviderIncompleteExpired, 1))},
			when:       apply(sp(subB, membership.ProviderActive, 2)),
			want:       []membership.Event{membership.Activated{Tier: tier("standard")}},
			wantStatus: membership.StatusActive,
		},
		{
			name:       "canceled → pending: former member starts a new checkout, still alumni",
			given:      []step{apply(activeA), apply(canceledA)},
			when:       apply(sp(subB, membership.ProviderIncomplete, 100)),
			want:       nil,
			wantStatus: membership.StatusPending,
			wantAlumni: true,
		},
		{
			name:       "active → active: tier changed",
			given:      []step{apply(activeA)},
			when:       apply(sp(subA, membership.ProviderActive, 2, tierNamed("premium"))),
			want:       []membership.Event{membership.TierChanged{From: tier("standard"), To: tier("premium")}},
			wantStatus: membership.StatusActive,
		},
		{
			name:       "active → active: renewal moves the period end, nothing to announce",
			given:      []step{apply(activeA)},
			when:       apply(sp(subA, membership.ProviderActive, 721, periodEnd(1440))),
			want:       nil,
			wantStatus: membership.StatusActive,
		},
		{
			name:       "active → active: double checkout flags duplicates",
			given:      []step{apply(activeA)},
			when:       apply(sp(subB, membership.ProviderActive, 1)),
			want:       []membership.Event{membership.DuplicateSubscriptions{SubscriptionIDs: []string{subA, subB}}},
			wantStatus: membership.StatusActive,
		},
		{
			name:       "active → active: refunding one duplicate keeps the member active",
			given:      []step{apply(activeA), apply(sp(subB, membership.ProviderActive, 1))},
			when:       apply(sp(subB, membership.ProviderCanceled, 5)),
			want:       nil,
			wantStatus: membership.StatusActive,
		},
		{
			name:       "active → active: a failed payment on one duplicate does not demote the member",
			given:      []step{apply(activeA), apply(sp(subB, membership.ProviderActive, 1))},
			when:       apply(sp(subB, membership.ProviderPastDue, 5, attempt(1))),
			want:       nil,
			wantStatus: membership.StatusActive,
		},
		{
			name:       "past_due → active: a second subscription is paid while the first is in dunning",
			given:      []step{apply(activeA), apply(pastDueA)},
			when:       apply(sp(subB, membership.ProviderActive, 6)),
			want:       []membership.Event{membership.PaymentRecovered{}, membership.DuplicateSubscriptions{SubscriptionIDs: []string{subA, subB}}},
			wantStatus: membership.StatusActive,
		},
		{
			name:       "active (scheduled) → active: a second subscription without a scheduled cancellation takes over",
			given:      []step{apply(scheduledA)},
			when:       apply(sp(subB, membership.ProviderActive, 6)),
			want:       []membership.Event{membership.CancellationWithdrawn{}, membership.DuplicateSubscriptions{SubscriptionIDs: []string{subA, subB}}},
			wantStatus: membership.StatusActive,
		},
		{
			name:       "active → active: the same snapshot applied twice yields nothing the second time",
			given:      []step{apply(activeA)},
			when:       apply(activeA),
			want:       nil,
			wantStatus: membership.StatusActive,
		},
		{
			name:       "active → past_due: of two snapshots taken at the same instant, the later lifecycle status wins",
			given:      []step{apply(activeA)},
			when:       apply(sp(subA, membership.ProviderPastDue, 1, attempt(1))),
			want:       []membership.Event{membership.PaymentFailed{Attempt: 1}},
			wantStatus: membership.StatusPastDue,
		},
		{
			name:       "active → active: the member hides from the directory",
			given:      []step{apply(activeA), setVisible(true)},
			when:       setVisible(false),
			want:       nil,
			wantStatus: membership.StatusActive,
		},
		{
			name:        "active → active: the member shows in the directory",
			given:       []step{apply(activeA)},
			when:        setVisible(true),
			want:        nil,
			wantStatus:  membership.StatusActive,
			wantVisible: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMembership(t)
			given(t, m, tt.given)

			got, err := tt.when(t, m)
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("events = %#v, want %#v", got, tt.want)
			}
			if m.Status() != tt.wantStatus {
				t.Errorf("status = %s, want %s", m.Status(), tt.wantStatus)
			}
			if m.Visible() != tt.wantVisible {
				t.Errorf("visible = %t, want %t", m.Visible(), tt.wantVisible)
			}
			if m.Alumni() != tt.wantAlumni {
				t.Errorf("alumni = %t, want %t", m.Alumni(), tt.wantAlumni)
			}
		})
	}
}

// TestForbiddenTransitions names every transition the domain refuses, with
// its error; a refused transition changes nothing.
func TestForbiddenTransitions(t *testing.T) {
	t.Parallel()
	var (
		activeA    = sp(subA, membership.ProviderActive, 10)
		scheduledA = sp(subA, membership.ProviderActive, 11, cancelAtEnd)
	)
	tests := []struct {
		name    string
		given   []step
		when    step
		wantErr error
	}{
		{
			name:    "pending: cannot show in the directory",
			when:    setVisible(true),
			wantErr: membership.ErrNotActive,
		},
		{
			name:    "past_due: cannot show in the directory",
			given:   []step{apply(activeA), apply(sp(subA, membership.ProviderPastDue, 11))},
			when:    setVisible(true),
			wantErr: membership.ErrNotActive,
		},
		{
			name:    "canceled: cannot show in the directory",
			given:   []step{apply(activeA), apply(sp(subA, membership.ProviderCanceled, 11))},
			when:    setVisible(true),
			wantErr: membership.ErrNotActive,
		},
		{
			name:    "pending: no period end to reach",
			when:    reachPeriodEnd(800),
			wantErr: membership.ErrNoScheduledCancellation,
		},
		{
			name:    "active without a scheduled cancellation: no period end to reach",
			given:   []step{apply(activeA)},
			when:    reachPeriodEnd(800),
			wantErr: membership.ErrNoScheduledCancellation,
		},
		{
			name:    "active with a scheduled cancellation: period end not reached yet",
			given:   []step{apply(scheduledA)},
			when:    reachPeriodEnd(719),
			wantErr: membership.ErrPeriodNotEnded,
		},
		{
			name:    "canceled: period end reached twice",
			given:   []step{apply(scheduledA), reachPeriodEnd(720)},
			when:    reachPeriodEnd(721),
			wantErr: membership.ErrNoScheduledCancellation,
		},
		{
			name:    "canceled: provider's canceled snapshot came first",
			given:   []step{apply(scheduledA), apply(sp(subA, membership.ProviderCanceled, 720))},
			when:    reachPeriodEnd(721),
			wantErr: membership.ErrNoScheduledCancellation,
		},
		{
			name:    "active: cancellation withdrawn before the period end job ran",
			given:   []step{apply(scheduledA), apply(sp(subA, membership.ProviderActive, 12))},
			when:    reachPeriodEnd(721),
			wantErr: membership.ErrNoScheduledCancellation,
		},
		{
			name: "any: a snapshot that was never built",
			when: func(_ testing.TB, m *membership.Membership) ([]membership.Event, error) {
				return m.ApplySnapshot(membership.Snapshot{})
			},
			wantErr: membership.ErrInvalidSnapshot,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMembership(t)
			given(t, m, tt.given)
			before := viewOf(m)

			events, err := tt.when(t, m)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if events != nil {
				t.Errorf("events = %#v, want none", events)
			}
			if after := viewOf(m); !after.equal(before) {
				t.Errorf("state changed:\n got %+v\nwant %+v", after, before)
			}
		})
	}
}

func TestStaleSnapshots(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		applied membership.SnapshotParams
		late    membership.SnapshotParams
	}{
		{
			name:    "an older snapshot arrives after a newer one",
			applied: sp(subA, membership.ProviderCanceled, 10),
			late:    sp(subA, membership.ProviderActive, 9),
		},
		{
			name:    "a snapshot taken at the same instant that loses the tie",
			applied: sp(subA, membership.ProviderPastDue, 10, attempt(1)),
			late:    sp(subA, membership.ProviderActive, 10),
		},
		{
			name:    "a snapshot older than the period end already reached",
			applied: sp(subA, membership.ProviderActive, 10, cancelAtEnd),
			late:    sp(subA, membership.ProviderActive, 700),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMembership(t)
			given(t, m, []step{apply(tt.applied)})
			if tt.applied.CancelAtPeriodEnd {
				given(t, m, []step{reachPeriodEnd(800)})
			}
			appliedAt, _ := m.LastSnapshotAt(subA)
			before := viewOf(m)

			events, err := m.ApplySnapshot(snap(t, tt.late))

			var stale membership.StaleSnapshotError
			if !errors.As(err, &stale) {
				t.Fatalf("error = %v, want a StaleSnapshotError", err)
			}
			want := membership.StaleSnapshotError{SubscriptionID: subA, Applied: appliedAt, Got: tt.late.TakenAt}
			if stale != want {
				t.Errorf("error = %+v, want %+v", stale, want)
			}
			if stale.Error() == "" {
				t.Error("empty error message")
			}
			if events != nil {
				t.Errorf("events = %#v, want none", events)
			}
			if after := viewOf(m); !after.equal(before) {
				t.Errorf("state changed:\n got %+v\nwant %+v", after, before)
			}
		})
	}
}

func TestPeriodEndReachedTakesEveryEndedDuplicateButKeepsALaterOne(t *testing.T) {
	t.Parallel()
	m := newMembership(t)
	given(t, m, []step{
		apply(sp(subA, membership.ProviderActive, 1, cancelAtEnd, periodEnd(100))),
		apply(sp(subB, membership.ProviderActive, 1, cancelAtEnd, periodEnd(200))),
	})
	if m.SubscriptionID() != subB || !m.CurrentPeriodEnd().Equal(at(200)) {
		t.Fatalf("follows %s ending %s, want %s ending at hour 200", m.SubscriptionID(), m.CurrentPeriodEnd(), subB)
	}

	if _, err := m.ReachPeriodEnd(at(150)); !errors.Is(err, membership.ErrPeriodNotEnded) {
		t.Fatalf("ReachPeriodEnd(150) = %v, want ErrPeriodNotEnded", err)
	}
	events, err := m.ReachPeriodEnd(at(200))
	if err != nil {
		t.Fatalf("ReachPeriodEnd(200): %v", err)
	}
	if want := []string{membership.NameCanceled}; !reflect.DeepEqual(eventNames(events), want) {
		t.Errorf("events = %v, want %v", eventNames(events), want)
	}
	for _, s := range m.Subscriptions() {
		if s.Status != membership.StatusCanceled || s.CancelAtPeriodEnd {
			t.Errorf("subscription %s: %s, cancel at period end %t; want canceled", s.ID, s.Status, s.CancelAtPeriodEnd)
		}
		if !s.SnapshotAt.Equal(s.CurrentPeriodEnd) {
			t.Errorf("subscription %s: snapshot time %s, want its period end %s", s.ID, s.SnapshotAt, s.CurrentPeriodEnd)
		}
	}
}

func TestNewRefusesABlankPersonID(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"", "   "} {
		if _, err := membership.New(id); !errors.Is(err, membership.ErrInvalidPersonID) {
			t.Errorf("New(%q) error = %v, want ErrInvalidPersonID", id, err)
		}
	}
}

func TestNewMembershipIsPendingHiddenWithoutTier(t *testing.T) {
	t.Parallel()
	m, err := membership.New("  person_1 ")
	if err != nil {
		t.Fatal(err)
	}
	want := view{PersonID: "person_1", Status: membership.StatusPending, Subscriptions: []membership.SubscriptionState{}}
	if got := viewOf(m); !got.equal(want) {
		t.Errorf("new membership = %+v, want %+v", got, want)
	}
	if _, known := m.LastSnapshotAt(subA); known {
		t.Error("LastSnapshotAt reports an unknown subscription as known")
	}
}

func TestGettersReportTheFollowedSubscription(t *testing.T) {
	t.Parallel()
	m := newMembership(t)
	given(t, m, []step{
		apply(sp(subA, membership.ProviderPastDue, 5, attempt(3), tierNamed("premium"), periodEnd(300))),
		apply(sp(subB, membership.ProviderPastDue, 6, attempt(1))),
	})
	// Both past_due: the later period end (sub_b, hour 720) is followed.
	got := viewOf(m)
	if got.SubscriptionID != subB || got.PaymentAttempt != 1 || got.Tier != tier("standard") || !got.CurrentPeriodEnd.Equal(at(720)) {
		t.Errorf("followed %+v, want sub_b, attempt 1, standard, hour 720", got)
	}
	if want := []string{subA, subB}; !reflect.DeepEqual(got.Duplicates, want) {
		t.Errorf("duplicates = %v, want %v", got.Duplicates, want)
	}
	at5, known := m.LastSnapshotAt(" sub_a ")
	if !known || !at5.Equal(at(5)) {
		t.Errorf("LastSnapshotAt(sub_a) = %s, %t; want hour 5, true", at5, known)
	}
}

func TestEventNamesAreStable(t *testing.T) {
	t.Parallel()
	events := []struct {
		event membership.Event
		want  string
	}{
		{membership.Activated{}, "activated"},
		{membership.Reactivated{}, "reactivated"},
		{membership.TierChanged{}, "tier_changed"},
		{membership.PaymentFailed{}, "payment_failed"},
		{membership.PaymentRecovered{}, "payment_recovered"},
		{membership.CancellationScheduled{}, "cancellation_scheduled"},
		{membership.CancellationWithdrawn{}, "cancellation_withdrawn"},
		{membership.Canceled{}, "canceled"},
		{membership.DuplicateSubscriptions{}, "duplicate_subscriptions"},
	}
	for _, tt := range events {
		if got := tt.event.Name(); got != tt.want {
			t.Errorf("%T.Name() = %q, want %q", tt.event, got, tt.want)
		}
	}
}
