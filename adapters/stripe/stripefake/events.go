package stripefake

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"
)

// CheckoutSession is the object of a checkout.session.completed event.
type CheckoutSession struct {
	ID                string // empty means "cs_test_" + the event id
	Customer          string
	Subscription      string
	ClientReferenceID string
	CustomerEmail     string // customer_details.email
	CustomerName      string // customer_details.name
}

// Invoice is the object of an invoice.payment_failed event.
type Invoice struct {
	ID                 string
	Customer           string
	Subscription       string
	AttemptCount       int
	NextPaymentAttempt time.Time // zero is null: Stripe has given up
}

// SubscriptionEvent returns a customer.subscription.* event (eventType
// created, updated, deleted, ...) about sub, in the 2023-10-16 shape.
func SubscriptionEvent(id, eventType string, created time.Time, sub Subscription) []byte {
	return event(id, eventType, created, subscriptionObject(sub, false))
}

// CheckoutSessionCompletedEvent returns a checkout.session.completed event
// for a paid subscription checkout.
func CheckoutSessionCompletedEvent(id string, created time.Time, cs CheckoutSession) []byte {
	if cs.ID == "" {
		cs.ID = "cs_test_" + strings.TrimPrefix(id, "evt_")
	}
	return event(id, "checkout.session.completed", created, map[string]any{
		"id": cs.ID, "object": "checkout.session", "mode": "subscription",
		"status": "complete", "payment_status": "paid",
		"customer":            nullIfEmpty(cs.Customer),
		"subscription":        nullIfEmpty(cs.Subscription),
		"client_reference_id": nullIfEmpty(cs.ClientReferenceID),
		"customer_email":      nil,
		"customer_details": map[string]any{
			"email": nullIfEmpty(cs.CustomerEmail), "name": nullIfEmpty(cs.CustomerName),
			"address": nil, "phone": nil, "tax_exempt": "none", "tax_ids": []any{},
		},
		"amount_total": 2500, "currency": "usd", "metadata": map[string]any{},
		"livemode": false, "url": nil, "created": created.Add(-2 * time.Minute).Unix(),
		"expires_at": created.Add(22 * time.Hour).Unix(),
	})
}

// InvoicePaymentFailedEvent returns an invoice.payment_failed event.
func InvoicePaymentFailedEvent(id string, created time.Time, inv Invoice) []byte {
	var next any
	if !inv.NextPaymentAttempt.IsZero() {
		next = inv.NextPaymentAttempt.Unix()
	}
	return event(id, "invoice.payment_failed", created, map[string]any{
		"id": inv.ID, "object": "invoice", "status": "open", "paid": false, "attempted": true,
		"customer":             nullIfEmpty(inv.Customer),
		"subscription":         nullIfEmpty(inv.Subscription),
		"attempt_count":        inv.AttemptCount,
		"next_payment_attempt": next,
		"billing_reason":       "subscription_cycle", "collection_method": "charge_automatically",
		"amount_due": 2500, "amount_paid": 0, "amount_remaining": 2500, "currency": "usd",
		"livemode": false, "metadata": map[string]any{}, "created": created.Add(-time.Hour).Unix(),
	})
}

// SignedWebhookAt signs event with secret as of at (an old at makes a stale
// delivery), and returns the body and the Stripe-Signature header value.
func SignedWebhookAt(secret string, event []byte, at time.Time) (body []byte, header string) {
	p := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: event, Secret: secret, Timestamp: at})
	return p.Payload, p.Header
}

func event(id, eventType string, created time.Time, object map[string]any) []byte {
	return mustJSON(map[string]any{
		"id": id, "object": "event", "api_version": APIVersion, "created": created.Unix(),
		"data":     map[string]any{"object": object},
		"livemode": false, "pending_webhooks": 1,
		"request": map[string]any{"id": nil, "idempotency_key": nil},
		"type":    eventType,
	})
}

// subscriptionObject is sub in the 2023-10-16 shape (current_period_* at the
// top level, latest_invoice an id unless expanded).
func subscriptionObject(sub Subscription, expandInvoice bool) map[string]any {
	var end, start int64
	if !sub.CurrentPeriodEnd.IsZero() {
		end = sub.CurrentPeriodEnd.Unix()
		start = sub.CurrentPeriodEnd.AddDate(0, -1, 0).Unix()
	}
	suffix := strings.TrimPrefix(sub.ID, "sub_")
	invoiceID := sub.LatestInvoice
	if invoiceID == "" {
		invoiceID = "in_" + suffix
	}
	var latest any = invoiceID
	if expandInvoice {
		latest = map[string]any{
			"id": invoiceID, "object": "invoice", "customer": nullIfEmpty(sub.Customer),
			"subscription": sub.ID, "attempt_count": sub.LatestInvoiceAttempt,
			"attempted": sub.LatestInvoiceAttempt > 0, "livemode": false,
		}
	}
	var cancelAt, canceledAt, endedAt any
	if sub.CancelAtPeriodEnd && end != 0 {
		cancelAt = end
	}
	if sub.Status == "canceled" || sub.Status == "incomplete_expired" {
		canceledAt, endedAt = end, end
	}
	return map[string]any{
		"id": sub.ID, "object": "subscription",
		"customer":             nullIfEmpty(sub.Customer),
		"status":               sub.Status,
		"cancel_at_period_end": sub.CancelAtPeriodEnd,
		"cancel_at":            cancelAt,
		"canceled_at":          canceledAt,
		"ended_at":             endedAt,
		"current_period_start": start,
		"current_period_end":   end,
		"collection_method":    "charge_automatically",
		"currency":             "usd",
		"items": map[string]any{
			"object": "list", "has_more": false, "total_count": 1,
			"url": "/v1/subscription_items?subscription=" + sub.ID,
			"data": []any{map[string]any{
				"id": "si_" + suffix, "object": "subscription_item", "quantity": 1,
				"subscription": sub.ID,
				"price": map[string]any{
					"id": sub.PriceID, "object": "price", "active": true, "currency": "usd",
					"type": "recurring", "unit_amount": 2500,
					"recurring": map[string]any{"interval": "month", "interval_count": 1, "usage_type": "licensed"},
				},
			}},
		},
		"latest_invoice": latest,
		"livemode":       false,
		"metadata":       map[string]any{},
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("stripefake: encode: %v", err))
	}
	return b
}
