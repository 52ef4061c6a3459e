package application

import (
	"context"
	"errors"

	"github.com/womendefiningai/platform/ports"
)

// CheckAccessInput is a decoded TopicAccessCheck message.
type CheckAccessInput struct {
	PersonID string
}

// CheckAccess is the message scheduled for when a grant's window opens or
// closes (a scholarship's end, the end of the grace window, a scheduled
// cancellation's period end): it evaluates the person's access under their
// membership lock, so that access ends at the stated time for the email
// list and the chat workspace too, announced and audited once however
// often the check runs.
type CheckAccess struct {
	uow    ports.UnitOfWork[ports.AccessTx]
	clock  ports.Clock
	policy AccessPolicy
}

// NewCheckAccess refuses nil dependencies.
func NewCheckAccess(uow ports.UnitOfWork[ports.AccessTx], clock ports.Clock, policy AccessPolicy) (CheckAccess, error) {
	if anyNil(uow, clock) {
		return CheckAccess{}, nilDependency("check access")
	}
	return CheckAccess{uow: uow, clock: clock, policy: policy}, nil
}

// Handle evaluates the access; for a person who no longer exists there is
// nothing to check.
func (h CheckAccess) Handle(ctx context.Context, in CheckAccessInput) error {
	if in.PersonID == "" {
		return malformed(ports.TopicAccessCheck, "a person id")
	}
	return h.uow.Do(ctx, func(ctx context.Context, tx ports.AccessTx) error {
		m, err := lockMembership(ctx, tx, in.PersonID)
		if errors.Is(err, ports.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return evaluateAccess(ctx, tx, h.policy, in.PersonID, m, h.clock.Now())
	})
}
