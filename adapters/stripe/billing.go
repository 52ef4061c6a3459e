// Package stripe is the Stripe adapter: ports.Billing over stripe-go v76,
// which pins API version 2023-10-16, and the verifier of Stripe's signed
// webhooks. stripe-go types stay inside this package.
package stripe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	stripego "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	"github.com/stripe/stripe-go/v76/form"

	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/internal/breaker"
	"github.com/womendefiningai/platform/ports"
)

// APIVersion is the Stripe API version this adapter reads and writes. Create
// the webhook endpoint with this version.
const APIVersion = stripego.APIVersion

// DefaultMaxNetworkRetries is the retry budget when Config leaves it at 0.
const DefaultMaxNetworkRetries = 2

// eventsPageSize is the page size of ListEvents, Stripe's maximum.
const eventsPageSize = 100

// Config configures a Billing.
type Config struct {
	// SecretKey is the API secret key (sk_live_..., sk_test_... or a
	// restricted rk_... key). Required. It never appears in errors.
	SecretKey string
	// APIURL overrides https://api.stripe.com, for tests (stripefake,
	// stripe-mock). It is the server's root: it must not end in /v1.
	APIURL string
	// HTTPClient makes the calls; nil means stripe-go's default client
	// (80 s timeout).
	HTTPClient *http.Client
	// MaxNetworkRetries bounds the retries of calls that stripe-go knows to
	// be safe to retry (connection errors, 409, 5xx on GET, lock timeouts).
	// 0 means DefaultMaxNetworkRetries; a negative value disables retries.
	MaxNetworkRetries int
}

// Billing is ports.Billing over the Stripe API. It is safe for concurrent
// use.
type Billing struct {
	api     *client.API
	backend stripego.Backend
	key     string
}

var _ ports.Billing = (*Billing)(nil)

// NewBilling returns a Billing with its own stripe-go backend; it never
// touches stripe-go's package-level key or backends.
func NewBilling(cfg Config) (*Billing, error) {
	key := strings.TrimSpace(cfg.SecretKey)
	if key == "" {
		return nil, errors.New("stripe: the secret key is required")
	}
	retries := int64(cfg.MaxNetworkRetries)
	switch {
	case cfg.MaxNetworkRetries == 0:
		retries = DefaultMaxNetworkRetries
	case cfg.MaxNetworkRetries < 0:
		retries = 0
	}
	bc := &stripego.BackendConfig{
		HTTPClient:        cfg.HTTPClient,
		MaxNetworkRetries: stripego.Int64(retries),
		// Errors are returned to the caller, which logs them once.
		LeveledLogger:   &stripego.LeveledLogger{Level: stripego.LevelNull},
		EnableTelemetry: stripego.Bool(false),
	}
	if cfg.APIURL != "" {
		u, err := url.Parse(cfg.APIURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("stripe: API URL %q is not an http(s) URL", cfg.APIURL)
		}
		if p := strings.TrimRight(u.Path, "/"); p == "/v1" || strings.HasSuffix(p, "/v1") {
			return nil, fmt.Errorf("stripe: API URL %q must not include /v1", cfg.APIURL)
		}
		bc.URL = stripego.String(cfg.APIURL)
	}
	backend := stripego.GetBackendWithConfig(stripego.APIBackend, bc)
	api := client.New(key, &stripego.Backends{API: backend, Connect: backend, Uploads: backend})
	return &Billing{api: api, backend: backend, key: key}, nil
}

// Unconfigured returns the Billing of a server without a Stripe key: every
// call returns ports.ErrNotConfigured.
func Unconfigured() *Billing { return &Billing{} }

// Configured reports whether the Billing has a key.
func (b *Billing) Configured() bool { return b.api != nil }

// NotConfiguredReason says, when unconfigured, which setting turns billing on.
func (b *Billing) NotConfiguredReason() string {
	if b.Configured() {
		return ""
	}
	return "billing (Stripe) is off on this server; set STRIPE_SECRET_KEY"
}

