package stripe

import (
	"context"
	"errors"

	stripego "github.com/stripe/stripe-go/v76"

	"github.com/womendefiningai/platform/ports"
)

// CancelSubscription cancels the subscription now (DELETE
// /v1/subscriptions/{id}) or at its period end (cancel_at_period_end). An
// unknown subscription, or one already canceled, is done.
func (b *Billing) CancelSubscription(ctx context.Context, id string, atPeriodEnd bool) error {
	if !b.Configured() {
		return ports.ErrNotConfigured
	}
	if id == "" {
		return errors.New("stripe: cancel subscription: empty id")
	}
	var err error
	if atPeriodEnd {
		params := &stripego.SubscriptionParams{CancelAtPeriodEnd: stripego.Bool(true)}
		params.Context = ctx
		_, err = b.api.Subscriptions.Update(id, params)
	} else {
		params := &stripego.SubscriptionCancelParams{}
		params.Context = ctx
		_, err = b.api.Subscriptions.Cancel(id, params)
	}
	return b.doneUnlessFailed("cancel subscription "+id, err)
}

// EraseCustomer deletes the customer, or clears its personal fields.
func (b *Billing) EraseCustomer(ctx context.Context, customerID string, remove bool) error {
	if !b.Configured() {
		return ports.ErrNotConfigured
	}
	if customerID == "" {
		return errors.New("stripe: erase customer: empty id")
	}
	var err error
	if remove {
		params := &stripego.CustomerParams{}
		params.Context = ctx
		_, err = b.api.Customers.Del(customerID, params)
	} else {
		params := &stripego.CustomerParams{Name: stripego.String(""), Email: stripego.String(""), Phone: stripego.String(""), Description: stripego.String("")}
		params.Context = ctx
		params.AddExtra("address", "")
		params.AddExtra("shipping", "")
		_, err = b.api.Customers.Update(customerID, params)
	}
	return b.doneUnlessFailed("erase customer "+customerID, err)
}

// doneUnlessFailed treats a missing object as done.
func (b *Billing) doneUnlessFailed(doing string, err error) error {
	if err == nil {
		return nil
	}
	if err = b.fail(doing, err); errors.Is(err, ports.ErrNotFound) {
		return nil
	}
	return err
}
