package ports

import (
	"context"
	"time"
)

//go:generate go tool mockgen -destination=mocks/billing_store.go -package=mocks . BillingInbox,Clock

// Billing inbox statuses.
const (
	InboxReceived  = "received"
	InboxProcessed = "processed"
	InboxIgnored   = "ignored"
	InboxDeferred  = "deferred"
)

// InboxEvent is a stored billing event.
type InboxEvent struct {
	BillingEvent
	Source string // webhook or reconcile
	Status string
	Note   string
}

// BillingInbox reads and marks stored billing events.
type BillingInbox interface {
	// Insert stores ev once per event id and reports false for an id
	// already stored.
	Insert(ctx context.Context, ev BillingEvent, source string) (bool, error)
	// Has reports which of the ids are stored.
	Has(ctx context.Context, ids []string) (map[string]bool, error)
	Get(ctx context.Context, eventID string) (InboxEvent, error)
	// Deferred lists the ids of events waiting as deferred, oldest first.
	Deferred(ctx context.Context, limit int) ([]string, error)
	// Mark records the outcome of processing.
	Mark(ctx context.Context, eventID, status, note string) error
	// NoteFailureNotice records a member notification for (invoice,
	// attempt) and reports false when one was already sent.
	NoteFailureNotice(ctx context.Context, invoiceID string, attempt int, personID string) (bool, error)
}

// Clock tells the time; tests control it.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }
