package application

import (
	"context"
	"errors"
	"fmt"

	"github.com/womendefiningai/platform/ports"
)

// skip passes over an event whose guests cannot be read: the events
// platform no longer knows it (a leader deleted it there) or its guest list cannot be paged.
// The first run to meet it records an "event.unavailable" audit entry and
// alerts the operators, once; every run goes on with the next event.
func (h ApproveRSVPs) skip(ctx context.Context, c approvalCursor, ev ports.Event, why error, begin BeginPage) (map[string]any, error) {
	reason := "the guest list cannot be paged"
	if errors.Is(why, ports.ErrNotFound) {
		reason = "the events platform does not know the event (deleted there?)"
	}
	var alertErr error
	err := h.decide.uow.Do(ctx, func(ctx context.Context, tx ports.EventTx) error {
		first, err := tx.Events().FirstUnavailable(ctx, ev.ID)
		if err != nil || !first {
			return err
		}
		err = tx.Audit().Record(ctx, actor(rsvpSystem, ports.AuditEntry{Action: "event.unavailable", SubjectKind: "event", SubjectID: ev.ID,
			Outcome: ports.OutcomeFailure, Details: map[string]any{"platform_id": ev.PlatformID, "reason": reason, "error": why.Error(), "run": c.Run}}))
		if err != nil {
			return err
		}
		// Alerted before the commit: if the alert fails, nothing is
		// recorded, this run goes on, and the next run alerts again.
		alertErr = h.alerter.Alert(ctx, ports.Alert{Severity: ports.SeverityWarning, Title: "RSVP approval skips an event",
			Detail: "Its guests cannot be read on the events platform: " + reason + ". Runs skip it; see docs/events.md.",
			Fields: map[string]string{"event_id": ev.ID, "platform_id": ev.PlatformID}})
		return alertErr
	})
	if err != nil && (alertErr == nil || ctx.Err() != nil) { // the store failed: the worker runs the page again
		return nil, fmt.Errorf("approve rsvps: record event %s unavailable: %w", ev.ID, err)
	}
	next, last, err := h.nextEvent(ctx, c)
	if err != nil {
		return nil, err
	}
	return h.summary(ctx, c.Run, begin(next, last))
}
