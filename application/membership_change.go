package application

import (
	"context"
	"errors"
	"fmt"

	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

// membershipChange applies a change to one person's membership under its row
// lock and, in the same transaction, queues what follows from the domain
// events it caused and audits it.
type membershipChange struct {
	uow   ports.UnitOfWork[ports.MembershipTx]
	clock ports.Clock
	// stamp dates provider snapshots (SyncSubscription); nil elsewhere.
	stamp ports.SharedClock
	// access is the grace policy the access ledger follows.
	access AccessPolicy
}

// change describes one membership change: whose, why, and for the audit.
type change struct {
	personID       string
	subscriptionID string
	reason         string
	details        map[string]any
}

// apply runs fn on the locked membership; fn returns the domain events.
// Then, under the same lock, the access ledger follows the membership
// (accessRefresh). It reports whether anything changed.
func (c membershipChange) apply(ctx context.Context, ch change, fn func(*membership.Membership) ([]membership.Event, error)) (bool, error) {
	var changed bool
	err := c.uow.Do(ctx, func(ctx context.Context, tx ports.MembershipTx) error {
		var events []membership.Event
		var locked *membership.Membership
		err := tx.Memberships().Update(ctx, ch.personID, func(m *membership.Membership) error {
			var err error
			events, err = fn(m)
			locked = m
			return err
		})
		if err != nil {
			return err
		}
		accessEvents, err := accessRefresh{tx: tx, policy: c.access}.run(ctx, ch.personID, locked, c.clock.Now(), false)
		if err != nil {
			return err
		}
		changed = len(events) > 0
		return publishChanges(ctx, tx, ch, events, accessEvents)
	})
	return changed, err
}

// publishChanges queues member.changed for the events and the change of
// access, schedules the period end for a scheduled cancellation, and audits
// the change.
func publishChanges(ctx context.Context, tx ports.MembershipTx, ch change, events []membership.Event, accessEvents []string) error {
	if len(events) == 0 && len(accessEvents) == 0 {
		return nil
	}
	names := make([]string, 0, len(events)+len(accessEvents))
	for _, e := range events {
		names = append(names, e.Name())
		if sched, ok := e.(membership.CancellationScheduled); ok {
			if err := schedulePeriodEnd(ctx, tx, ch, sched); err != nil {
				return err
			}
		}
		if dup, ok := e.(membership.DuplicateSubscriptions); ok {
			if err := tx.Duplicates().Record(ctx, ch.personID, dup.SubscriptionIDs); err != nil {
				return err
			}
		}
	}
	names = append(names, accessEvents...)
	msg, err := ports.NewMessage(ports.TopicMemberChanged, ports.MemberChangedMessage{PersonID: ch.personID, Reason: ch.reason, Events: names})
	if err != nil {
		return err
	}
	if err := tx.Publisher().Publish(ctx, msg); err != nil {
		return err
	}
	if len(events) == 0 {
		return nil // the change of access was audited by itself
	}
	details := map[string]any{"subscription_id": ch.subscriptionID, "events": names, "reason": ch.reason}
	for k, v := range ch.details {
		details[k] = v
	}
	return tx.Audit().Record(ctx, actor(billingSystem, ports.AuditEntry{Action: "membership.change", SubjectKind: "person", SubjectID: ch.personID,
		Outcome: ports.OutcomeSuccess, Details: details}))
}

func schedulePeriodEnd(ctx context.Context, tx ports.MembershipTx, ch change, sched membership.CancellationScheduled) error {
	msg, err := ports.NewMessage(ports.TopicMembershipPeriodEnd, ports.PeriodEndMessage{PersonID: ch.personID, SubscriptionID: ch.subscriptionID, At: sched.At})
	if err != nil {
		return err
	}
	if err := tx.Scheduler().ScheduleAt(ctx, msg.Topic, msg.Payload, sched.At); err != nil {
		return fmt.Errorf("schedule the period end: %w", err)
	}
	return nil
}

// ignoring turns the expected refusals of a transition into "no change".
func ignoring(events []membership.Event, err error, expected ...error) ([]membership.Event, error) {
	for _, e := range expected {
		if errors.Is(err, e) {
			return nil, nil
		}
	}
	return events, err
}
