package application

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/event"
	"github.com/womendefiningai/platform/ports"
)

// creationLease is how long one attempt may hold an event's creation before
// a retry with the same key takes it over.
const creationLease = 2 * time.Minute

// maxIdempotencyKey bounds the client's idempotency key.
const maxIdempotencyKey = 200

// ErrEventBusy is returned while another request with the same idempotency
// key is creating the event: retry in a moment.
var ErrEventBusy = ports.ErrEventBusy

// ErrEventUncertain is returned while a creation whose platform answer was
// lost waits for an operator: the event may exist on the platform.
var ErrEventUncertain = ports.ErrEventUncertain

// ErrIdempotencyKeyReused is returned for a key already used with another
// event: the client must choose a new key.
var ErrIdempotencyKeyReused = errors.New("the idempotencyKey was used for another event")

// FieldError is one problem with one input field.
type FieldError = event.FieldError

// FieldErrors lists every problem with an input; it matches
// ErrInvalidInput, so callers that only know that still answer 400.
type FieldErrors []FieldError

func (e FieldErrors) Error() string {
	return (&event.InvalidError{Fields: e}).Error()
}

// Is makes errors.Is(err, ErrInvalidInput) true.
func (e FieldErrors) Is(target error) bool { return target == ErrInvalidInput }

// CreateEventInput is a leader's new event. IdempotencyKey is chosen by the
// client: a retried request with the same key creates one event.
type CreateEventInput struct {
	IdempotencyKey string
	Name           string
	Description    string
	StartAt        time.Time
	EndAt          time.Time
	TimeZone       string
	Capacity       int
}

// CreateEvent creates a community event on the events platform and stores
// it, with its audit entry, in one transaction. Needs events:write: leaders
// and admins, or an agent granted it.
type CreateEvent struct {
	uow          ports.UnitOfWork[ports.EventTx]
	reservations ports.EventReservations
	platform     ports.EventPlatform
	clock        ports.Clock
	alerter      ports.Alerter
}

// NewCreateEvent refuses nil dependencies.
func NewCreateEvent(uow ports.UnitOfWork[ports.EventTx], reservations ports.EventReservations, platform ports.EventPlatform, clock ports.Clock, alerter ports.Alerter) (CreateEvent, error) {
	if anyNil(uow, reservations, platform, clock, alerter) {
		return CreateEvent{}, nilDependency("create event")
	}
	return CreateEvent{uow: uow, reservations: reservations, platform: platform, clock: clock, alerter: alerter}, nil
}

// Handle validates the input (every problem as a FieldError, nothing
// created), holds the creation under the caller's key, creates the event
// on the platform and stores it. A retry with the same key returns the
// event already created, or completes one whose platform id was recorded
// when storing it failed; it never creates a second one on the platform
// while the first attempt holds its lease.
func (h CreateEvent) Handle(ctx context.Context, in CreateEventInput) (ports.Event, error) {
	p := PrincipalFrom(ctx)
	if p.IsAnonymous() || !access.Allows(p, access.ScopeEventsWrite) {
		return ports.Event{}, fmt.Errorf("%w: creating an event needs %s", access.ErrForbidden, access.ScopeEventsWrite)
	}
	draft, err := validateEvent(in, h.clock.Now())
	if err != nil {
		return ports.Event{}, err
	}
	draft.CreatorKind, draft.CreatorID = p.Kind().String(), p.ID()
	if !h.platform.Configured() {
		return ports.Event{}, fmt.Errorf("create event: %w", notConfigured(h.platform))
	}
	res, err := h.reservations.Reserve(ctx, draft, creationLease)
	if err != nil {
		return ports.Event{}, fmt.Errorf("create event: %w", err)
	}
	if !sameEvent(res.Event, draft.Event) {
		return ports.Event{}, fmt.Errorf("create event: %w", ErrIdempotencyKeyReused)
	}
	if res.Event.Created {
		return res.Event, nil
	}
	var pe ports.PlatformEvent
	if res.Held {
		pe, err = h.platform.CreateEvent(ctx, draft.Event)
	} else {
		pe, err = h.platform.GetEvent(ctx, res.Event.PlatformID)
	}
	if err != nil {
		if res.Held {
			err = h.settleFailure(ctx, res.Event, pe, err)
		}
		if errors.Is(err, ports.ErrInvalidEvent) { // the platform's own rules refused it: the caller corrects it
			return ports.Event{}, fmt.Errorf("%w: %w", ErrInvalidInput, err)
		}
		return ports.Event{}, fmt.Errorf("create event: %w", err)
	}
	if err := h.store(ctx, p, res.Event, pe); err != nil {
		if rerr := h.reservations.RecordPlatformID(context.WithoutCancel(ctx), res.Event.ID, pe.ID); rerr != nil {
			err = errors.Join(err, fmt.Errorf("platform event %s is not recorded: %w", pe.ID, rerr))
		}
		return ports.Event{}, fmt.Errorf("create event: %w", err)
	}
	e := res.Event
	e.PlatformID, e.URL, e.Created = pe.ID, pe.URL, true
	return e, nil
}

