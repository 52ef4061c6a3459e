package application

import (
	"context"
	"fmt"
	"time"

	"github.com/womendefiningai/platform/domain/approval"
	"github.com/womendefiningai/platform/ports"
)

// staleClaim is how old a decision claimed but never applied must be
// before another run may decide the guest again (its worker died mid-call).
const staleClaim = 15 * time.Minute

// maxGuestEmail bounds what a guest typed as their email (RFC 5321 allows
// 254 characters): a longer one matches no one and is not looked up.
const maxGuestEmail = 320

// rsvpSystem is who decides RSVPs in the audit log.
var rsvpSystem = systemPrincipal("rsvp-approval")

// DecideRSVPsInput is one page of an event's guests pending approval, to be
// decided by the run RunID.
type DecideRSVPsInput struct {
	Event  ports.Event
	Guests []ports.PlatformGuest
	RunID  string
}

// DecideRSVPs decides each pending guest of a page once: it finds the person
// by verified email, decides with domain/approval, records the decision
// under the unique key (event, guest) before telling the platform, and
// audits it. A guest already decided (by this run or a racing one) gets no
// call. A rate limit or an outage stops the page: the guest's claim is
// marked deferred and the error returned, so the run resumes later where
// it stopped. A guest the platform refuses counts as an error and is
// decided again by a later run.
type DecideRSVPs struct {
	people   ports.RSVPPeople
	uow      ports.UnitOfWork[ports.EventTx]
	platform ports.EventPlatform
	policy   approval.Policy
	clock    ports.Clock
}

// NewDecideRSVPs refuses nil dependencies.
func NewDecideRSVPs(people ports.RSVPPeople, uow ports.UnitOfWork[ports.EventTx], platform ports.EventPlatform, policy approval.Policy, clock ports.Clock) (DecideRSVPs, error) {
	if anyNil(people, uow, platform, clock) {
		return DecideRSVPs{}, nilDependency("decide rsvps")
	}
	return DecideRSVPs{people: people, uow: uow, platform: platform, policy: policy, clock: clock}, nil
}

// Handle decides the page's guests; see DecideRSVPs. It returns how many
// guests it claimed and acted on (callers read the run's totals from the
// store).
func (h DecideRSVPs) Handle(ctx context.Context, in DecideRSVPsInput) (int, error) {
	if err := checkDecision(in.Event, in.RunID); err != nil {
		return 0, err
	}
	people, err := h.find(ctx, in.Guests)
	if err != nil {
		return 0, err
	}
	now, acted := h.clock.Now(), 0
	for _, g := range in.Guests {
		d, err := h.decideGuest(ctx, in.Event, g, people, in.RunID, now)
		if d.Claimed {
			acted++
		}
		if err != nil {
			return acted, err
		}
	}
	return acted, nil
}

// checkDecision refuses a decision without a decider (run) or on an event
// not created on the platform.
func checkDecision(ev ports.Event, runID string) error {
	if runID == "" || ev.ID == "" || ev.PlatformID == "" {
		return ports.Permanent(fmt.Errorf("%w: decide rsvps needs a run and a created event", ErrInvalidInput))
	}
	return nil
}

// find looks up the people with the guests' emails, in one call.
func (h DecideRSVPs) find(ctx context.Context, guests []ports.PlatformGuest) (map[string]ports.RSVPPerson, error) {
	emails := make([]string, 0, len(guests))
	for _, g := range guests {
		if len(g.Email) <= maxGuestEmail {
			emails = append(emails, g.Email)
		}
	}
	people, err := h.people.FindByEmails(ctx, emails)
	if err != nil {
		return nil, fmt.Errorf("decide rsvps: find people: %w", err)
	}
	return people, nil
}

// GuestDecision is what deciding one guest did: the decision, and whether
// this decider claimed it (false: the guest was not pending, or was
// decided already, by a run or a webhook).
type GuestDecision struct {
	Decision ports.RSVPDecision
	Claimed  bool
}

