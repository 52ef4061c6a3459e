package application

import (
	"context"
	"errors"

	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

// ReachPeriodEndInput is a decoded membership.period_end message.
type ReachPeriodEndInput struct {
	PersonID       string
	SubscriptionID string
}

// ReachPeriodEnd ends a membership whose scheduled cancellation is due. It
// re-syncs the subscription first; whichever comes first, this or the
// provider's deletion, the end state is the same and Canceled is emitted
// once.
type ReachPeriodEnd struct {
	billing ports.Configurable
	sync    SyncSubscription
	change  membershipChange
}

// NewReachPeriodEnd refuses nil dependencies.
func NewReachPeriodEnd(billing ports.Configurable, sync SyncSubscription, uow ports.UnitOfWork[ports.MembershipTx], clock ports.Clock) (ReachPeriodEnd, error) {
	if anyNil(billing, uow, clock) {
		return ReachPeriodEnd{}, nilDependency("reach period end")
	}
	return ReachPeriodEnd{billing: billing, sync: sync, change: membershipChange{uow: uow, clock: clock, access: sync.change.access}}, nil
}

// Handle applies the period end.
func (h ReachPeriodEnd) Handle(ctx context.Context, in ReachPeriodEndInput) error {
	if in.PersonID == "" {
		return malformed(ports.TopicMembershipPeriodEnd, "a person")
	}
	if h.billing.Configured() {
		err := h.sync.Handle(ctx, SyncSubscriptionInput{SubscriptionID: in.SubscriptionID, PersonID: in.PersonID, Reason: ports.ReasonPeriodEnd})
		if err != nil && !errors.Is(err, errDeferred) {
			return err
		}
	}
	now := h.change.clock.Now()
	_, err := h.change.apply(ctx, change{personID: in.PersonID, subscriptionID: in.SubscriptionID, reason: ports.ReasonPeriodEnd},
		func(m *membership.Membership) ([]membership.Event, error) {
			events, err := m.ReachPeriodEnd(now)
			return ignoring(events, err, membership.ErrNoScheduledCancellation, membership.ErrPeriodNotEnded)
		})
	return err
}
