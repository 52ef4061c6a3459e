package membership

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrInvalidSnapshot is wrapped by every error NewSnapshot returns, and by
// ApplySnapshot for a zero Snapshot.
var ErrInvalidSnapshot = errors.New("membership: invalid snapshot")

// SnapshotParams are the facts of a billing snapshot, as the billing adapter
// read them from the provider.
type SnapshotParams struct {
	// SubscriptionID is the provider's id of the subscription. Required.
	SubscriptionID string
	// Status is the subscription's status at TakenAt. Required.
	Status ProviderStatus
	// Tier is what the subscription's price buys; UnknownTier when the price
	// maps to no tier. Required.
	Tier Tier
	// CancelAtPeriodEnd says the subscription is set to end at CurrentPeriodEnd.
	CancelAtPeriodEnd bool
	// CurrentPeriodEnd is the end of the period paid for, or being paid for.
	// Required when CancelAtPeriodEnd is set.
	CurrentPeriodEnd time.Time
	// TakenAt is when the provider produced this state (its event's creation
	// time). Required: it orders snapshots of the same subscription.
	TakenAt time.Time
	// PaymentAttempt is how many times the current invoice's payment has been
	// attempted, when known (0 otherwise). It is kept only while past_due and
	// travels in PaymentFailed.
	PaymentAttempt int
}

// Snapshot is the state of one subscription at one instant, as the billing
// provider reported it. Make one with NewSnapshot.
type Snapshot struct {
	subscriptionID    string
	status            ProviderStatus
	tier              Tier
	cancelAtPeriodEnd bool
	currentPeriodEnd  time.Time
	takenAt           time.Time
	paymentAttempt    int
}

// NewSnapshot validates p and returns the snapshot it describes. The
// subscription id loses surrounding spaces.
func NewSnapshot(p SnapshotParams) (Snapshot, error) {
	s := Snapshot{
		subscriptionID:    strings.TrimSpace(p.SubscriptionID),
		status:            p.Status,
		tier:              p.Tier,
		cancelAtPeriodEnd: p.CancelAtPeriodEnd,
		currentPeriodEnd:  p.CurrentPeriodEnd,
		takenAt:           p.TakenAt,
		paymentAttempt:    p.PaymentAttempt,
	}
	if err := s.validate(); err != nil {
		return Snapshot{}, err
	}
	return s, nil
}

func (s Snapshot) validate() error {
	switch {
	case s.subscriptionID == "":
		return fmt.Errorf("%w: subscription id is empty", ErrInvalidSnapshot)
	case !s.status.Status().valid():
		return fmt.Errorf("%w: provider status %s", ErrInvalidSnapshot, s.status)
	case s.tier.IsZero():
		return fmt.Errorf("%w: tier is missing", ErrInvalidSnapshot)
	case s.takenAt.IsZero():
		return fmt.Errorf("%w: time taken is missing", ErrInvalidSnapshot)
	case s.cancelAtPeriodEnd && s.currentPeriodEnd.IsZero():
		return fmt.Errorf("%w: cancellation at period end without a period end", ErrInvalidSnapshot)
	case s.paymentAttempt < 0:
		return fmt.Errorf("%w: payment attempt %d is negative", ErrInvalidSnapshot, s.paymentAttempt)
	default:
		return nil
	}
}

// SubscriptionID returns the provider's id of the subscription.
func (s Snapshot) SubscriptionID() string { return s.subscriptionID }

// Status returns the provider's status of the subscription.
func (s Snapshot) Status() ProviderStatus { return s.status }

// Tier returns the tier the subscription's price buys.
func (s Snapshot) Tier() Tier { return s.tier }

// CancelAtPeriodEnd reports whether the subscription is set to end at its period end.
func (s Snapshot) CancelAtPeriodEnd() bool { return s.cancelAtPeriodEnd }

// CurrentPeriodEnd returns the end of the current period.
func (s Snapshot) CurrentPeriodEnd() time.Time { return s.currentPeriodEnd }

// TakenAt returns when the provider produced this state.
func (s Snapshot) TakenAt() time.Time { return s.takenAt }

// PaymentAttempt returns the payment attempt count, 0 when unknown.
func (s Snapshot) PaymentAttempt() int { return s.paymentAttempt }

// state returns what the membership records for the subscription once this
// snapshot is applied: the snapshot read at its own time, normalised.
func (s Snapshot) state() SubscriptionState {
	return SubscriptionState{
		ID:                s.subscriptionID,
		Status:            s.status.Status(),
		Tier:              s.tier,
		CancelAtPeriodEnd: s.cancelAtPeriodEnd,
		CurrentPeriodEnd:  s.currentPeriodEnd,
		PaymentAttempt:    s.paymentAttempt,
		SnapshotAt:        s.takenAt,
	}.normalized()
}
