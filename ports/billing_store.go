package ports

import (
	"context"
	"errors"
	"time"
)

//go:generate go tool mockgen -destination=mocks/billing_store.go -package=mocks . BillingInbox,Clock,SharedClock

// Billing inbox statuses.
const (
	InboxReceived  = "received"
	InboxProcessed = "processed"
	InboxIgnored   = "ignored"
	InboxDeferred  = "deferred"
	// InboxExpired is a deferred event that waited past the limit: kept for
	// the record, never re-queued again.
	InboxExpired = "expired"
)

// RequeuePolicy says which waiting billing events reconciliation queues
// again, and how far back each re-queue pushes the next.
type RequeuePolicy struct {
	// StuckAfter: a 'received' event older than this lost its message.
	StuckAfter time.Duration
	// Backoff is the wait after the first re-queue, doubling with each
	// attempt up to MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// Limit bounds the events of one call.
	Limit int
}

// ErrAlreadyStored is BillingInbox.Add's answer for an event id already
// stored.
var ErrAlreadyStored = errors.New("billing event already stored")

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
	// Add stores ev, which must be new: an event id already stored fails
	// with ErrAlreadyStored and stores nothing. In a unit of work Add may
	// be sent with the next statement or the commit, so its error may come
	// from Do: the whole transaction then fails, and nothing it did (a
	// publish included) is kept. One round trip stores and publishes.
	Add(ctx context.Context, ev BillingEvent, source string) error
	// Has reports which of the ids are stored.
	Has(ctx context.Context, ids []string) (map[string]bool, error)
	Get(ctx context.Context, eventID string) (InboxEvent, error)
	// ClaimDue picks, in one statement, the events due for another try:
	// deferred ones whose next attempt is due and 'received' ones stuck past
	// StuckAfter, earliest due first. Each gets one more attempt and its
	// next attempt pushed back (exponential backoff); the caller queues
	// them in the same transaction.
	ClaimDue(ctx context.Context, p RequeuePolicy) ([]string, error)
	// ClaimCustomer picks the deferred events of a customer (it has just
	// been linked to a person) the same way, whenever they are due. In the
	// transaction that writes the link, it holds the customer until the
	// commit (see Defer).
	ClaimCustomer(ctx context.Context, customerID string, p RequeuePolicy) ([]string, error)
	// Expire marks expired, with note, the events deferred for longer than
	// maxAge, and returns their ids.
	Expire(ctx context.Context, maxAge time.Duration, note string) ([]string, error)
	// Mark records the outcome of processing.
	Mark(ctx context.Context, eventID, status, note string) error
	// Defer marks the event deferred, with note, unless a person is linked
	// to customerID by then: it reports linked instead, and changes nothing.
	// The check and the mark are serialized with ClaimCustomer of the same
	// customer, so an event deferred while its customer is being linked is
	// either claimed by the link or sees it.
	Defer(ctx context.Context, eventID, customerID, note string) (linked bool, err error)
	// NoteFailureNotice records a member notification for (invoice,
	// attempt) and reports false when one was already sent.
	NoteFailureNotice(ctx context.Context, invoiceID string, attempt int, personID string) (bool, error)
}

// Clock tells the time; tests control it.
type Clock interface {
	Now() time.Time
}

// SharedClock tells the time of the shared database: one clock for every
// replica, whatever a worker's own clock says. Orders that replicas must
// agree on (which provider snapshot is newer) read it.
type SharedClock interface {
	Now(ctx context.Context) (time.Time, error)
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }
