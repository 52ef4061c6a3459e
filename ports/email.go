package ports

import "context"

//go:generate go tool mockgen -destination=mocks/email.go -package=mocks . EmailList

// SubscriberStatus is the list's consent state for an address.
type SubscriberStatus string

// The subscriber statuses. Consent belongs to the list: unsubscribed and
// cleaned are never turned back into subscribed.
const (
	SubscriberSubscribed    SubscriberStatus = "subscribed"
	SubscriberUnsubscribed  SubscriberStatus = "unsubscribed"
	SubscriberCleaned       SubscriberStatus = "cleaned"
	SubscriberPending       SubscriberStatus = "pending"
	SubscriberTransactional SubscriberStatus = "transactional"
	SubscriberArchived      SubscriberStatus = "archived"
)

// Subscriber is the desired (or current) state of one address on the list.
type Subscriber struct {
	Email     string
	FirstName string
	LastName  string
	Tier      string
	// Tags maps a tag name to active (true) or inactive (false).
	Tags map[string]bool
}

// SubscriberResult is what the list answered for one upsert.
type SubscriberResult struct {
	Email  string
	Status SubscriberStatus
	Error  string // per-member error in a batch, "" when fine
}

// EmailList is what the application needs from the email marketing list.
// Unconfigured, every call returns ErrNotConfigured: callers record
// "skipped: not configured".
type EmailList interface {
	Configurable
	// Upsert creates (as subscribed, or pending where the list requires
	// confirmation) or updates the merge fields of a subscriber. It never
	// changes the consent status of an existing subscriber. previousEmail,
	// when set, moves that subscriber to s.Email; when s.Email is a
	// subscriber already, that one is updated and the previous one is left
	// as it is (it may be someone else's by now).
	Upsert(ctx context.Context, s Subscriber, previousEmail string) (SubscriberResult, error)
	// Archive stops all mail to the address and keeps the contact (its
	// consent and history). An unknown or archived address is not an error.
	Archive(ctx context.Context, email string) error
	// SetTags sets each tag active or inactive.
	SetTags(ctx context.Context, email string, tags map[string]bool) error
	// TriggerJourney starts the journey step for the address.
	TriggerJourney(ctx context.Context, journeyID, stepID, email string) error
	// DeletePermanently erases the subscriber for good (the provider's
	// erasure, not an archive, which would keep the contact). An unknown
	// address is not an error.
	DeletePermanently(ctx context.Context, email string) error
	// BatchUpsert upserts many subscribers (chunked by the adapter) and
	// returns one result per subscriber.
	BatchUpsert(ctx context.Context, subs []Subscriber) ([]SubscriberResult, error)
}
