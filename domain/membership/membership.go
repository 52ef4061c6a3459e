package membership

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// Membership is a person's membership, derived from all of their billing
// subscriptions. Make a new one with New; stores rebuild one with FromStore.
type Membership struct {
	personID      string
	subscriptions map[string]SubscriptionState
	standing      standing
	visible       bool
	everActive    bool
}

// standing is the part of a membership derived from its subscriptions alone.
type standing struct {
	subscriptionID    string // the subscription followed; empty when there is none
	status            Status
	tier              Tier
	cancelAtPeriodEnd bool
	currentPeriodEnd  time.Time
	paymentAttempt    int
	current           []string // sorted ids of the active or past_due subscriptions
}

// New returns the membership of person personID before any subscription is
// known: pending, hidden, with no tier.
func New(personID string) (*Membership, error) {
	personID = strings.TrimSpace(personID)
	if personID == "" {
		return nil, ErrInvalidPersonID
	}
	return &Membership{
		personID:      personID,
		subscriptions: map[string]SubscriptionState{},
		standing:      derive(nil),
	}, nil
}

// PersonID returns the id of the person whose membership this is.
func (m *Membership) PersonID() string { return m.personID }

// Status returns the membership's status: that of the subscription in the
// best standing, or pending when there is none.
func (m *Membership) Status() Status { return m.standing.status }

// Tier returns the tier of the subscription followed; the zero Tier when
// there is none. An active membership always has a tier.
func (m *Membership) Tier() Tier { return m.standing.tier }

// CancelAtPeriodEnd reports whether the membership is current (active or
// past_due) and set to end at CurrentPeriodEnd.
func (m *Membership) CancelAtPeriodEnd() bool { return m.standing.cancelAtPeriodEnd }

// CurrentPeriodEnd returns the period end of the subscription followed.
func (m *Membership) CurrentPeriodEnd() time.Time { return m.standing.currentPeriodEnd }

// PaymentAttempt returns the payment attempt count while past_due, else 0.
func (m *Membership) PaymentAttempt() int { return m.standing.paymentAttempt }

// SubscriptionID returns the id of the subscription the membership follows,
// empty when no subscription is known.
func (m *Membership) SubscriptionID() string { return m.standing.subscriptionID }

// DuplicateSubscriptionIDs returns the sorted ids of the current (active or
// past_due) subscriptions when there is more than one, else nil.
func (m *Membership) DuplicateSubscriptionIDs() []string {
	if len(m.standing.current) < 2 {
		return nil
	}
	return slices.Clone(m.standing.current)
}

// Visible reports whether the member chose to appear in the member
// directory. The choice counts only while they have access (the access
// ledger decides); whoever loses access is hidden by the application.
func (m *Membership) Visible() bool { return m.visible }

// EverActive reports whether the person has ever been a current member
// (active, or past_due, which a subscription only reaches after being paid).
func (m *Membership) EverActive() bool { return m.everActive }

// Alumni reports whether the person was a member once and no longer is.
func (m *Membership) Alumni() bool { return m.everActive && !m.standing.status.IsMember() }

// Summary is what a membership shows its member: its standing and the
// member's choices, without the subscriptions it was derived from. Stores
// keep it beside the subscriptions at every save, so that a read which
// needs only this need not rebuild the membership.
type Summary struct {
	Status            Status
	Tier              Tier
	CancelAtPeriodEnd bool
	CurrentPeriodEnd  time.Time
	Visible           bool
	Alumni            bool
}

// Summary returns the membership's summary.
func (m *Membership) Summary() Summary {
	return Summary{Status: m.Status(), Tier: m.Tier(), CancelAtPeriodEnd: m.CancelAtPeriodEnd(),
		CurrentPeriodEnd: m.CurrentPeriodEnd(), Visible: m.Visible(), Alumni: m.Alumni()}
}

// Subscriptions returns the state held for each subscription, sorted by id.
func (m *Membership) Subscriptions() []SubscriptionState {
	out := make([]SubscriptionState, 0, len(m.subscriptions))
	for _, id := range slices.Sorted(maps.Keys(m.subscriptions)) {
		out = append(out, m.subscriptions[id])
	}
	return out
}

// LastSnapshotAt returns the time of the newest snapshot applied for the
// subscription, and whether the subscription is known at all.
func (m *Membership) LastSnapshotAt(subscriptionID string) (time.Time, bool) {
	s, ok := m.subscriptions[strings.TrimSpace(subscriptionID)]
	return s.SnapshotAt, ok
}

// ApplySnapshot records what the billing provider says about one of the
// person's subscriptions and returns the events the change caused.
//
// A snapshot older than the last one applied for the subscription (or than
// the period end ReachPeriodEnd recorded for it), or taken at the same
// instant and losing the tie described in the package documentation, changes
// nothing and returns a StaleSnapshotError. Applying a snapshot that says
// what is already recorded returns no events and no error.
func (m *Membership) ApplySnapshot(s Snapshot) ([]Event, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	next := s.state()
	if prev, ok := m.subscriptions[next.ID]; ok {
		switch next.SnapshotAt.Compare(prev.SnapshotAt) {
		case -1:
			return nil, StaleSnapshotError{SubscriptionID: next.ID, Applied: prev.SnapshotAt, Got: next.SnapshotAt}
		case 0:
			if next.sameFacts(prev) {
				return nil, nil
			}
			if next.compareFacts(prev) < 0 {
				return nil, StaleSnapshotError{SubscriptionID: next.ID, Applied: prev.SnapshotAt, Got: next.SnapshotAt}
			}
		}
	}
	m.subscriptions[next.ID] = next
	return m.rederive(), nil
}

