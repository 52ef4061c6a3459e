package application

import (
	"context"
	"errors"

	"github.com/womendefiningai/platform/domain/usertext"
	"github.com/womendefiningai/platform/ports"
)

// Sources of a stored billing event.
const (
	SourceWebhook   = "webhook"
	SourceReconcile = "reconcile"
)

// IngestBillingEventInput is a verified billing event and where it came
// from (SourceWebhook or SourceReconcile).
type IngestBillingEventInput struct {
	Event  ports.BillingEvent
	Source string
}

// IngestBillingEvent stores a verified billing event once per event id and,
// only when it is new, queues its processing, in one transaction: an event
// acknowledged to the sender is never lost, and a duplicate does nothing.
type IngestBillingEvent struct {
	uow ports.UnitOfWork[ports.BillingInboxTx]
}

// NewIngestBillingEvent refuses a nil unit of work.
func NewIngestBillingEvent(uow ports.UnitOfWork[ports.BillingInboxTx]) (IngestBillingEvent, error) {
	if anyNil(uow) {
		return IngestBillingEvent{}, nilDependency("ingest billing event")
	}
	return IngestBillingEvent{uow: uow}, nil
}

// Handle reports false for an event id already stored.
func (h IngestBillingEvent) Handle(ctx context.Context, in IngestBillingEventInput) (bool, error) {
	ev := in.Event
	if ev.ID == "" || ev.Kind == "" {
		return false, invalid("billing event without id or kind")
	}
	if err := billingIDs(ev); err != nil {
		return false, err
	}
	msg, err := ports.NewMessage(ports.TopicBillingEvent, ports.BillingEventMessage{EventID: ev.ID})
	if err != nil {
		return false, err
	}
	// Add's INSERT goes to the database with the publish and the commit,
	// in one round trip; an event already stored fails the transaction
	// whole, so a duplicate publishes nothing.
	err = h.uow.Do(ctx, func(ctx context.Context, tx ports.BillingInboxTx) error {
		if err := tx.BillingInbox().Add(ctx, ev, in.Source); err != nil {
			return err
		}
		return tx.Publisher().Publish(ctx, msg)
	})
	if errors.Is(err, ports.ErrAlreadyStored) {
		return false, nil
	}
	return err == nil, err
}

// maxBillingID bounds an id a billing event names (the provider's are under 100).
const maxBillingID = 255

// billingIDs refuses an event whose ids hold a control or invisible
// character or bytes that are not UTF-8. Stored as they are, such ids
// would be changed to fit a text column (a NUL dropped), so two different
// events could dedupe as one; refused, nothing is stored.
func billingIDs(ev ports.BillingEvent) error {
	for _, f := range []struct{ name, v string }{
		{"id", ev.ID}, {"subscription", ev.SubscriptionID}, {"customer", ev.CustomerID},
		{"invoice", ev.InvoiceID}, {"client_reference_id", ev.ClientReferenceID}, {"type", ev.Type},
	} {
		if err := usertext.Check(f.v, maxBillingID); err != nil {
			return invalid("billing event %s: %v", f.name, err)
		}
	}
	return nil
}
