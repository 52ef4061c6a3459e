package ports

import (
	"context"
	"errors"
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

// BillingEvent is a verified webhook or a listed event: only a notification.
// Object ids let the handler fetch the authoritative objects.
type BillingEvent struct {
	ID      string
	Type    string // for example "customer.subscription.updated"
	Created time.Time
	// Payload is the raw event JSON, kept in the inbox.
	Payload []byte
	// Ids found in the event object (empty when absent):
	SubscriptionID    string
	CustomerID        string
	InvoiceID         string
	ClientReferenceID string // checkout.session.completed: our person id
	CustomerEmail     string // checkout.session.completed: customer_details.email
	CustomerName      string // checkout.session.completed: customer_details.name
	AttemptCount      int    // invoice.payment_failed
}

// CheckoutRequest starts a subscription checkout.
type CheckoutRequest struct {
	PriceID           string
	CustomerID        string // reuse when set
	CustomerEmail     string // prefill when no customer
	ClientReferenceID string // our person id
	SuccessURL        string
	CancelURL         string
}

// Billing is what the application needs from the billing provider.
type Billing interface {
	// GetSubscription returns ErrNotFound for an unknown id.
	GetSubscription(ctx context.Context, id string) (BillingSubscription, error)
	// CreateCheckoutSession returns the hosted checkout URL.
	CreateCheckoutSession(ctx context.Context, req CheckoutRequest) (string, error)
	// CreatePortalSession returns the customer portal URL.
	CreatePortalSession(ctx context.Context, customerID, returnURL string) (string, error)
	// ListEvents calls fn for every event of the given types created at or
	// after since, newest first, until fn returns an error or none are left.
	ListEvents(ctx context.Context, since time.Time, types []string, fn func(BillingEvent) error) error
}
