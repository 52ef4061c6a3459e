package application

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

// The member.changed event names of a change of access.
const (
	EventAccessStarted = "access_started"
	EventAccessEnded   = "access_ended"
	// EventAccessEnding: a complimentary membership ends soon (the reminder).
	EventAccessEnding = "access_ending"
)

// AccessPolicy is the one grace policy, and when to remind a scholarship
// holder that their membership ends.
type AccessPolicy struct {
	// GracePeriod is how long access continues after a failed payment,
	// whatever the billing provider's retry settings are.
	GracePeriod time.Duration
	// ReminderBefore is how long before a complimentary membership ends
	// its holder is reminded; 0 sends no reminder.
	ReminderBefore time.Duration
}

// DefaultAccessPolicy is seven days of grace and a reminder seven days
// before a scholarship ends.
func DefaultAccessPolicy() AccessPolicy {
	return AccessPolicy{GracePeriod: ledger.DefaultGracePeriod, ReminderBefore: 7 * 24 * time.Hour}
}

// accessRefresh evaluates a person's access under their membership lock:
// it brings the billing grants in step with the membership (ledger.Plan),
// audits each grant that changed once, records what the ledger says now,
// and when access started or ended says so once (audit, and the returned
// event names for member.changed), hides whoever lost it from the
// directory, and schedules the next check for when a window opens or
// closes.
type accessRefresh struct {
	tx     ports.AccessTx
	policy AccessPolicy
}

// run evaluates the access of personID, whose membership m (nil: none) is
// locked in tx, at now. It returns the event names of a change of access.
// rearm schedules the next check even when nothing changed here: a grant
// or a revocation just changed the ledger, or this is a scheduled check,
// which must hand on to the next edge of a window.
func (r accessRefresh) run(ctx context.Context, personID string, m *membership.Membership, now time.Time, rearm bool) ([]string, error) {
	grants, err := r.tx.AccessGrants().ForPerson(ctx, personID)
	if err != nil {
		return nil, err
	}
	changes := ledger.Plan(personID, grants, ledger.BillingOf(m), now, r.policy.GracePeriod)
	for _, c := range changes {
		if grants, err = r.write(ctx, grants, c); err != nil {
			return nil, err
		}
	}
	return r.settle(ctx, personID, grants, now, rearm || len(changes) > 0)
}

// write stores one change, audits it, and returns the grants with it.
func (r accessRefresh) write(ctx context.Context, grants []ledger.Grant, c ledger.Change) ([]ledger.Grant, error) {
	g := c.Grant
	if c.Kind == ledger.Opened {
		opened, err := r.tx.AccessGrants().Open(ctx, g)
		if err != nil {
			return nil, err
		}
		grants, g = append(grants, opened), opened
	} else {
		if err := r.tx.AccessGrants().Save(ctx, g); err != nil {
			return nil, err
		}
		for i := range grants {
			if grants[i].ID == g.ID {
				grants[i] = g
			}
		}
	}
	return grants, r.tx.Audit().Record(ctx, actor(billingSystem, grantAudit("access.grant_"+c.Kind.String(), g)))
}

// settle records the access that grants give at now and acts on a change;
// changed says grants changed (so the next check may have moved), or that
// the next check must be scheduled anyway.
func (r accessRefresh) settle(ctx context.Context, personID string, grants []ledger.Grant, now time.Time, changed bool) ([]string, error) {
	a := ledger.Explain(grants, now)
	was, err := r.tx.AccessGrants().SetActive(ctx, personID, a.Active)
	if err != nil {
		return nil, err
	}
	if changed || was != a.Active {
		if err := r.scheduleCheck(ctx, personID, grants, now); err != nil {
			return nil, err
		}
	}
	if was == a.Active {
		return nil, nil
	}
	event, action := EventAccessStarted, "access.started"
	if !a.Active {
		event, action = EventAccessEnded, "access.ended"
		if err := r.hide(ctx, personID); err != nil {
			return nil, err
		}
	}
	sources := make([]string, 0, len(a.Sources))
	for _, g := range a.Sources {
		sources = append(sources, g.Source.String())
	}
	err = r.tx.Audit().Record(ctx, actor(billingSystem, ports.AuditEntry{Action: action, SubjectKind: "person", SubjectID: personID,
		Outcome: ports.OutcomeSuccess, Details: map[string]any{"sources": sources, "at": now.UTC().Format(time.RFC3339)}}))
	return []string{event}, err
}

// hide takes whoever lost access out of the directory: they opt in anew.
func (r accessRefresh) hide(ctx context.Context, personID string) error {
	err := r.tx.Memberships().Update(ctx, personID, func(m *membership.Membership) error {
		return m.SetVisible(false, false)
	})
	if errors.Is(err, ports.ErrNotFound) {
		return nil
	}
	return err
}

// scheduleCheck schedules TopicAccessCheck for the next instant a grant
// starts or ends after now, if any. A subscription grant's edges are
// billing's own (a payment, a failure, a scheduled cancellation's period
// end, which membership.period_end announces): a check there would only
// race that change with a second member.changed for the same instant.
func (r accessRefresh) scheduleCheck(ctx context.Context, personID string, grants []ledger.Grant, now time.Time) error {
	own := make([]ledger.Grant, 0, len(grants))
	for _, g := range grants {
		if g.Source != ledger.SourceSubscription {
			own = append(own, g)
		}
	}
	next, ok := ledger.NextChange(own, now)
	if !ok {
		return nil
	}
	msg, err := ports.NewMessage(ports.TopicAccessCheck, ports.AccessCheckMessage{PersonID: personID, At: next})
	if err != nil {
		return err
	}
	if err := r.tx.Scheduler().ScheduleAt(ctx, msg.Topic, msg.Payload, next); err != nil {
		return fmt.Errorf("schedule the access check: %w", err)
	}
	return nil
}

// grantAudit is the audit entry of a grant's change.
func grantAudit(action string, g ledger.Grant) ports.AuditEntry {
	details := map[string]any{"grant_id": g.ID, "source": g.Source.String(), "tier": g.Tier,
		"from": g.From.UTC().Format(time.RFC3339), "granted_by": g.GrantedBy, "reason": g.Reason}
	if !g.Until.IsZero() {
		details["until"] = g.Until.UTC().Format(time.RFC3339)
	}
	if g.RevokedBy != "" {
		details["ended_by"], details["end_reason"] = g.RevokedBy, g.RevokeReason
	}
	return ports.AuditEntry{Action: action, SubjectKind: "person", SubjectID: g.PersonID, Outcome: ports.OutcomeSuccess, Details: details}
}
