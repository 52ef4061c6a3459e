package membership

import "time"

// Event is something that happened to a membership, returned by the
// transition that caused it. Name is stable and is what adapters serialise;
// the set of events is closed.
type Event interface {
	Name() string
	membershipEvent()
}

// Activated means the person became a member for the first time.
type Activated struct {
	Tier Tier
}

// Reactivated means a former member (canceled or pending again) is a member once more.
type Reactivated struct{}

// TierChanged means a current member's tier changed.
type TierChanged struct {
	From, To Tier
}

// PaymentFailed means a payment failed; the membership is past_due. Attempt is the
// provider's attempt count, 0 when unknown. A further failed attempt while
// past_due yields another PaymentFailed with the higher count.
type PaymentFailed struct {
	Attempt int
}

// PaymentRecovered means a past_due membership is paid up and active again.
type PaymentRecovered struct{}

// Suspended means the provider stopped collecting (unpaid or paused): the
// person is still a member but their access is suspended until the
// subscription is active again (which reports PaymentRecovered).
type Suspended struct{}

// CancellationScheduled means the membership will end at At unless the member
// withdraws the cancellation; schedule ReachPeriodEnd for At. Emitted again
// with the new time if the period end moves.
type CancellationScheduled struct {
	At time.Time
}

// CancellationWithdrawn means a scheduled cancellation was withdrawn.
type CancellationWithdrawn struct{}

// Canceled means the membership ended. The person is hidden from the directory
// and is now alumni.
type Canceled struct{}

// DuplicateSubscriptions means the person holds more than one current (active,
// past_due or suspended) subscription; an operator should refund and cancel all but one.
// SubscriptionIDs lists all of them, sorted. Emitted when a subscription
// joins the set, not again while the set only shrinks.
type DuplicateSubscriptions struct {
	SubscriptionIDs []string
}

// Stable event names.
const (
	NameActivated              = "activated"
	NameReactivated            = "reactivated"
	NameTierChanged            = "tier_changed"
	NamePaymentFailed          = "payment_failed"
	NamePaymentRecovered       = "payment_recovered"
	NameSuspended              = "suspended"
	NameCancellationScheduled  = "cancellation_scheduled"
	NameCancellationWithdrawn  = "cancellation_withdrawn"
	NameCanceled               = "canceled"
	NameDuplicateSubscriptions = "duplicate_subscriptions"
)

func (Activated) Name() string              { return NameActivated }
func (Reactivated) Name() string            { return NameReactivated }
func (TierChanged) Name() string            { return NameTierChanged }
func (PaymentFailed) Name() string          { return NamePaymentFailed }
func (PaymentRecovered) Name() string       { return NamePaymentRecovered }
func (Suspended) Name() string              { return NameSuspended }
func (CancellationScheduled) Name() string  { return NameCancellationScheduled }
func (CancellationWithdrawn) Name() string  { return NameCancellationWithdrawn }
func (Canceled) Name() string               { return NameCanceled }
func (DuplicateSubscriptions) Name() string { return NameDuplicateSubscriptions }

func (Activated) membershipEvent()              {}
func (Reactivated) membershipEvent()            {}
func (TierChanged) membershipEvent()            {}
func (PaymentFailed) membershipEvent()          {}
func (PaymentRecovered) membershipEvent()       {}
func (Suspended) membershipEvent()              {}
func (CancellationScheduled) membershipEvent()  {}
func (CancellationWithdrawn) membershipEvent()  {}
func (Canceled) membershipEvent()               {}
func (DuplicateSubscriptions) membershipEvent() {}
