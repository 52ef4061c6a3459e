package application

import (
	"context"

	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

// NotifyPaymentFailed syncs the subscription of a failed payment (it is
// past_due now) and notifies the member once per invoice and attempt.
type NotifyPaymentFailed struct {
	sync   SyncSubscription
	owners subscriptionOwners
	uow    ports.UnitOfWork[ports.BillingInboxTx]
}

// NewNotifyPaymentFailed refuses nil dependencies.
func NewNotifyPaymentFailed(sync SyncSubscription, memberships ports.MembershipReader, people ports.PersonFinder, uow ports.UnitOfWork[ports.BillingInboxTx]) (NotifyPaymentFailed, error) {
	if anyNil(memberships, people, uow) {
		return NotifyPaymentFailed{}, nilDependency("notify payment failed")
	}
	return NotifyPaymentFailed{sync: sync, owners: subscriptionOwners{memberships: memberships, people: people}, uow: uow}, nil
}

// Handle applies a payment-failed event. The notice is member.changed with
// the reason payment_failed, published once per (invoice, attempt).
func (h NotifyPaymentFailed) Handle(ctx context.Context, ev ports.BillingEvent) error {
	if err := h.sync.Handle(ctx, SyncSubscriptionInput{SubscriptionID: ev.SubscriptionID, Reason: ports.ReasonSubscriptionSync}); err != nil {
		return err
	}
	personID, err := h.owners.of(ctx, ev.SubscriptionID, ev.CustomerID)
	if err != nil {
		return err
	}
	msg, err := ports.NewMessage(ports.TopicMemberChanged, ports.MemberChangedMessage{PersonID: personID, Reason: ports.ReasonPaymentFailed,
		Events: []string{membership.NamePaymentFailed}, Attempt: ev.AttemptCount})
	if err != nil {
		return err
	}
	return h.uow.Do(ctx, func(ctx context.Context, tx ports.BillingInboxTx) error {
		first, err := tx.BillingInbox().NoteFailureNotice(ctx, ev.InvoiceID, ev.AttemptCount, personID)
		if err != nil || !first {
			return err
		}
		return tx.Publisher().Publish(ctx, msg)
	})
}
