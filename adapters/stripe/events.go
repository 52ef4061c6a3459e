package stripe

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/womendefiningai/platform/ports"
)

// The event types whose object ids EventFromJSON extracts.
const (
	EventSubscriptionCreated      = "customer.subscription.created"
	EventSubscriptionUpdated      = "customer.subscription.updated"
	EventSubscriptionDeleted      = "customer.subscription.deleted"
	EventCheckoutSessionCompleted = "checkout.session.completed"
	EventInvoicePaymentFailed     = "invoice.payment_failed"
)

// HandledEventTypes returns the event types the application acts on, for
// the webhook endpoint's configuration and for ListEvents.
func HandledEventTypes() []string {
	return []string{
		EventSubscriptionCreated, EventSubscriptionUpdated, EventSubscriptionDeleted,
		EventCheckoutSessionCompleted, EventInvoicePaymentFailed,
	}
}

// kindOf maps a Stripe event type onto the application's kind.
func kindOf(eventType string) ports.BillingEventKind {
	switch eventType {
	case EventSubscriptionCreated, EventSubscriptionUpdated, EventSubscriptionDeleted:
		return ports.BillingSubscriptionChanged
	case EventCheckoutSessionCompleted:
		return ports.BillingCheckoutCompleted
	case EventInvoicePaymentFailed:
		return ports.BillingPaymentFailed
	default:
		return ports.BillingEventOther
	}
}

// wireEvent is an event, decoded in one pass. The envelope is stable across
// API versions; of data.object only the fields read for the handled types
// are kept, raw, and decoded by type afterwards, so that an object of
// another type or version whose fields have other shapes is no error.
type wireEvent struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Type    string `json:"type"`
	Created int64  `json:"created"`
	Data    struct {
		Object wireObject `json:"object"`
	} `json:"data"`
}

type wireObject struct {
	ID                jsontext.Value `json:"id"`
	Customer          jsontext.Value `json:"customer"`
	Subscription      jsontext.Value `json:"subscription"`
	ClientReferenceID jsontext.Value `json:"client_reference_id"`
	CustomerEmail     jsontext.Value `json:"customer_email"`
	CustomerDetails   jsontext.Value `json:"customer_details"`
	AttemptCount      jsontext.Value `json:"attempt_count"`
	// Since API version 2025-03-31 an invoice names its subscription under
	// parent.subscription_details instead of in "subscription".
	Parent jsontext.Value `json:"parent"`
}

// envelopeOptions decode the envelope as encoding/json would: a signed body
// with invalid UTF-8 or a repeated name is still an event (it is stored and
// answered 200, not refused into a retry loop). The decoder is the
// encoding/json/v2 prototype because it reads a body once; encoding/json
// validates it, then reads it again, which took 2.5 times as long
// (BenchmarkWebhookVerify) and was a quarter of the server's CPU in the
// webhook ingest benchmark's profile.
var envelopeOptions = jsonv2.JoinOptions(jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true))

// expandable is a Stripe reference: an id, an expanded object with an id,
// or null.
type expandable string

func (e *expandable) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*e = ""
		return nil
	case len(b) > 0 && b[0] == '{':
		var obj struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(b, &obj); err != nil {
			return err
		}
		*e = expandable(obj.ID)
		return nil
	default:
		var id string
		if err := json.Unmarshal(b, &id); err != nil {
			return err
		}
		*e = expandable(id)
		return nil
	}
}