// ReachPeriodEnd ends a scheduled cancellation whose period end has come.
// Every current subscription set to cancel at a period end not after now is
// recorded as canceled, exactly as the provider's canceled snapshot (taken at
// or after the period end) would record it. When no current subscription
// remains, the membership becomes canceled, hidden and alumni, and Canceled
// is returned.
//
// It is an error, and changes nothing, to call it when the membership is not
// set to cancel (ErrNoScheduledCancellation: nothing was scheduled, it was
// already reached, or the provider's canceled snapshot came first) or before
// the period end (ErrPeriodNotEnded). So whichever of ReachPeriodEnd and the
// provider's canceled snapshot comes first, the membership ends in the same
// state and Canceled is returned once.
func (m *Membership) ReachPeriodEnd(now time.Time) ([]Event, error) {
	if !m.standing.cancelAtPeriodEnd {
		return nil, ErrNoScheduledCancellation
	}
	if now.Before(m.standing.currentPeriodEnd) {
		return nil, ErrPeriodNotEnded
	}
	for id, s := range m.subscriptions {
		if s.scheduled() && !now.Before(s.CurrentPeriodEnd) {
			m.subscriptions[id] = s.ended()
		}
	}
	return m.rederive(), nil
}

// SetVisible shows or hides the member in the member directory. Anyone may
// hide; only someone with access now (hasAccess, which the access ledger
// decides) may show themselves (ErrNotActive otherwise).
func (m *Membership) SetVisible(visible, hasAccess bool) error {
	if visible && !hasAccess {
		return ErrNotActive
	}
	m.visible = visible
	return nil
}

// rederive recomputes the standing from the subscriptions, updates the
// history it implies and returns the events of the change.
func (m *Membership) rederive() []Event {
	before := m.standing
	m.standing = derive(m.subscriptions)
	events := changes(before, m.standing, m.everActive)
	if m.standing.status.IsMember() {
		m.everActive = true
	}
	return events
}

// derive computes the standing of a set of subscriptions.
func derive(subscriptions map[string]SubscriptionState) standing {
	var best SubscriptionState
	found := false
	current := []string{}
	for _, s := range subscriptions {
		if !found || s.betterStanding(best) {
			best, found = s, true
		}
		if s.Status.IsMember() {
			current = append(current, s.ID)
		}
	}
	slices.Sort(current)
	if !found {
		return standing{status: StatusPending, current: current}
	}
	return standing{
		subscriptionID:    best.ID,
		status:            best.Status,
		tier:              best.Tier,
		cancelAtPeriodEnd: best.CancelAtPeriodEnd,
		currentPeriodEnd:  best.CurrentPeriodEnd,
		paymentAttempt:    best.PaymentAttempt,
		current:           current,
	}
}

// changes lists the events that moving from standing a to standing b means,
// for a person who had (everActive) or had not been a member before. Events
// come in a fixed order: status, tier, cancellation, duplicates.
//
// Moves between pending and canceled yield no event: the person is not a
// member before or after, and is hidden and alumni (or not) either way.
// A renewal that only moves the period end yields none either.
func changes(a, b standing, everActive bool) []Event {
	var events []Event
	wasMember, isMember := a.status.IsMember(), b.status.IsMember()
	switch {
	case !wasMember && isMember:
		if everActive {
			events = append(events, Reactivated{})
		} else {
			events = append(events, Activated{Tier: b.tier})
		}
		if b.status == StatusPastDue {
			events = append(events, PaymentFailed{Attempt: b.paymentAttempt})
		}
		if b.status == StatusSuspended {
			events = append(events, Suspended{})
		}
	case wasMember && !isMember:
		events = append(events, Canceled{})
	case a.status == StatusActive && b.status == StatusPastDue:
		events = append(events, PaymentFailed{Attempt: b.paymentAttempt})
	case (a.status == StatusPastDue || a.status == StatusSuspended) && b.status == StatusActive:
		events = append(events, PaymentRecovered{})
	case a.status == StatusPastDue && b.status == StatusPastDue && b.paymentAttempt > a.paymentAttempt:
		events = append(events, PaymentFailed{Attempt: b.paymentAttempt})
	case a.status != StatusSuspended && b.status == StatusSuspended:
		events = append(events, Suspended{})
	}

	if wasMember && isMember && a.tier != b.tier {
		events = append(events, TierChanged{From: a.tier, To: b.tier})
	}

	switch {
	case b.cancelAtPeriodEnd && (!a.cancelAtPeriodEnd || !a.currentPeriodEnd.Equal(b.currentPeriodEnd)):
		events = append(events, CancellationScheduled{At: b.currentPeriodEnd})
	case a.cancelAtPeriodEnd && !b.cancelAtPeriodEnd && isMember:
		events = append(events, CancellationWithdrawn{})
	}

	if len(b.current) > 1 && slices.ContainsFunc(b.current, func(id string) bool { return !slices.Contains(a.current, id) }) {
		events = append(events, DuplicateSubscriptions{SubscriptionIDs: slices.Clone(b.current)})
	}
	return events
}
