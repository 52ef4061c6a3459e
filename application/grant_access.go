package application

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

// GrantAccessInput is a complimentary membership (a scholarship) or a
// manual grant of access for a person. From defaults to now. A
// complimentary membership needs Until; a manual grant without one is open
// until revoked.
type GrantAccessInput struct {
	PersonID string
	Source   ledger.Source
	TierID   string
	From     time.Time
	Until    time.Time
	Reason   string
}

// MaxGrantLength bounds how far ahead a grant may start or end; an open
// manual grant lasts until revoked.
const MaxGrantLength = 5 * 365 * 24 * time.Hour

// backdateTolerance is how far in the past a grant may say it starts (a
// clock's skew, a form filled in slowly).
const backdateTolerance = 5 * time.Minute

// GrantAccess records a grant in the access ledger (members:write, which
// admins hold), audited, and evaluates the person's access at once. It
// never calls the billing provider: a scholarship is not a subscription.
// Its end is a scheduled access check, and a reminder goes out
// AccessPolicy.ReminderBefore ahead of a complimentary membership's end.
type GrantAccess struct {
	uow    ports.UnitOfWork[ports.AccessTx]
	tiers  ports.TierCatalog
	clock  ports.Clock
	policy AccessPolicy
}

// NewGrantAccess refuses nil dependencies.
func NewGrantAccess(uow ports.UnitOfWork[ports.AccessTx], tiers ports.TierCatalog, clock ports.Clock, policy AccessPolicy) (GrantAccess, error) {
	if anyNil(uow, tiers, clock) {
		return GrantAccess{}, nilDependency("grant access")
	}
	return GrantAccess{uow: uow, tiers: tiers, clock: clock, policy: policy}, nil
}

// Handle stores the grant and returns it with its id. An unknown person or
// tier is ErrNotFound; a bad window or reason is ErrInvalidInput.
func (h GrantAccess) Handle(ctx context.Context, in GrantAccessInput) (ledger.Grant, error) {
	p := PrincipalFrom(ctx)
	if err := access.Authorize(p, access.ScopeMembersWrite); err != nil {
		return ledger.Grant{}, err
	}
	if in.TierID != "" {
		if _, err := h.tiers.GetTier(ctx, in.TierID); err != nil {
			return ledger.Grant{}, fmt.Errorf("tier %q: %w", in.TierID, err)
		}
	}
	now := h.clock.Now()
	if in.From.IsZero() {
		in.From = now
	}
	switch {
	case in.From.Before(now.Add(-backdateTolerance)):
		return ledger.Grant{}, invalid("the grant cannot start in the past: the ledger records when access was given")
	case !in.Until.IsZero() && !in.Until.After(now):
		return ledger.Grant{}, invalid("the grant must end in the future")
	case in.Until.After(now.Add(MaxGrantLength)), in.From.After(now.Add(MaxGrantLength)):
		return ledger.Grant{}, invalid("the grant must lie within %d years; grant again later", int(MaxGrantLength.Hours()/24/365))
	}
	g, err := ledger.NewGrant(in.Source, in.PersonID, in.TierID, in.From, in.Until, p.ID(), in.Reason)
	if err != nil {
		return ledger.Grant{}, fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	err = h.uow.Do(ctx, func(ctx context.Context, tx ports.AccessTx) error {
		m, err := lockMembership(ctx, tx, g.PersonID)
		if err != nil {
			return err
		}
		if g, err = tx.AccessGrants().Open(ctx, g); err != nil {
			return err
		}
		if err := tx.Audit().Record(ctx, actor(p, grantAudit("access.grant", g))); err != nil {
			return err
		}
		if err := h.scheduleReminder(ctx, tx, g, now); err != nil {
			return err
		}
		return evaluateAccess(ctx, tx, h.policy, g.PersonID, m, now)
	})
	if err != nil {
		return ledger.Grant{}, err
	}
	return g, nil
}

// scheduleReminder schedules the reminder of a complimentary membership's
// end, when there is time for one.
func (h GrantAccess) scheduleReminder(ctx context.Context, tx ports.AccessTx, g ledger.Grant, now time.Time) error {
	if g.Source != ledger.SourceComplimentary || h.policy.ReminderBefore <= 0 {
		return nil
	}
	at := g.Until.Add(-h.policy.ReminderBefore)
	if !at.After(now) || !at.After(g.From) {
		return nil
	}
	msg, err := ports.NewMessage(ports.TopicAccessReminder, ports.AccessReminderMessage{PersonID: g.PersonID, GrantID: g.ID, Until: g.Until})
	if err != nil {
		return err
	}
	return tx.Scheduler().ScheduleAt(ctx, msg.Topic, msg.Payload, at)
}

// lockMembership locks the person's membership row (creating a pending one)
// so that evaluations of their access never interleave, and returns the
// membership. An unknown person is ErrNotFound.
func lockMembership(ctx context.Context, tx ports.AccessTx, personID string) (*membership.Membership, error) {
	var locked *membership.Membership
	err := tx.Memberships().Update(ctx, personID, func(m *membership.Membership) error {
		locked = m
		return nil
	})
	if errors.Is(err, ports.ErrNotFound) {
		return nil, fmt.Errorf("person %q: %w", personID, ports.ErrNotFound)
	}
	return locked, err
}

// evaluateAccess runs the access refresh of a locked membership, re-arms
// the next scheduled check, and publishes member.changed when access
// started or ended, so that the email list and the chat workspace follow.
func evaluateAccess(ctx context.Context, tx ports.AccessTx, policy AccessPolicy, personID string, m *membership.Membership, now time.Time) error {
	events, err := accessRefresh{tx: tx, policy: policy}.run(ctx, personID, m, now, true)
	if err != nil || len(events) == 0 {
		return err
	}
	return publishMemberChanged(ctx, tx, personID, events)
}

// publishMemberChanged queues member.changed for a change of access.
func publishMemberChanged(ctx context.Context, tx ports.Outbox, personID string, events []string) error {
	msg, err := ports.NewMessage(ports.TopicMemberChanged, ports.MemberChangedMessage{PersonID: personID, Reason: ports.ReasonAccess, Events: events})
	if err != nil {
		return err
	}
	return tx.Publisher().Publish(ctx, msg)
}
