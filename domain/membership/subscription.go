package membership

import (
	"cmp"
	"fmt"
	"strings"
	"time"
)

// SubscriptionState is what a membership holds about one of the person's
// subscriptions: the newest snapshot applied, read and normalised. Stores
// persist one per subscription (see Membership.Subscriptions and FromStore).
type SubscriptionState struct {
	ID                string
	Status            Status
	Tier              Tier
	CancelAtPeriodEnd bool      // only ever set while active or past_due
	CurrentPeriodEnd  time.Time // zero when the provider gave none
	PaymentAttempt    int       // only ever non-zero while past_due
	SnapshotAt        time.Time // time of the newest snapshot applied (or of the period end reached)
}

// normalized reads the state at its own time and drops facts that have no
// meaning in its status, so that two reports of the same situation compare
// equal.
func (s SubscriptionState) normalized() SubscriptionState {
	if s.scheduled() && !s.SnapshotAt.Before(s.CurrentPeriodEnd) {
		s.Status = StatusCanceled
	}
	if !s.Status.IsMember() {
		s.CancelAtPeriodEnd = false
	}
	if s.Status != StatusPastDue {
		s.PaymentAttempt = 0
	}
	return s
}

// scheduled reports whether the subscription is a current one set to end at
// its period end.
func (s SubscriptionState) scheduled() bool { return s.Status.IsMember() && s.CancelAtPeriodEnd }

// ended returns the state of a scheduled subscription once its period end
// has been reached: exactly what applying the provider's canceled snapshot,
// taken at or after the period end, records.
func (s SubscriptionState) ended() SubscriptionState {
	s.Status = StatusCanceled
	if s.SnapshotAt.Before(s.CurrentPeriodEnd) {
		s.SnapshotAt = s.CurrentPeriodEnd
	}
	return s.normalized()
}

// sameFacts reports whether a and b say the same thing about the
// subscription, whenever they were taken.
func (s SubscriptionState) sameFacts(o SubscriptionState) bool {
	return s.compareFacts(o) == 0
}

// compareFacts orders two states of the same subscription taken at the same
// instant; the greater one wins. The order is arbitrary but total, so that
// delivery order never decides.
func (s SubscriptionState) compareFacts(o SubscriptionState) int {
	return cmp.Or(
		s.CurrentPeriodEnd.Compare(o.CurrentPeriodEnd),
		cmp.Compare(s.Status.lifecycleRank(), o.Status.lifecycleRank()),
		cmp.Compare(s.PaymentAttempt, o.PaymentAttempt),
		compareBool(s.CancelAtPeriodEnd, o.CancelAtPeriodEnd),
		strings.Compare(s.Tier.String(), o.Tier.String()),
	)
}

// betterStanding reports whether the membership should follow s rather than o.
func (s SubscriptionState) betterStanding(o SubscriptionState) bool {
	return cmp.Or(
		cmp.Compare(s.Status.standingRank(), o.Status.standingRank()),
		compareBool(!s.CancelAtPeriodEnd, !o.CancelAtPeriodEnd), // staying beats leaving
		s.CurrentPeriodEnd.Compare(o.CurrentPeriodEnd),
		strings.Compare(o.ID, s.ID), // the smaller id, only to be deterministic
	) > 0
}

// check validates a state read back from a store.
func (s SubscriptionState) check() error {
	switch {
	case s.ID == "" || strings.TrimSpace(s.ID) != s.ID:
		return fmt.Errorf("subscription id %q is empty or padded", s.ID)
	case !s.Status.valid():
		return fmt.Errorf("subscription %s: invalid status %s", s.ID, s.Status)
	case s.Tier.IsZero():
		return fmt.Errorf("subscription %s: tier is missing", s.ID)
	case s.SnapshotAt.IsZero():
		return fmt.Errorf("subscription %s: snapshot time is missing", s.ID)
	case s.PaymentAttempt < 0:
		return fmt.Errorf("subscription %s: payment attempt %d is negative", s.ID, s.PaymentAttempt)
	case s.CancelAtPeriodEnd && s.CurrentPeriodEnd.IsZero():
		return fmt.Errorf("subscription %s: cancellation at period end without a period end", s.ID)
	case s != s.normalized():
		return fmt.Errorf("subscription %s: state is not normalised (%s, cancel at period end %t, attempt %d)",
			s.ID, s.Status, s.CancelAtPeriodEnd, s.PaymentAttempt)
	default:
		return nil
	}
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	default:
		return -1
	}
}
