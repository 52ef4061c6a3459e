package ports

import (
	"context"
	"errors"
	"time"

	"github.com/womendefiningai/platform/domain/approval"
)

//go:generate go tool mockgen -destination=mocks/events_store.go -package=mocks . EventReservations,EventStore,EventReader,RSVPDecisions,RSVPRuns,RSVPPeople,EventTx

// EventDraft is a validated event a person asked to create, with the key
// that makes a retried request create it once.
type EventDraft struct {
	CreatorKind    string // user, agent or system
	CreatorID      string
	IdempotencyKey string
	Event          NewPlatformEvent
}

// Event is a community event created through the platform.
type Event struct {
	ID          string // ours
	PlatformID  string // the events platform's id ("" until it answered)
	URL         string
	Name        string
	Description string
	StartAt     time.Time
	EndAt       time.Time
	TimeZone    string
	Capacity    int
	CreatorKind string
	CreatorID   string
	CreatedAt   time.Time
	// Created is false while the event is being created on the platform.
	Created bool
	// RSVPs counts the decisions made on the event's guests.
	RSVPs RSVPCounts
}

// RSVPCounts counts an event's RSVP decisions by outcome.
type RSVPCounts struct {
	Approved    int
	Declined    int
	LeftPending int
	// DecidedAt is when the latest decision was made (zero: none yet).
	DecidedAt time.Time
}

// Reservation is the row an event creation holds before it calls the
// platform.
type Reservation struct {
	Event Event
	// Held is true when this call holds the creation: it inserted the row,
	// or took over one whose earlier attempt let its lease run out before the
	// platform answered. Only the holder may call the platform to create.
	Held bool
}

// ErrEventBusy is returned when another attempt holds the creation of an
// event with the same idempotency key: retry later.
var ErrEventBusy = errors.New("the event is being created by another request")

// ErrEventUncertain is returned for a creation whose platform call was
// lost (ports.ErrOutcomeUnknown): the event may exist at the platform, so
// nothing creates it again until an operator settles it (records the
// platform's id, or releases the key).
var ErrEventUncertain = errors.New("the event's creation is uncertain: an operator must settle it")

// EventReservations holds event creations outside any transaction.
type EventReservations interface {
	// Reserve returns the creation with the draft's creator and key: new or
	// taken over (Held), or as it stands (created, or carrying the platform
	// id of an attempt that could not store it). ErrEventBusy when another
	// attempt holds it. lease is how long a holder may take.
	Reserve(ctx context.Context, d EventDraft, lease time.Duration) (Reservation, error)
	// RecordPlatformID records the platform's id on a creation whose store
	// failed, so that the event is never left without a trace here and a
	// retry completes it instead of creating it again.
	RecordPlatformID(ctx context.Context, eventID, platformID string) error
	// Release drops a held creation the platform certainly did not make
	// (it refused, or was not reached), so the key is free at once.
	Release(ctx context.Context, eventID string) error
	// Block keeps a held creation whose platform call was lost from being
	// taken over: Reserve answers ErrEventUncertain until an operator
	// settles it.
	Block(ctx context.Context, eventID string) error
}

// EventStore changes events in a transaction.
type EventStore interface {
	// Complete stores what the platform answered on the creation eventID.
	// It returns false (and changes nothing) when the event is created
	// already.
	Complete(ctx context.Context, eventID string, p PlatformEvent) (bool, error)
	// FirstUnavailable reports whether the event has not been recorded as
	// unavailable at the platform yet (no "event.unavailable" audit entry),
	// holding a lock on that question until the transaction ends, so that
	// racing runs record and alert it once.
	FirstUnavailable(ctx context.Context, eventID string) (bool, error)
}

// EventWhen selects upcoming or past events.
type EventWhen uint8

// The event selections.
const (
	EventsUpcoming EventWhen = iota + 1 // ending after now, soonest first
	EventsPast                          // ended by now, latest first
)

// EventFilter selects a page of created events.
type EventFilter struct {
	When  EventWhen
	Now   time.Time
	After string // cursor of the last event of the previous page
	Limit int
}

// EventPage is one page of events with the cursor of each.
type EventPage struct {
	Events  []Event
	Cursors []string
	HasMore bool
}

// EventReader reads created events with their RSVP counts. Get returns
// ErrNotFound for an unknown or not yet created event; List returns
// ErrInvalidCursor for a cursor it did not make.
type EventReader interface {
	Get(ctx context.Context, id string) (Event, error)
	List(ctx context.Context, f EventFilter) (EventPage, error)
}

// RSVPDecision is the decision on one guest of one event.
type RSVPDecision struct {
	EventID  string // ours
	GuestID  string // the platform's
	PersonID string // "" when no person matched
	Outcome  approval.Outcome
	Reason   approval.Reason
	RunID    string // the job run that decided
}

// RSVPTally counts what one run did to one event's guests.
type RSVPTally struct {
	Approved    int
	Declined    int
	LeftPending int
	// Errors are guests whose update the platform refused; a later run
	// decides them again.
	Errors int
	// Deferred counts the guests whose update is put off (a rate limit,
	// an outage) and not decided since: each guest is counted once, in
	// one of the counts above or here.
	Deferred int
	// Deferrals counts every time the run put an update off, even of a
	// guest it (or a racing run) then decided.
	Deferrals int
}

// RSVPDecisions records each guest's decision once, under the unique key
// (event, guest), before the platform is told.
type RSVPDecisions interface {
	// Claim records d before its platform call. It returns true when the
	// caller may act on it: no decision existed, the one recorded left the
	// guest pending and d does not, an earlier call was deferred or
	// failed, or an earlier claim was never applied and is older than
	// stale. Otherwise false: the guest is decided (or
	// being decided by a concurrent run), and nothing changes. A decision
	// that leaves the guest pending is applied as it is claimed.
	Claim(ctx context.Context, d RSVPDecision, stale time.Duration) (bool, error)
	// Applied marks the claim of runID as told to the platform; false when
	// the claim is no longer runID's.
	Applied(ctx context.Context, eventID, guestID, runID string) (bool, error)
	// Defer marks runID's claim whose platform call was put off (a rate
	// limit, an outage): the run's next attempt claims the guest again.
	Defer(ctx context.Context, eventID, guestID, runID string) error
	// Fail marks runID's claim whose platform call was refused, with why;
	// a later run decides the guest again.
	Fail(ctx context.Context, eventID, guestID, runID, why string) error
}

// RSVPRuns counts the decisions of a run, by event id.
type RSVPRuns interface {
	RunTally(ctx context.Context, runID string) (map[string]RSVPTally, error)
}

// EventTx stores events and RSVP decisions with their audit entries.
type EventTx interface {
	Audited
	Events() EventStore
	RSVPDecisions() RSVPDecisions
}

// RSVPPerson is the person found for a guest's email, as approval sees them.
type RSVPPerson struct {
	PersonID string
	Person   approval.Person
}

// RSVPPeople finds people by verified email for the approval of RSVPs.
type RSVPPeople interface {
	// FindByEmails returns, for each of emails (keyed by
	// approval.NormalizeEmail), the one person with that verified address,
	// with their role and membership. An email no one has verified, or
	// that several people share, is absent.
	FindByEmails(ctx context.Context, emails []string) (map[string]RSVPPerson, error)
}