// settleFailure leaves a held creation whose platform call failed as its
// outcome allows: with the platform's id recorded when the event was made
// (a retry completes it); blocked for an operator, and alerted, when the
// answer was lost and the event may exist (a retry must not create a
// second one); released when the platform certainly made nothing (it
// refused, or was not reached), so a retry may create at once.
func (h CreateEvent) settleFailure(ctx context.Context, e ports.Event, pe ports.PlatformEvent, callErr error) error {
	ctx = context.WithoutCancel(ctx)
	switch {
	case pe.ID != "":
		return errors.Join(callErr, h.reservations.RecordPlatformID(ctx, e.ID, pe.ID))
	case errors.Is(callErr, ports.ErrOutcomeUnknown):
		if err := h.reservations.Block(ctx, e.ID); err != nil {
			return errors.Join(callErr, err)
		}
		aerr := h.alerter.Alert(ctx, ports.Alert{Severity: ports.SeverityWarning, Title: "An event creation is uncertain",
			Detail: "The events platform's answer to createEvent was lost; the event may exist there. Settle the creation (docs/events.md, runbook).",
			Fields: map[string]string{"event_id": e.ID, "starts_at": e.StartAt.UTC().Format(time.RFC3339)}})
		return errors.Join(fmt.Errorf("%w: %w", ErrEventUncertain, callErr), aerr)
	default:
		return errors.Join(callErr, h.reservations.Release(ctx, e.ID))
	}
}

// sameEvent reports whether the stored creation e is the event d asks for,
// to the microsecond the store keeps.
func sameEvent(e ports.Event, d ports.NewPlatformEvent) bool {
	at := func(t time.Time) time.Time { return t.Truncate(time.Microsecond) }
	return e.Name == d.Name && e.Description == d.Description && at(e.StartAt).Equal(at(d.StartAt)) &&
		at(e.EndAt).Equal(at(d.EndAt)) && e.TimeZone == d.TimeZone && e.Capacity == d.Capacity
}

// store completes the event and audits it in one transaction.
func (h CreateEvent) store(ctx context.Context, p access.Principal, e ports.Event, pe ports.PlatformEvent) error {
	return h.uow.Do(ctx, func(ctx context.Context, tx ports.EventTx) error {
		done, err := tx.Events().Complete(ctx, e.ID, pe)
		if err != nil || !done {
			return err
		}
		return tx.Audit().Record(ctx, actor(p, ports.AuditEntry{
			Action: "event.create", SubjectKind: "event", SubjectID: e.ID, Outcome: ports.OutcomeSuccess,
			Details: map[string]any{"platform_id": pe.ID, "name": e.Name, "starts_at": e.StartAt.UTC().Format(time.RFC3339)},
		}))
	})
}

// validateEvent checks the input by the domain's rules and the key.
func validateEvent(in CreateEventInput, now time.Time) (ports.EventDraft, error) {
	var fields FieldErrors
	key := strings.TrimSpace(in.IdempotencyKey)
	if key == "" || len(key) > maxIdempotencyKey {
		fields = append(fields, FieldError{Field: "idempotencyKey", Message: "is required, at most 200 bytes"})
	}
	d, err := event.NewDraft(event.Params{Name: in.Name, Description: in.Description, StartAt: in.StartAt, EndAt: in.EndAt,
		TimeZone: in.TimeZone, Capacity: in.Capacity}, now)
	var inv *event.InvalidError
	if errors.As(err, &inv) {
		fields = append(fields, inv.Fields...)
	}
	if len(fields) > 0 {
		return ports.EventDraft{}, fields
	}
	return ports.EventDraft{IdempotencyKey: key, Event: ports.NewPlatformEvent{Name: d.Name(), Description: d.Description(),
		StartAt: d.StartAt(), EndAt: d.EndAt(), TimeZone: d.TimeZone(), Capacity: d.Capacity()}}, nil
}
