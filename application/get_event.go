package application

import (
	"context"
	"errors"
	"fmt"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/ports"
)

// GetEvent returns one community event with its RSVP counts. Needs
// events:read.
type GetEvent struct {
	events ports.EventReader
}

// NewGetEvent refuses a nil store.
func NewGetEvent(events ports.EventReader) (GetEvent, error) {
	if anyNil(events) {
		return GetEvent{}, nilDependency("get event")
	}
	return GetEvent{events: events}, nil
}

// Handle returns the event, or an error wrapping ErrNotFound.
func (h GetEvent) Handle(ctx context.Context, id string) (ports.Event, error) {
	if err := requireScope(ctx, access.ScopeEventsRead, "reading events"); err != nil {
		return ports.Event{}, err
	}
	e, err := h.events.Get(ctx, id)
	if errors.Is(err, ports.ErrNotFound) { // the store's words stay out of the answer
		return ports.Event{}, fmt.Errorf("no event with this id: %w", ports.ErrNotFound)
	}
	if err != nil {
		return ports.Event{}, fmt.Errorf("event %q: %w", id, err)
	}
	return e, nil
}

// cursorError turns a store's ErrInvalidCursor into invalid input.
func cursorError(err error) error {
	if errors.Is(err, ports.ErrInvalidCursor) {
		return invalid("after is not a cursor from an earlier page")
	}
	return err
}
