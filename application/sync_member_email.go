package application

import (
	"context"

	"github.com/womendefiningai/platform/ports"
)

// SyncMemberEmailInput is a decoded member.changed message. MessageID keys
// "journey already triggered": billing publishes one message per change
// (one per invoice and attempt for a failed payment), so a redelivery or a
// replay of the same message triggers nothing again.
type SyncMemberEmailInput struct {
	MessageID string
	PersonID  string
	Reason    string
	Events    []string
}

// SyncMemberEmail syncs the email list for a person whose membership
// changed, and triggers each journey the change calls for, once; a journey
// the change calls for that is not configured is recorded on the person's
// email state as skipped (not configured).
type SyncMemberEmail struct {
	sync memberEmailSync
}

// NewSyncMemberEmail refuses nil dependencies.
func NewSyncMemberEmail(d EmailSyncDeps) (SyncMemberEmail, error) {
	s, err := newMemberEmailSync(d, "sync member email")
	return SyncMemberEmail{sync: s}, err
}

// Handle syncs the person.
func (h SyncMemberEmail) Handle(ctx context.Context, in SyncMemberEmailInput) error {
	if in.PersonID == "" {
		return malformed(ports.TopicMemberChanged, "a person")
	}
	return h.sync.sync(ctx, syncRequest{personID: in.PersonID, journeys: journeysFor(in.Reason, in.Events), messageID: in.MessageID})
}
