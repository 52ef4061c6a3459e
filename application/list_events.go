package application

import (
	"context"
	"fmt"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/ports"
)

// Page sizes of the event list.
const (
	DefaultEventPage = 20
	MaxEventPage     = 100
)

// ListEventsInput selects a page of events: upcoming (the default) or past.
type ListEventsInput struct {
	When  ports.EventWhen
	First int // 1..MaxEventPage; 0 means DefaultEventPage
	After string
}

// ListEvents pages through the community events with their RSVP counts.
// Needs events:read (members, leaders, admins and agents granted it).
type ListEvents struct {
	events ports.EventReader
	clock  ports.Clock
}

// NewListEvents refuses nil dependencies.
func NewListEvents(events ports.EventReader, clock ports.Clock) (ListEvents, error) {
	if anyNil(events, clock) {
		return ListEvents{}, nilDependency("list events")
	}
	return ListEvents{events: events, clock: clock}, nil
}

// Handle returns one page. A page size out of range or a cursor the store
// did not make is invalid input.
func (h ListEvents) Handle(ctx context.Context, in ListEventsInput) (ports.EventPage, error) {
	if err := requireScope(ctx, access.ScopeEventsRead, "reading events"); err != nil {
		return ports.EventPage{}, err
	}
	first := in.First
	if first == 0 {
		first = DefaultEventPage
	}
	if first < 1 || first > MaxEventPage {
		return ports.EventPage{}, invalid("first must be between 1 and %d", MaxEventPage)
	}
	when := in.When
	if when == 0 {
		when = ports.EventsUpcoming
	}
	page, err := h.events.List(ctx, ports.EventFilter{When: when, Now: h.clock.Now(), After: in.After, Limit: first})
	if err != nil {
		return ports.EventPage{}, cursorError(err)
	}
	return page, nil
}

// requireScope returns an error wrapping access.ErrForbidden unless the
// caller holds scope.
func requireScope(ctx context.Context, scope access.Scope, doing string) error {
	if !access.Allows(PrincipalFrom(ctx), scope) {
		return fmt.Errorf("%w: %s needs %s", access.ErrForbidden, doing, scope)
	}
	return nil
}
