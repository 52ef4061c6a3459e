package application

import (
	"context"
	"errors"
	"fmt"

	"github.com/womendefiningai/platform/ports"
)

// ProcessBillingEventInput is a decoded message naming a stored billing
// event.
type ProcessBillingEventInput struct {
	EventID string
}

// ProcessBillingEvent applies one stored billing event by its kind and
// records the outcome on it: processed, ignored (a kind we do not act on)
// or deferred (nobody is linked to its customer yet, or billing is not
// configured).
type ProcessBillingEvent struct {
	inbox    ports.BillingInbox
	billing  ports.Configurable
	sync     SyncSubscription
	checkout CompleteCheckout
	failed   NotifyPaymentFailed
}

// ProcessBillingEventDeps are the ports and use cases it dispatches to.
type ProcessBillingEventDeps struct {
	Inbox         ports.BillingInbox
	Billing       ports.Configurable
	Sync          SyncSubscription
	Checkout      CompleteCheckout
	PaymentFailed NotifyPaymentFailed
}

// NewProcessBillingEvent refuses nil ports.
func NewProcessBillingEvent(d ProcessBillingEventDeps) (ProcessBillingEvent, error) {
	if anyNil(d.Inbox, d.Billing) {
		return ProcessBillingEvent{}, nilDependency("process billing event")
	}
	return ProcessBillingEvent{inbox: d.Inbox, billing: d.Billing, sync: d.Sync, checkout: d.Checkout, failed: d.PaymentFailed}, nil
}

// Handle processes the event once: a redelivered message for an event
// already processed or ignored does nothing.
func (h ProcessBillingEvent) Handle(ctx context.Context, in ProcessBillingEventInput) error {
	if in.EventID == "" {
		return malformed(ports.TopicBillingEvent, "an event id")
	}
	ev, err := h.inbox.Get(ctx, in.EventID)
	if errors.Is(err, ports.ErrNotFound) {
		return ports.Permanent(fmt.Errorf("billing event %s is not in the inbox", in.EventID))
	}
	if err != nil {
		return err
	}
	if ev.Status == ports.InboxProcessed || ev.Status == ports.InboxIgnored {
		return nil
	}
	if !h.billing.Configured() {
		return h.inbox.Mark(ctx, ev.ID, ports.InboxDeferred, "billing not configured")
	}
	// A customer linked while the event was being applied is seen by the
	// deferral (Defer), which then applies the event again at once.
	for range 2 {
		status, note, err := h.apply(ctx, ev)
		var d deferredError
		if !errors.As(err, &d) {
			if err != nil {
				return err
			}
			return h.inbox.Mark(ctx, ev.ID, status, note)
		}
		linked, err := h.inbox.Defer(ctx, ev.ID, d.customerID, d.Error())
		if err != nil || !linked {
			return err
		}
	}
	return fmt.Errorf("billing event %s: its customer is linked, but its subscription still has no owner", ev.ID)
}

// apply dispatches the event by its kind and returns the status to record.
func (h ProcessBillingEvent) apply(ctx context.Context, ev ports.InboxEvent) (status, note string, err error) {
	switch ev.Kind {
	case ports.BillingSubscriptionChanged:
		err = h.sync.Handle(ctx, SyncSubscriptionInput{SubscriptionID: ev.SubscriptionID, Reason: ports.ReasonSubscriptionSync})
	case ports.BillingCheckoutCompleted:
		err = h.checkout.Handle(ctx, ev.BillingEvent)
	case ports.BillingPaymentFailed:
		err = h.failed.Handle(ctx, ev.BillingEvent)
	case ports.BillingEventOther:
		return ports.InboxIgnored, "event type not handled", nil
	}
	return ports.InboxProcessed, "", err
}
