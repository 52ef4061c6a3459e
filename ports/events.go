package ports

import (
	"context"
	"errors"
	"fmt"
	"time"
)

//go:generate go tool mockgen -destination=mocks/events.go -package=mocks . EventPlatform

// GuestStatus is where a guest stands on the events platform.
type GuestStatus string

// The guest statuses the application reads and sets.
const (
	GuestPendingApproval GuestStatus = "pending_approval"
	GuestApproved        GuestStatus = "approved"
	GuestDeclined        GuestStatus = "declined"
	GuestWaitlist        GuestStatus = "waitlist"
)

// ParseGuestStatus parses one of the guest statuses.
func ParseGuestStatus(s string) (GuestStatus, error) {
	switch st := GuestStatus(s); st {
	case GuestPendingApproval, GuestApproved, GuestDeclined, GuestWaitlist:
		return st, nil
	default:
		return "", fmt.Errorf("unknown guest status %q", s)
	}
}

// MaxGuestPage is the most guests one ListGuests call may ask for.
const MaxGuestPage = 100

// NewPlatformEvent is an event to publish on the events platform.
type NewPlatformEvent struct {
	Name        string
	Description string
	StartAt     time.Time
	EndAt       time.Time
	TimeZone    string // IANA name, e.g. "Europe/Berlin"
	Capacity    int
}

// PlatformEvent is an event as the events platform knows it.
type PlatformEvent struct {
	ID       string
	URL      string
	Name     string
	StartAt  time.Time
	EndAt    time.Time
	TimeZone string
}

// GuestQuery selects one page of an event's guests.
type GuestQuery struct {
	EventID string
	Status  GuestStatus
	Cursor  string // "" for the first page
	Limit   int    // 1..MaxGuestPage
}

// PlatformGuest is one guest of an event. Email is what the guest typed: it
// proves nothing until matched against a verified address.
type PlatformGuest struct {
	ID           string
	Email        string
	Name         string
	Status       GuestStatus
	RegisteredAt time.Time
}

// GuestPage is one page of guests; Next is the cursor of the page after it.
type GuestPage struct {
	Guests  []PlatformGuest
	Next    string
	HasMore bool
}

// GuestStatusUpdate sets a guest's status.
type GuestStatusUpdate struct {
	EventID string
	GuestID string
	Status  GuestStatus
}

// ErrInvalidEvent is wrapped by an EventPlatform error for an event the
// platform refused as invalid (a permanent error: retrying cannot help).
var ErrInvalidEvent = errors.New("the events platform refused the event")

// ErrGuestListBroken is wrapped by a ListGuests error, or raised by its
// caller, when an event's guest list cannot be paged as the contract says:
// a page longer than asked for, has_more without a cursor, a cursor that
// does not move, or more pages than any event can have. Retrying cannot
// help: the caller skips the event.
var ErrGuestListBroken = errors.New("the events platform's guest list cannot be paged")

// ErrOutcomeUnknown is wrapped by a CreateEvent error when the call may
// have taken effect at the platform (no answer came back: a timeout, a
// broken connection, a gateway's 5xx). Creating again could make a second
// event.
var ErrOutcomeUnknown = errors.New("the events platform may have acted: its answer was lost")

// EventPlatform is where community events are published and where guests
// ask to attend. Unconfigured, every call returns ErrNotConfigured. A rate
// limit or an outage is a *TransientError (RetryAfter from the platform);
// other failures are permanent or plain errors.
type EventPlatform interface {
	Configurable
	CreateEvent(ctx context.Context, e NewPlatformEvent) (PlatformEvent, error)
	// GetEvent returns ErrNotFound for an unknown event.
	GetEvent(ctx context.Context, id string) (PlatformEvent, error)
	ListGuests(ctx context.Context, q GuestQuery) (GuestPage, error)
	UpdateGuestStatus(ctx context.Context, u GuestStatusUpdate) error
}
