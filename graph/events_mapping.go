package graph

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/graph/model"
	"github.com/womendefiningai/platform/ports"
)

func eventWhen(w *model.EventWhen) ports.EventWhen {
	if w != nil && *w == model.EventWhenPast {
		return ports.EventsPast
	}
	return ports.EventsUpcoming
}

func mapEvent(e ports.Event) *model.Event {
	out := &model.Event{ID: e.ID, Name: e.Name, Description: e.Description, StartAt: e.StartAt.UTC(), EndAt: e.EndAt.UTC(),
		TimeZone: e.TimeZone, Capacity: int32(min(e.Capacity, 1<<31-1)), URL: e.URL, CreatorKind: e.CreatorKind, CreatorID: e.CreatorID, CreatedAt: e.CreatedAt.UTC(), //nolint:gosec // bounded just before
		Rsvps: &model.RSVPCounts{Approved: count32(e.RSVPs.Approved), Declined: count32(e.RSVPs.Declined), LeftPending: count32(e.RSVPs.LeftPending)}}
	if !e.RSVPs.DecidedAt.IsZero() {
		at := e.RSVPs.DecidedAt.UTC()
		out.Rsvps.LastDecidedAt = &at
	}
	return out
}

func count32(n int) int32 { return int32(min(max(n, 0), 1<<31-1)) } //nolint:gosec // bounded

func mapEventPage(p ports.EventPage) *model.EventConnection {
	out := &model.EventConnection{Edges: make([]model.EventEdge, 0, len(p.Events)), PageInfo: &model.PageInfo{HasNextPage: p.HasMore}}
	for i, e := range p.Events {
		out.Edges = append(out.Edges, model.EventEdge{Cursor: p.Cursors[i], Node: mapEvent(e)})
	}
	if n := len(p.Cursors); n > 0 {
		out.PageInfo.EndCursor = &p.Cursors[n-1]
	}
	return out
}

func mapAuditPage(p ports.AuditPage) *model.AuditConnection {
	out := &model.AuditConnection{Edges: make([]model.AuditEdge, 0, len(p.Records)), PageInfo: &model.PageInfo{HasNextPage: p.HasMore}}
	for _, r := range p.Records {
		details, err := json.Marshal(r.Details)
		if err != nil || r.Details == nil {
			details = []byte("{}")
		}
		out.Edges = append(out.Edges, model.AuditEdge{Cursor: r.ID, Node: &model.AuditEntry{ID: r.ID, At: r.At.UTC(), ActorKind: r.ActorKind,
			ActorID: r.ActorID, Action: r.Action, SubjectKind: r.SubjectKind, SubjectID: r.SubjectID, Outcome: r.Outcome, Details: string(details)}})
	}
	if n := len(p.Records); n > 0 {
		out.PageInfo.EndCursor = &p.Records[n-1].ID
	}
	return out
}

// eventError turns invalid fields into one BAD_USER_INPUT error per field
// (extensions.field names it, as input.<field>), and a key held by
// another request into CONFLICT; other errors go to the presenter.
func eventError(ctx context.Context, err error) error {
	var fields application.FieldErrors
	if errors.As(err, &fields) && len(fields) > 0 {
		for _, f := range fields[1:] {
			graphql.AddError(ctx, fieldError(ctx, f))
		}
		return fieldError(ctx, fields[0])
	}
	conflict := func(msg string) error {
		return &gqlerror.Error{Message: msg, Path: graphql.GetPath(ctx), Extensions: map[string]any{"code": CodeConflict}}
	}
	switch {
	case errors.Is(err, application.ErrEventBusy):
		return conflict("this event is being created by another request with the same idempotencyKey: retry shortly")
	case errors.Is(err, application.ErrIdempotencyKeyReused):
		return conflict("this idempotencyKey was used for another event: use a new key for a new event")
	case errors.Is(err, application.ErrEventUncertain):
		return conflict("Luma's answer was lost, so the event may exist there; an operator has been told and will settle it: do not retry with a new key")
	}
	return err // a transient failure: the presenter answers PROVIDER_UNAVAILABLE with Retry-After
}

func fieldError(ctx context.Context, f application.FieldError) *gqlerror.Error {
	return &gqlerror.Error{Message: "input." + f.Field + ": " + f.Message, Path: graphql.GetPath(ctx),
		Extensions: map[string]any{"code": CodeBadUserInput, "field": "input." + f.Field}}
}