// GetSubscription fetches the subscription with its latest invoice expanded.
// An unknown id gives ports.ErrNotFound.
func (b *Billing) GetSubscription(ctx context.Context, id string) (ports.BillingSubscription, error) {
	if !b.Configured() {
		return ports.BillingSubscription{}, ports.ErrNotConfigured
	}
	if id == "" {
		return ports.BillingSubscription{}, errors.New("stripe: get subscription: empty id")
	}
	params := &stripego.SubscriptionParams{}
	params.Context = ctx
	params.AddExpand("latest_invoice")
	sub, err := b.api.Subscriptions.Get(id, params)
	if err != nil {
		return ports.BillingSubscription{}, b.fail("get subscription "+id, err)
	}
	status, err := membership.ParseProviderStatus(string(sub.Status))
	if err != nil {
		return ports.BillingSubscription{}, fmt.Errorf("stripe: get subscription %s: %w", id, err)
	}
	out := ports.BillingSubscription{
		ID:                sub.ID,
		Status:            status,
		CancelAtPeriodEnd: sub.CancelAtPeriodEnd,
		CurrentPeriodEnd:  unixTime(sub.CurrentPeriodEnd),
	}
	if sub.Customer != nil {
		out.CustomerID = sub.Customer.ID
	}
	if sub.Items != nil && len(sub.Items.Data) > 0 && sub.Items.Data[0].Price != nil {
		out.PriceID = sub.Items.Data[0].Price.ID
	}
	if sub.LatestInvoice != nil {
		out.LatestInvoiceAttempt = int(sub.LatestInvoice.AttemptCount)
	}
	return out, nil
}

// CreateCheckoutSession creates a subscription-mode Checkout Session for one
// unit of the price and returns its hosted URL. It reuses the customer when
// set, and otherwise prefills the email.
func (b *Billing) CreateCheckoutSession(ctx context.Context, req ports.CheckoutRequest) (string, error) {
	if !b.Configured() {
		return "", ports.ErrNotConfigured
	}
	if req.PriceID == "" || req.SuccessURL == "" {
		return "", errors.New("stripe: create checkout session: price and success URL are required")
	}
	params := &stripego.CheckoutSessionParams{
		Mode: stripego.String(string(stripego.CheckoutSessionModeSubscription)),
		LineItems: []*stripego.CheckoutSessionLineItemParams{
			{Price: stripego.String(req.PriceID), Quantity: stripego.Int64(1)},
		},
		SuccessURL: stripego.String(req.SuccessURL),
	}
	params.Context = ctx
	if req.CancelURL != "" {
		params.CancelURL = stripego.String(req.CancelURL)
	}
	if req.ClientReferenceID != "" {
		params.ClientReferenceID = stripego.String(req.ClientReferenceID)
	}
	if !req.ExpiresAt.IsZero() {
		params.ExpiresAt = stripego.Int64(req.ExpiresAt.Unix())
	}
	// Stripe refuses customer and customer_email together.
	switch {
	case req.CustomerID != "":
		params.Customer = stripego.String(req.CustomerID)
	case req.CustomerEmail != "":
		params.CustomerEmail = stripego.String(req.CustomerEmail)
	}
	s, err := b.api.CheckoutSessions.New(params)
	if err != nil {
		return "", b.fail("create checkout session", err)
	}
	if s.URL == "" {
		return "", fmt.Errorf("stripe: create checkout session: session %s has no URL", s.ID)
	}
	return s.URL, nil
}

// CreatePortalSession creates a customer portal session and returns its URL.
func (b *Billing) CreatePortalSession(ctx context.Context, customerID, returnURL string) (string, error) {
	if !b.Configured() {
		return "", ports.ErrNotConfigured
	}
	if customerID == "" {
		return "", errors.New("stripe: create portal session: empty customer id")
	}
	params := &stripego.BillingPortalSessionParams{Customer: stripego.String(customerID)}
	params.Context = ctx
	if returnURL != "" {
		params.ReturnURL = stripego.String(returnURL)
	}
	s, err := b.api.BillingPortalSessions.New(params)
	if err != nil {
		return "", b.fail("create portal session for "+customerID, err)
	}
	if s.URL == "" {
		return "", fmt.Errorf("stripe: create portal session for %s: session %s has no URL", customerID, s.ID)
	}
	return s.URL, nil
}

// ListEvents pages through GET /v1/events (newest first) for the types the
// application acts on (HandledEventTypes) created at or after since (any
// time when zero), and calls fn for each; after, when set, starts the
// listing past that event (starting_after). fn's error stops the listing
// and is returned as is. Stripe keeps events for 30 days.
func (b *Billing) ListEvents(ctx context.Context, since time.Time, after string, fn func(ports.BillingEvent) error) error {
	return b.listEvents(ctx, since, after, HandledEventTypes(), fn)
}

