package application

import (
	"context"
	"errors"

	"github.com/womendefiningai/platform/ports"
)

// RemindAccessEndingInput is a decoded TopicAccessReminder message.
type RemindAccessEndingInput = ports.AccessReminderMessage

// RemindAccessEnding is the reminder scheduled ahead of a complimentary
// membership's end: while the grant still ends when it did, it queues
// member.changed with the event access_ending, which triggers the email
// list's "access ending" journey once (when one is configured). A grant
// revoked or moved since gets no reminder.
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
		if g.PersonID != in.PersonID || !g.Until.Equal(in.Until) || !g.CurrentAt(h.clock.Now()) {
			return nil // revoked, moved or over: no reminder
		}
		if err := publishMemberChanged(ctx, tx, g.PersonID, []string{EventAccessEnding}); err != nil {
			return err
		}
		return tx.Audit().Record(ctx, actor(billingSystem, ports.AuditEntry{Action: "access.reminder", SubjectKind: "person", SubjectID: g.PersonID,
			Outcome: ports.OutcomeSuccess, Details: map[string]any{"grant_id": g.ID, "until": g.Until.UTC().Format("2006-01-02T15:04:05Z07:00")}}))
	})
}
