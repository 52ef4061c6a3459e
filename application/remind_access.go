package application

import (
	"context"
	"errors"

	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/ports"
)

// RemindAccessEndingInput is a decoded TopicAccessReminder message.
type RemindAccessEndingInput = ports.AccessReminderMessage

// RemindAccessEnding is the reminder scheduled ahead of a complimentary
// membership's end: while the grant still ends when it did, it queues
// member.changed with the event access_ending, which triggers the email
// list's "access ending" journey once (when one is configured). A grant
// revoked or moved since gets no reminder, nor one whose end does not end
// access (the person also pays, or holds a later grant).
type RemindAccessEnding struct {
	uow   ports.UnitOfWork[ports.AccessTx]
	clock ports.Clock
}

// NewRemindAccessEnding refuses nil dependencies.
func NewRemindAccessEnding(uow ports.UnitOfWork[ports.AccessTx], clock ports.Clock) (RemindAccessEnding, error) {
	if anyNil(uow, clock) {
		return RemindAccessEnding{}, nilDependency("remind access ending")
	}
	return RemindAccessEnding{uow: uow, clock: clock}, nil
}

// Handle sends the reminder if it still applies.
func (h RemindAccessEnding) Handle(ctx context.Context, in RemindAccessEndingInput) error {
	if in.PersonID == "" || in.GrantID == "" {
		return malformed(ports.TopicAccessReminder, "a person and a grant")
	}
	return h.uow.Do(ctx, func(ctx context.Context, tx ports.AccessTx) error {
		g, err := tx.AccessGrants().Get(ctx, in.GrantID)
		if errors.Is(err, ports.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		now := h.clock.Now()
		if g.PersonID != in.PersonID || !g.Until.Equal(in.Until) || !g.CurrentAt(now) {
			return nil // revoked, moved or over: no reminder
		}
		all, err := tx.AccessGrants().ForPerson(ctx, g.PersonID)
		if err != nil {
			return err
		}
		if a := ledger.Explain(all, now); a.Until.IsZero() || a.Until.After(g.Until) {
			return nil // another grant (a subscription, a renewal) carries access on
		}
		if err := publishMemberChanged(ctx, tx, g.PersonID, []string{EventAccessEnding}); err != nil {
			return err
		}
		return tx.Audit().Record(ctx, actor(billingSystem, ports.AuditEntry{Action: "access.reminder", SubjectKind: "person", SubjectID: g.PersonID,
			Outcome: ports.OutcomeSuccess, Details: map[string]any{"grant_id": g.ID, "until": g.Until.UTC().Format("2006-01-02T15:04:05Z07:00")}}))
	})
}
