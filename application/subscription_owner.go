package application

import (
	"context"
	"errors"

	"github.com/womendefiningai/platform/ports"
)

// errDeferred says a billing event cannot be applied yet: no person is
// linked to its customer. It is recorded, acknowledged, and applied when the
// checkout links the customer (which re-syncs the subscription) or when
// reconciliation queues it again.
var errDeferred = errors.New("deferred")

// deferredError is errDeferred for a customer nobody is linked to yet.
type deferredError struct{ customerID string }

func (e deferredError) Error() string {
	return "deferred: no person is linked to customer " + e.customerID + " yet"
}

func (e deferredError) Is(target error) bool { return target == errDeferred }

// subscriptionOwners finds the person a subscription belongs to: the one
// whose membership carries it, else the one linked to its customer.
type subscriptionOwners struct {
	memberships ports.MembershipReader
	people      ports.PersonFinder
}

// of returns the owner's person id, or an error wrapping errDeferred when
// nobody is linked to the customer yet.
func (o subscriptionOwners) of(ctx context.Context, subscriptionID, customerID string) (string, error) {
	id, err := o.memberships.PersonForSubscription(ctx, subscriptionID)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, ports.ErrNotFound) {
		return "", err
	}
	p, err := o.people.GetByBillingCustomer(ctx, customerID)
	if errors.Is(err, ports.ErrNotFound) {
		return "", deferredError{customerID: customerID}
	}
	return p.ID, err
}