// EventFromJSON maps one Stripe event, as delivered to a webhook or listed by
// GET /v1/events, onto a ports.BillingEvent. It reads only ids, so events of
// any API version are accepted. Ids are extracted for the handled types (see
// HandledEventTypes; customer.subscription.* all carry a subscription); other
// types carry only id, type, time and payload. Payload is raw itself, not a
// copy.
func EventFromJSON(raw []byte) (ports.BillingEvent, error) {
	var w wireEvent
	if err := jsonv2.Unmarshal(raw, &w, envelopeOptions); err != nil {
		return ports.BillingEvent{}, fmt.Errorf("stripe: decode event: %w", err)
	}
	switch {
	case w.ID == "":
		return ports.BillingEvent{}, errors.New("stripe: decode event: no id")
	case w.Object != "" && w.Object != "event":
		return ports.BillingEvent{}, fmt.Errorf("stripe: decode event %s: object is %q, not an event", w.ID, w.Object)
	case w.Type == "":
		return ports.BillingEvent{}, fmt.Errorf("stripe: decode event %s: no type", w.ID)
	case w.Created <= 0:
		return ports.BillingEvent{}, fmt.Errorf("stripe: decode event %s: no creation time", w.ID)
	}
	ev := ports.BillingEvent{
		ID:      w.ID,
		Kind:    kindOf(w.Type),
		Type:    w.Type,
		Created: unixTime(w.Created),
		Payload: raw,
	}
	var err error
	switch {
	case strings.HasPrefix(w.Type, "customer.subscription."):
		err = mapSubscription(&ev, w.Data.Object)
	case w.Type == EventCheckoutSessionCompleted:
		err = mapCheckoutSession(&ev, w.Data.Object)
	case w.Type == EventInvoicePaymentFailed:
		err = mapInvoice(&ev, w.Data.Object)
	default:
		return ev, nil
	}
	if err != nil {
		return ports.BillingEvent{}, fmt.Errorf("stripe: decode event %s (%s): %w", w.ID, w.Type, err)
	}
	return ev, nil
}

func mapSubscription(ev *ports.BillingEvent, o wireObject) error {
	var err error
	if ev.SubscriptionID, err = requiredID(o.ID, "subscription"); err != nil {
		return err
	}
	ev.CustomerID, err = ref(o.Customer, "customer")
	return err
}

func mapCheckoutSession(ev *ports.BillingEvent, o wireObject) error {
	if _, err := requiredID(o.ID, "checkout session"); err != nil {
		return err
	}
	var details struct {
		Email string `json:"email"`
		Name  string `json:"name"`
	}
	for _, f := range []struct {
		raw  jsontext.Value
		into any
		name string
	}{
		{o.Subscription, (*expandable)(&ev.SubscriptionID), "subscription"},
		{o.Customer, (*expandable)(&ev.CustomerID), "customer"},
		{o.ClientReferenceID, &ev.ClientReferenceID, "client_reference_id"},
		{o.CustomerEmail, &ev.CustomerEmail, "customer_email"},
		{o.CustomerDetails, &details, "customer_details"},
	} {
		if err := decodeField(f.raw, f.into, f.name); err != nil {
			return err
		}
	}
	if details.Email != "" {
		ev.CustomerEmail = details.Email
	}
	ev.CustomerName = details.Name
	return nil
}

func mapInvoice(ev *ports.BillingEvent, o wireObject) error {
	var err error
	if ev.InvoiceID, err = requiredID(o.ID, "invoice"); err != nil {
		return err
	}
	if ev.CustomerID, err = ref(o.Customer, "customer"); err != nil {
		return err
	}
	if ev.SubscriptionID, err = ref(o.Subscription, "subscription"); err != nil {
		return err
	}
	if err := decodeField(o.AttemptCount, &ev.AttemptCount, "attempt_count"); err != nil {
		return err
	}
	if ev.SubscriptionID == "" && len(o.Parent) > 0 {
		var parent struct {
			SubscriptionDetails *struct {
				Subscription expandable `json:"subscription"`
			} `json:"subscription_details"`
		}
		if err := decodeField(o.Parent, &parent, "parent"); err != nil {
			return err
		}
		if parent.SubscriptionDetails != nil {
			ev.SubscriptionID = string(parent.SubscriptionDetails.Subscription)
		}
	}
	return nil
}

// requiredID decodes the object's id, which must be a non-empty string.
func requiredID(raw jsontext.Value, what string) (string, error) {
	var id string
	if err := decodeField(raw, &id, "id"); err != nil {
		return "", err
	}
	if id == "" {
		return "", fmt.Errorf("%s has no id", what)
	}
	return id, nil
}

// ref decodes a reference field (an id, an expanded object or null).
func ref(raw jsontext.Value, name string) (string, error) {
	var e expandable
	err := decodeField(raw, &e, name)
	return string(e), err
}

// decodeField decodes a field kept raw; an absent field leaves into as is.
func decodeField(raw jsontext.Value, into any, name string) error {
	if len(raw) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, into); err != nil {
		return fmt.Errorf("field %s: %w", name, err)
	}
	return nil
}
