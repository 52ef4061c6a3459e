package ports

import "context"

//go:generate go tool mockgen -destination=mocks/guest_inbox.go -package=mocks . GuestInbox,GuestInboxTx,EventFinder

// GuestRegistered is the type of the events platform's webhook delivery for
// a guest who registered for an event: the one type the guest inbox stores.
const GuestRegistered = "guest.registered"

// GuestRegistration is one verified webhook delivery of the events
// platform. DeliveryID is the platform's delivery id, the same on every
// retry of one delivery. For GuestRegistered, EventID is the platform's id
// of the event and Guest the guest as registered (Email is what the guest
// typed: it proves nothing until matched against a verified address;
// Status is the platform's approval status as sent, which may be one the
// application never sets, such as "invited"). Other types carry only
// DeliveryID and Type.
type GuestRegistration struct {
	DeliveryID string
	Type       string
	EventID    string
	Guest      PlatformGuest
}

// Guest inbox statuses: received until decided; processed once the decision
// was made (by this delivery or, earlier, by the run); ignored when there
// was nothing to decide (an event not created through the platform, a guest
// not pending approval), with the reason in the note.
const (
	GuestInboxReceived  = "received"
	GuestInboxProcessed = "processed"
	GuestInboxIgnored   = "ignored"
)

// StoredGuestRegistration is a registration as the inbox holds it.
type StoredGuestRegistration struct {
	GuestRegistration
	Status string
	Note   string
}

// GuestInbox stores the events platform's guest registrations once per
// delivery id. A stored registration keeps the guest's email only until it
// is marked: a decided one names the guest by id.
type GuestInbox interface {
	// Insert stores r once per delivery id and reports false for an id
	// already stored (leaving the stored one as it was).
	Insert(ctx context.Context, r GuestRegistration) (bool, error)
	// Get returns a stored registration, or ErrNotFound.
	Get(ctx context.Context, deliveryID string) (StoredGuestRegistration, error)
	// Mark records the outcome (GuestInboxProcessed or GuestInboxIgnored)
	// with a note, and clears the guest's email.
	Mark(ctx context.Context, deliveryID, status, note string) error
}

// GuestInboxTx stores guest registrations and queues their decision.
type GuestInboxTx interface {
	Outbox
	GuestInbox() GuestInbox
}

// EventFinder finds a created event by the events platform's id.
type EventFinder interface {
	// GetByPlatformID returns the event with its RSVP counts, or
	// ErrNotFound for an event not created through the platform (or not
	// created yet).
	GetByPlatformID(ctx context.Context, platformID string) (Event, error)
}