// listEvents lists the events of the given types (all types when empty).
func (b *Billing) listEvents(ctx context.Context, since time.Time, after string, types []string, fn func(ports.BillingEvent) error) error {
	if !b.Configured() {
		return ports.ErrNotConfigured
	}
	params := &stripego.EventListParams{}
	params.Context = ctx
	params.Limit = stripego.Int64(eventsPageSize)
	if after != "" {
		params.StartingAfter = stripego.String(after)
	}
	if !since.IsZero() {
		params.CreatedRange = &stripego.RangeQueryParams{GreaterThanOrEqual: since.Unix()}
	}
	for _, t := range types {
		params.Types = append(params.Types, stripego.String(t))
	}
	// The event list is read raw, so that each Payload is the event as
	// Stripe sent it and one mapping (EventFromJSON) serves both paths.
	it := stripego.GetIter(params, func(p *stripego.Params, v *form.Values) ([]interface{}, stripego.ListContainer, error) {
		page := &eventPage{}
		err := b.backend.CallRaw(http.MethodGet, "/v1/events", b.key, v, p, page)
		items := make([]interface{}, len(page.Data))
		for i, e := range page.Data {
			items[i] = e
		}
		return items, page, err
	})
	for it.Next() {
		raw, ok := it.Current().(*listedEvent)
		if !ok || raw == nil {
			return errors.New("stripe: list events: unexpected list item")
		}
		ev, err := EventFromJSON(raw.raw)
		if err != nil {
			return fmt.Errorf("stripe: list events: %w", err)
		}
		if err := fn(ev); err != nil {
			return err
		}
	}
	if err := it.Err(); err != nil {
		return b.fail("list events", err)
	}
	return nil
}

// eventPage is one page of GET /v1/events with the events kept raw.
type eventPage struct {
	stripego.APIResource
	stripego.ListMeta
	Data []*listedEvent `json:"data"`
}

// listedEvent is one raw event of a page. stripe-go's iterator reads its ID
// field to ask for the next page.
type listedEvent struct {
	ID  string
	raw []byte
}

func (e *listedEvent) UnmarshalJSON(b []byte) error {
	var head struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return err
	}
	e.ID = head.ID
	e.raw = append([]byte(nil), b...)
	return nil
}

// fail turns a stripe-go error into ours: a missing resource becomes
// ports.ErrNotFound, other API errors keep only their status, type, code,
// message and request id (no stripe-go type crosses the port), and
// transport errors are wrapped. The secret key is never in the result.
func (b *Billing) fail(doing string, err error) error {
	var se *stripego.Error
	if errors.As(err, &se) {
		// Only resource_missing: a 404 for an unrecognised URL (a bad
		// APIURL, say) is a misconfiguration, not a missing object.
		if se.Code == stripego.ErrorCodeResourceMissing {
			return b.redact(fmt.Errorf("stripe: %s: %w: %s", doing, ports.ErrNotFound, se.Msg))
		}
		msg := fmt.Sprintf("stripe: %s: HTTP %d %s", doing, se.HTTPStatusCode, se.Type)
		if se.Code != "" {
			msg += "/" + string(se.Code)
		}
		msg += ": " + se.Msg
		if se.RequestID != "" {
			msg += " (request " + se.RequestID + ")"
		}
		out := b.redact(errors.New(msg))
		if breaker.StatusTransient(se.HTTPStatusCode) {
			var wait time.Duration
			if se.LastResponse != nil {
				wait = breaker.RetryAfter(se.LastResponse.Header, time.Now())
			}
			return ports.Transient(providerName, out, wait)
		}
		return out
	}
	out := b.redact(fmt.Errorf("stripe: %s: %w", doing, err))
	// stripe-go answers a non-JSON error body (a proxy's 503 page, say) with
	// a plain error naming the status.
	if m := undecodedStatus.FindStringSubmatch(err.Error()); m != nil {
		if status, _ := strconv.Atoi(m[1]); breaker.StatusTransient(status) {
			return ports.Transient(providerName, out, 0)
		}
	}
	return breaker.NetworkTransient(providerName, out)
}

// providerName names Stripe in transient errors and its circuit breaker.
const providerName = "stripe"

var undecodedStatus = regexp.MustCompile(`response status: (\d{3})\b`)

// redact removes the secret key from err's message, should any server or
// transport ever echo it.
func (b *Billing) redact(err error) error {
	if !strings.Contains(err.Error(), b.key) {
		return err
	}
	return &redactedError{msg: strings.ReplaceAll(err.Error(), b.key, "[redacted]"), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// unixTime maps Stripe's Unix seconds to UTC, and 0 (absent) to the zero
// time.
func unixTime(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}
