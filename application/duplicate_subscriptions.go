package application

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/ports"
)

// alertDuplicates sends one alert for each duplicate set of the person not
// alerted yet. The set is claimed before the alert (so concurrent syncs send
// it once) and released when the alert fails (so the retry sends it).
func alertDuplicates(ctx context.Context, uow ports.UnitOfWork[ports.MembershipTx], alerter ports.Alerter, personID string) error {
	var sets []ports.DuplicateSubscription
	err := uow.Do(ctx, func(ctx context.Context, tx ports.MembershipTx) error {
		var err error
		sets, err = tx.Duplicates().ClaimUnalerted(ctx, personID)
		return err
	})
	if err != nil {
		return fmt.Errorf("claim the duplicate-subscription alert: %w", err)
	}
	for _, set := range sets {
		aerr := alerter.Alert(ctx, ports.Alert{Severity: ports.SeverityWarning, Title: "A person holds more than one current subscription",
			Detail: "Refund and cancel all but one of the subscriptions at the billing provider; they are listed in the operators' view (duplicateSubscriptions).",
			Fields: map[string]string{"person_id": set.PersonID, "subscription_ids": strings.Join(set.SubscriptionIDs, ", ")}})
		if aerr == nil {
			continue
		}
		uerr := uow.Do(ctx, func(ctx context.Context, tx ports.MembershipTx) error {
			return tx.Duplicates().Unclaim(ctx, set.PersonID, set.SubscriptionIDs)
		})
		return errors.Join(fmt.Errorf("duplicate-subscription alert: %w", aerr), uerr)
	}
	return nil
}

// DuplicateSubscriptionView is one duplicate set in the operators' view.
type DuplicateSubscriptionView = ports.DuplicateSubscription

// ListDuplicateSubscriptions lists the people who held more than one
// current subscription at once, newest first (ops:read).
type ListDuplicateSubscriptions struct{ store ports.DuplicateSubscriptions }

// NewListDuplicateSubscriptions refuses a nil store.
func NewListDuplicateSubscriptions(store ports.DuplicateSubscriptions) (ListDuplicateSubscriptions, error) {
	if anyNil(store) {
		return ListDuplicateSubscriptions{}, nilDependency("list duplicate subscriptions")
	}
	return ListDuplicateSubscriptions{store: store}, nil
}

// maxDuplicateList bounds one listing.
const maxDuplicateList = 200

// Handle lists up to first sets (1..200, 50 when 0) for a caller with ops:read.
func (h ListDuplicateSubscriptions) Handle(ctx context.Context, first int) ([]DuplicateSubscriptionView, error) {
	if err := access.Authorize(PrincipalFrom(ctx), access.ScopeOpsRead); err != nil {
		return nil, err
	}
	if first == 0 {
		first = 50
	}
	if first < 1 || first > maxDuplicateList {
		return nil, invalid("first must be between 1 and %d", maxDuplicateList)
	}
	return h.store.List(ctx, first)
}
