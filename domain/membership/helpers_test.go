package membership_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/womendefiningai/platform/domain/membership"
)

// tb is the part of testing.TB and *rapid.T the helpers need.
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
}

// t0 is an arbitrary instant; tests express times as hours after it.
var t0 = time.Date(2025, 11, 1, 9, 0, 0, 0, time.UTC)

func at(hours int) time.Time { return t0.Add(time.Duration(hours) * time.Hour) }

// tier returns the tier named name; names in tests are constants.
func tier(name string) membership.Tier {
	tr, err := membership.NewTier(name)
	if err != nil {
		panic(err)
	}
	return tr
}

// sp returns the snapshot of subscription sub in status st, taken at hour
// taken, for the standard tier, with the period ending at hour 720, then
// changed by mods.
func sp(sub string, st membership.ProviderStatus, taken int, mods ...func(*membership.SnapshotParams)) membership.SnapshotParams {
	p := membership.SnapshotParams{
		SubscriptionID:   sub,
		Status:           st,
		Tier:             tier("standard"),
		CurrentPeriodEnd: at(720),
		TakenAt:          at(taken),
	}
	for _, mod := range mods {
		mod(&p)
	}
	return p
}

func cancelAtEnd(p *membership.SnapshotParams) { p.CancelAtPeriodEnd = true }

func attempt(n int) func(*membership.SnapshotParams) {
	return func(p *membership.SnapshotParams) { p.PaymentAttempt = n }
}

func tierNamed(name string) func(*membership.SnapshotParams) {
	return func(p *membership.SnapshotParams) { p.Tier = tier(name) }
}

func periodEnd(hour int) func(*membership.SnapshotParams) {
	return func(p *membership.SnapshotParams) { p.CurrentPeriodEnd = at(hour) }
}

func snap(t tb, p membership.SnapshotParams) membership.Snapshot {
	t.Helper()
	s, err := membership.NewSnapshot(p)
	if err != nil {
		t.Fatalf("NewSnapshot(%+v): %v", p, err)
	}
	return s
}

// step is one thing done to a membership in a table test.
type step func(tb testing.TB, m *membership.Membership) ([]membership.Event, error)

func apply(p membership.SnapshotParams) step {
	return func(tb testing.TB, m *membership.Membership) ([]membership.Event, error) {
		return m.ApplySnapshot(snap(tb, p))
	}
}

func reachPeriodEnd(hour int) step {
	return func(_ testing.TB, m *membership.Membership) ([]membership.Event, error) {
		return m.ReachPeriodEnd(at(hour))
	}
}

// setVisible shows or hides the member; an active membership stands for
// the access the ledger would give (domain/ledger decides it for real).
func setVisible(visible bool) step {
	return func(_ testing.TB, m *membership.Membership) ([]membership.Event, error) {
		return nil, m.SetVisible(visible, m.Status() == membership.StatusActive)
	}
}

// given runs steps that must succeed.
func given(tb testing.TB, m *membership.Membership, steps []step) {
	tb.Helper()
	for i, s := range steps {
		if _, err := s(tb, m); err != nil {
			tb.Fatalf("given step %d: %v", i, err)
		}
	}
}

func newMembership(t tb) *membership.Membership {
	t.Helper()
	m, err := membership.New("person_1")
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m
}

// view is every observable fact of a membership, for comparisons.
type view struct {
	PersonID          string
	Status            membership.Status
	Tier              membership.Tier
	CancelAtPeriodEnd bool
	CurrentPeriodEnd  time.Time
	PaymentAttempt    int
	SubscriptionID    string
	Duplicates        []string
	Subscriptions     []membership.SubscriptionState
	Visible           bool
	EverActive        bool
	Alumni            bool
}

func viewOf(m *membership.Membership) view {
	subs := m.Subscriptions()
	for i := range subs {
		subs[i].CurrentPeriodEnd = subs[i].CurrentPeriodEnd.UTC()
		subs[i].SnapshotAt = subs[i].SnapshotAt.UTC()
	}
	return view{
		PersonID:          m.PersonID(),
		Status:            m.Status(),
		Tier:              m.Tier(),
		CancelAtPeriodEnd: m.CancelAtPeriodEnd(),
		CurrentPeriodEnd:  m.CurrentPeriodEnd().UTC(),
		PaymentAttempt:    m.PaymentAttempt(),
		SubscriptionID:    m.SubscriptionID(),
		Duplicates:        m.DuplicateSubscriptionIDs(),
		Subscriptions:     subs,
		Visible:           m.Visible(),
		EverActive:        m.EverActive(),
		Alumni:            m.Alumni(),
	}
}

// billing is the part of a view determined by the subscriptions alone.
func (v view) billing() view {
	v.Visible, v.EverActive, v.Alumni = false, false, false
	return v
}

func (v view) equal(o view) bool { return reflect.DeepEqual(v, o) }

// recordOf is what a store saves.
func recordOf(m *membership.Membership) membership.Record {
	return membership.Record{
		PersonID:      m.PersonID(),
		Visible:       m.Visible(),
		EverActive:    m.EverActive(),
		Subscriptions: m.Subscriptions(),
	}
}

func eventNames(events []membership.Event) []string {
	names := make([]string, len(events))
	for i, e := range events {
		names[i] = e.Name()
	}
	return names
}
