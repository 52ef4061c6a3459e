package stripe_test

import (
	"bytes"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/stripe"
	"github.com/womendefiningai/platform/adapters/stripe/stripefake"
	"github.com/womendefiningai/platform/ports"
)

var (
	t0  = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	sub = stripefake.Subscription{
		ID: "sub_123", Customer: "cus_123", Status: "active", PriceID: "price_monthly",
		CurrentPeriodEnd: t0.AddDate(0, 1, 0),
	}
)

func TestEventFromJSON(t *testing.T) {
	t.Parallel()
	realistic, err := os.ReadFile("testdata/customer.subscription.updated.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		raw  []byte
		want ports.BillingEvent
	}{
		{
			name: "customer.subscription.created",
			raw:  stripefake.SubscriptionEvent("evt_1", "customer.subscription.created", t0, sub),
			want: ports.BillingEvent{ID: "evt_1", Kind: ports.BillingSubscriptionChanged, Type: "customer.subscription.created", Created: t0, SubscriptionID: "sub_123", CustomerID: "cus_123"},
		},
		{
			name: "customer.subscription.updated",
			raw:  stripefake.SubscriptionEvent("evt_2", "customer.subscription.updated", t0, sub),
			want: ports.BillingEvent{ID: "evt_2", Kind: ports.BillingSubscriptionChanged, Type: "customer.subscription.updated", Created: t0, SubscriptionID: "sub_123", CustomerID: "cus_123"},
		},
		{
			name: "customer.subscription.deleted",
			raw:  stripefake.SubscriptionEvent("evt_3", "customer.subscription.deleted", t0, stripefake.Subscription{ID: "sub_9", Customer: "cus_9", Status: "canceled"}),
			want: ports.BillingEvent{ID: "evt_3", Kind: ports.BillingSubscriptionChanged, Type: "customer.subscription.deleted", Created: t0, SubscriptionID: "sub_9", CustomerID: "cus_9"},
		},
		{
			name: "checkout.session.completed",
			raw: stripefake.CheckoutSessionCompletedEvent("evt_4", t0, stripefake.CheckoutSession{
				Customer: "cus_123", Subscription: "sub_123", ClientReferenceID: "person-1",
				CustomerEmail: "ada@example.org", CustomerName: "Ada Lovelace",
			}),
			want: ports.BillingEvent{
				ID: "evt_4", Kind: ports.BillingCheckoutCompleted, Type: "checkout.session.completed", Created: t0, SubscriptionID: "sub_123", CustomerID: "cus_123",
				ClientReferenceID: "person-1", CustomerEmail: "ada@example.org", CustomerName: "Ada Lovelace",
			},
		},
		{
			name: "invoice.payment_failed",
			raw: stripefake.InvoicePaymentFailedEvent("evt_5", t0, stripefake.Invoice{
				ID: "in_7", Customer: "cus_123", Subscription: "sub_123", AttemptCount: 2, NextPaymentAttempt: t0.AddDate(0, 0, 3),
			}),
			want: ports.BillingEvent{ID: "evt_5", Kind: ports.BillingPaymentFailed, Type: "invoice.payment_failed", Created: t0, SubscriptionID: "sub_123", CustomerID: "cus_123", InvoiceID: "in_7", AttemptCount: 2},
		},
		{
			name: "realistic 2023-10-16 subscription update",
			raw:  realistic,
			want: ports.BillingEvent{
				ID: "evt_1OJ2kLAbCdEfGhIjKlMnOpQr", Kind: ports.BillingSubscriptionChanged, Type: "customer.subscription.updated", Created: time.Unix(1701446400, 0).UTC(),
				SubscriptionID: "sub_1OJ2kJAbCdEfGhIjSUBabc12", CustomerID: "cus_P7a8b9c0d1e2f3",
			},
		},
		{
			name: "expanded customer, checkout email without customer_details",
			raw: []byte(`{"id":"evt_6","object":"event","api_version":"2020-08-27","created":1709294400,"type":"checkout.session.completed",
				"data":{"object":{"id":"cs_1","object":"checkout.session","customer":{"id":"cus_x","object":"customer"},
				"subscription":{"id":"sub_x","object":"subscription"},"client_reference_id":null,"customer_email":"b@example.org","customer_details":null}}}`),
			want: ports.BillingEvent{ID: "evt_6", Kind: ports.BillingCheckoutCompleted, Type: "checkout.session.completed", Created: t0, SubscriptionID: "sub_x", CustomerID: "cus_x", CustomerEmail: "b@example.org"},
		},
		{
			name: "invoice of API 2025-03-31 (subscription under parent)",
			raw: []byte(`{"id":"evt_7","object":"event","api_version":"2025-03-31.basil","created":1709294400,"type":"invoice.payment_failed",
				"data":{"object":{"id":"in_8","object":"invoice","customer":"cus_8","attempt_count":3,
				"parent":{"type":"subscription_details","subscription_details":{"subscription":"sub_8","metadata":{}}}}}}`),
			want: ports.BillingEvent{ID: "evt_7", Kind: ports.BillingPaymentFailed, Type: "invoice.payment_failed", Created: t0, SubscriptionID: "sub_8", CustomerID: "cus_8", InvoiceID: "in_8", AttemptCount: 3},
		},
		{
			name: "unhandled type keeps only the envelope",
			raw:  []byte(`{"id":"evt_8","object":"event","api_version":null,"created":1709294400,"type":"plan.created","data":{"object":{"id":"price_1","object":"plan","customer":"cus_no"}}}`),
			want: ports.BillingEvent{ID: "evt_8", Kind: ports.BillingEventOther, Type: "plan.created", Created: t0},
		},
		{
			name: "unhandled type whose fields have other shapes",
			raw:  []byte(`{"id":"evt_9","object":"event","created":1709294400,"type":"v2.thing.updated","data":{"object":{"id":7,"customer":1,"parent":"x","attempt_count":"many"}}}`),
			want: ports.BillingEvent{ID: "evt_9", Kind: ports.BillingEventOther, Type: "v2.thing.updated", Created: t0},
		},
		{
			// Signed bodies that a strict decoder would refuse are still
			// events: refusing one would make Stripe retry it for days.
			name: "invalid UTF-8, NUL and a repeated name",
			raw:  []byte("{\"id\":\"evt_10\",\"object\":\"event\",\"created\":1709294400,\"type\":\"customer.subscription.updated\",\"data\":{\"object\":{\"id\":\"sub_10\",\"customer\":\"cus_10\",\"description\":\"caf\xe9 \\u0000\",\"metadata\":{\"k\":\"a\",\"k\":\"b\"}}}}"),
			want: ports.BillingEvent{ID: "evt_10", Kind: ports.BillingSubscriptionChanged, Type: "customer.subscription.updated", Created: t0, SubscriptionID: "sub_10", CustomerID: "cus_10"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := stripe.EventFromJSON(tt.raw)
			if err != nil {
				t.Fatalf("EventFromJSON: %v", err)
			}
			if !bytes.Equal(got.Payload, tt.raw) {
				t.Errorf("Payload is not the raw event")
			}
			got.Payload = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("EventFromJSON =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestEventFromJSONRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		raw  string
	}{
		{"not JSON", `event`},
		{"JSON null", `null`},
		{"not an event object", `{"id":"sub_1","object":"subscription","created":1709294400,"type":"x"}`},
		{"no id", `{"object":"event","created":1709294400,"type":"invoice.payment_failed","data":{"object":{"id":"in_1"}}}`},
		{"no type", `{"id":"evt_1","object":"event","created":1709294400,"data":{"object":{}}}`},
		{"no created", `{"id":"evt_1","object":"event","type":"customer.subscription.updated","data":{"object":{"id":"sub_1"}}}`},
		{"handled type without object", `{"id":"evt_1","object":"event","created":1709294400,"type":"customer.subscription.updated","data":{"object":null}}`},
		{"subscription without id", `{"id":"evt_1","object":"event","created":1709294400,"type":"customer.subscription.updated","data":{"object":{"customer":"cus_1"}}}`},
		{"invoice without id", `{"id":"evt_1","object":"event","created":1709294400,"type":"invoice.payment_failed","data":{"object":{"customer":"cus_1"}}}`},
		{"customer of the wrong type", `{"id":"evt_1","object":"event","created":1709294400,"type":"customer.subscription.updated","data":{"object":{"id":"sub_1","customer":42}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if ev, err := stripe.EventFromJSON([]byte(tt.raw)); err == nil {
				t.Fatalf("EventFromJSON = %+v, want an error", ev)
			}
		})
	}
}