// decideGuest decides one guest pending approval, the one path of the run
// and of the registration webhook: the approval rules on the person found
// by verified email, the claim under the unique key (event, guest), then
// the platform call and its outcome, audited.
func (h DecideRSVPs) decideGuest(ctx context.Context, ev ports.Event, g ports.PlatformGuest, people map[string]ports.RSVPPerson, runID string, now time.Time) (GuestDecision, error) {
	if g.Status != ports.GuestPendingApproval || g.ID == "" {
		return GuestDecision{}, nil
	}
	var person *approval.Person
	personID := ""
	if found, ok := people[approval.NormalizeEmail(g.Email)]; ok && found.Person.HasEmail(g.Email) {
		person, personID = &found.Person, found.PersonID
	}
	d := approval.Decide(approval.Guest{Email: g.Email}, person, h.policy, now)
	rec := ports.RSVPDecision{EventID: ev.ID, GuestID: g.ID, PersonID: personID, Outcome: d.Outcome, Reason: d.Reason, RunID: runID}
	claimed, err := h.claim(ctx, rec)
	if err != nil || !claimed {
		return GuestDecision{Decision: rec}, err
	}
	if d.Outcome == approval.LeavePending {
		return GuestDecision{Decision: rec, Claimed: true}, nil
	}
	return GuestDecision{Decision: rec, Claimed: true}, h.tell(ctx, ev, rec)
}

// claim records the decision; one that leaves the guest pending is audited
// with it, being complete.
func (h DecideRSVPs) claim(ctx context.Context, rec ports.RSVPDecision) (bool, error) {
	var claimed bool
	err := h.uow.Do(ctx, func(ctx context.Context, tx ports.EventTx) error {
		ok, err := tx.RSVPDecisions().Claim(ctx, rec, staleClaim)
		if err != nil || !ok {
			return err
		}
		claimed = true
		if rec.Outcome != approval.LeavePending {
			return nil
		}
		return tx.Audit().Record(ctx, decisionAudit(rec, ports.OutcomeSuccess, ""))
	})
	if err != nil {
		return false, fmt.Errorf("decide rsvps: claim: %w", err)
	}
	return claimed, nil
}

// tell makes the platform call for a claimed decision and records how it
// went: applied, deferred (the error is returned) or failed.
func (h DecideRSVPs) tell(ctx context.Context, ev ports.Event, rec ports.RSVPDecision) error {
	status := ports.GuestDeclined
	if rec.Outcome == approval.Approve {
		status = ports.GuestApproved
	}
	callErr := h.platform.UpdateGuestStatus(ctx, ports.GuestStatusUpdate{EventID: ev.PlatformID, GuestID: rec.GuestID, Status: status})
	// The outcome is written even when the page's time ran out meanwhile.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	deferred := callErr != nil && (ports.IsTransient(callErr) || ctx.Err() != nil)
	err := h.uow.Do(wctx, func(ctx context.Context, tx ports.EventTx) error {
		switch {
		case callErr == nil:
			ok, err := tx.RSVPDecisions().Applied(ctx, rec.EventID, rec.GuestID, rec.RunID)
			if err != nil || !ok {
				return err
			}
			return tx.Audit().Record(ctx, decisionAudit(rec, ports.OutcomeSuccess, ""))
		case deferred:
			return tx.RSVPDecisions().Defer(ctx, rec.EventID, rec.GuestID, rec.RunID)
		default:
			if err := tx.RSVPDecisions().Fail(ctx, rec.EventID, rec.GuestID, rec.RunID, callErr.Error()); err != nil {
				return err
			}
			return tx.Audit().Record(ctx, decisionAudit(rec, ports.OutcomeFailure, callErr.Error()))
		}
	})
	if err != nil {
		return fmt.Errorf("decide rsvps: record the decision on guest %s: %w", rec.GuestID, err)
	}
	if deferred {
		return fmt.Errorf("decide rsvps: deferred at guest %s: %w", rec.GuestID, callErr)
	}
	return nil
}

// decisionAudit is the audit entry of a decision: no email, only ids.
func decisionAudit(rec ports.RSVPDecision, outcome, errText string) ports.AuditEntry {
	details := map[string]any{"event_id": rec.EventID, "guest_id": rec.GuestID, "reason": rec.Reason.String(), "run": rec.RunID}
	if rec.PersonID != "" {
		details["person_id"] = rec.PersonID
	}
	if errText != "" {
		details["error"] = errText
	}
	return actor(rsvpSystem, ports.AuditEntry{
		Action: "rsvp." + rec.Outcome.String(), SubjectKind: "rsvp", SubjectID: rec.EventID + "/" + rec.GuestID,
		Outcome: outcome, Details: details,
	})
}
