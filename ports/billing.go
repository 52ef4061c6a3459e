package ports

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/womendefiningai/platform/domain/membership"
)

//go:generate go tool mockgen -destination=mocks/billing.go -package=mocks . Billing

// ErrInvalidSignature is returned (wrapped) for a webhook whose signature,
// timestamp or body does not verify.
var ErrInvalidSignature = errors.New("invalid webhook signature")

// BillingSubscription is the billing provider's current view of one
// subscription, fetched from its API at our pinned version.
type BillingSubscription struct {
	ID                string
	CustomerID        string
	Status            membership.ProviderStatus
	PriceID           string
	CancelAtPeriodEnd bool
	CurrentPeriodEnd  time.Time
	// LatestInvoiceAttempt is the latest invoice's payment attempt count
	// (0 when unknown).
	LatestInvoiceAttempt int
}

// BillingEventKind is what a billing event is about, in the application's
// words. The billing adapter maps its provider's event types onto it.
type BillingEventKind string

// The billing event kinds.
const (
	BillingSubscriptionChanged BillingEventKind = "subscription_changed" // created, updated or deleted
	BillingCheckoutCompleted   BillingEventKind = "checkout_completed"   // a hosted checkout finished
	BillingPaymentFailed       BillingEventKind = "payment_failed"       // an invoice payment attempt failed
	BillingEventOther          BillingEventKind = "other"                // recorded and ignored
)

// ParseBillingEventKind parses one of the kinds.
func ParseBillingEventKind(s string) (BillingEventKind, error) {
	switch k := BillingEventKind(s); k {
	case BillingSubscriptionChanged, BillingCheckoutCompleted, BillingPaymentFailed, BillingEventOther:
		return k, nil
	default:
		return "", fmt.Errorf("unknown billing event kind %q", s)
	}
}

// BillingEvent is a verified webhook or a listed event: only a notification.
// Object ids let the handler fetch the authoritative objects.
type BillingEvent struct {
	ID   string
	Kind BillingEventKind
	// Type is the provider's own name for the event, kept for operators.
	Type    string
	Created time.Time
	// Payload is the raw event JSON, kept in the inbox.
	Payload []byte
	// Ids found in the event object (empty when absent):
	SubscriptionID    string
	CustomerID        string
	InvoiceID         string
	ClientReferenceID string // checkout completed: our person id
	CustomerEmail     string // checkout completed: the email the customer gave
	CustomerName      string // checkout completed: the name the customer gave
	AttemptCount      int    // payment failed: the invoice's attempt number
}

// CheckoutRequest starts a subscription checkout.
type CheckoutRequest struct {
	PriceID           string
	CustomerID        string // reuse when set
	CustomerEmail     string // prefill when no customer
	ClientReferenceID string // our person id
	SuccessURL        string
	CancelURL         string
	// ExpiresAt is when the provider closes the checkout (zero: its default).
	ExpiresAt time.Time
}

// Billing is what the application needs from the billing provider.
// Unconfigured, every call returns ErrNotConfigured.
type Billing interface {
	Configurable
	// GetSubscription returns ErrNotFound for an unknown id.
	GetSubscription(ctx context.Context, id string) (BillingSubscription, error)
	// CreateCheckoutSession returns the hosted checkout URL.
	CreateCheckoutSession(ctx context.Context, req CheckoutRequest) (string, error)
	// CreatePortalSession returns the customer portal URL.
	CreatePortalSession(ctx context.Context, customerID, returnURL string) (string, error)
	// ListEvents calls fn for every event the application acts on (the
	// adapter knows which provider types those are) created at or after
	// since, newest first, until fn returns an error or none are left.
	// after, when set, is the id of an event already seen: the listing
	// starts with the next older one (a reconciliation resuming a page).
	ListEvents(ctx context.Context, since time.Time, after string, fn func(BillingEvent) error) error
	// CancelSubscription cancels the subscription now, or at its period end
	// when atPeriodEnd. An unknown or already canceled subscription is not
	// an error (erasure retries it).
	CancelSubscription(ctx context.Context, id string, atPeriodEnd bool) error
	// EraseCustomer deletes the customer (remove true) or clears its
	// personal fields (name, email, phone, address, description). An
	// unknown or deleted customer is not an error.
	EraseCustomer(ctx context.Context, customerID string, remove bool) error
}
