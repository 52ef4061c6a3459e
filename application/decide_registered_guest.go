package application

import (
	"context"
	"errors"
	"fmt"

	"github.com/womendefiningai/platform/ports"
)

// WebhookRunPrefix starts the run id of a decision made from a
// registration webhook: "webhook:" and the delivery id.
const WebhookRunPrefix = "webhook:"

// DecideRegisteredGuestInput names a stored registration by delivery id.
type DecideRegisteredGuestInput struct {
	DeliveryID string
}

// DecideRegisteredGuest decides the guest of one stored registration (the
// worker's handler of its message) within a minute of registering, instead
// of at the next twice-daily run. It goes through DecideRSVPs' one path for
// a guest: the same approval rules, the same claim under the unique key
// (event, guest), so a guest is decided once whichever comes first, the run
// or the webhook; the same platform call and audit, by the run
// "webhook:<delivery id>". A registration for an event not created through
// the platform, one that has ended, or a guest not pending approval is
// marked ignored with the reason and makes no platform call. A rate limit
// or an outage returns the transient error: the message is retried (and
// dead-lettered when its retries run out); the guest's claim is deferred,
// so the next run decides it if the webhook never does.
type DecideRegisteredGuest struct {
	inbox  ports.GuestInbox
	events ports.EventFinder
	decide DecideRSVPs
}

// NewDecideRegisteredGuest refuses nil dependencies.
func NewDecideRegisteredGuest(inbox ports.GuestInbox, events ports.EventFinder, decide DecideRSVPs) (DecideRegisteredGuest, error) {
	if anyNil(inbox, events) || decide.uow == nil || decide.clock == nil {
		return DecideRegisteredGuest{}, nilDependency("decide registered guest")
	}
	return DecideRegisteredGuest{inbox: inbox, events: events, decide: decide}, nil
}

// Handle decides the registration's guest once; see DecideRegisteredGuest.
// A registration already marked, or unknown, does nothing.
func (h DecideRegisteredGuest) Handle(ctx context.Context, in DecideRegisteredGuestInput) error {
	r, err := h.inbox.Get(ctx, in.DeliveryID)
	switch {
	case errors.Is(err, ports.ErrNotFound):
		return ports.Permanent(fmt.Errorf("%w: no stored guest registration %q", ErrInvalidInput, in.DeliveryID))
	case err != nil:
		return fmt.Errorf("decide registered guest: %w", err)
	case r.Status != ports.GuestInboxReceived:
		return nil
	}
	ev, err := h.events.GetByPlatformID(ctx, r.EventID)
	switch {
	case errors.Is(err, ports.ErrNotFound):
		return h.mark(ctx, r, ports.GuestInboxIgnored, "the event was not created through the platform: no decision")
	case err != nil:
		return fmt.Errorf("decide registered guest: event: %w", err)
	case !ev.EndAt.After(h.decide.clock.Now()):
		return h.mark(ctx, r, ports.GuestInboxIgnored, "the event has ended: no decision")
	case r.Guest.Status != ports.GuestPendingApproval:
		return h.mark(ctx, r, ports.GuestInboxIgnored, fmt.Sprintf("the guest registered as %q, not pending approval: no decision", r.Guest.Status))
	}
	d, err := h.decide.DecideOne(ctx, ev, r.Guest, WebhookRunPrefix+r.DeliveryID)
	if err != nil {
		return err
	}
	note := "decided already (by a run or an earlier delivery): no second decision"
	if d.Claimed {
		note = fmt.Sprintf("decided: %s (%s); the platform's answer is in the decision and the audit log", d.Decision.Outcome, d.Decision.Reason)
	}
	return h.mark(ctx, r, ports.GuestInboxProcessed, note)
}

func (h DecideRegisteredGuest) mark(ctx context.Context, r ports.StoredGuestRegistration, status, note string) error {
	if err := h.inbox.Mark(ctx, r.DeliveryID, status, note); err != nil {
		return fmt.Errorf("decide registered guest: mark: %w", err)
	}
	return nil
}

// DecideOne decides one guest of a created event by the decider runID,
// through the same path as each guest of a run's page.
func (h DecideRSVPs) DecideOne(ctx context.Context, ev ports.Event, g ports.PlatformGuest, runID string) (GuestDecision, error) {
	if err := checkDecision(ev, runID); err != nil {
		return GuestDecision{}, err
	}
	people, err := h.find(ctx, []ports.PlatformGuest{g})
	if err != nil {
		return GuestDecision{}, err
	}
	return h.decideGuest(ctx, ev, g, people, runID, h.clock.Now())
}
