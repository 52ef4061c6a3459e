package application

import (
	"context"

	"github.com/womendefiningai/platform/ports"
)

// MoveMemberEmailInput is a decoded person.email_changed message.
type MoveMemberEmailInput struct {
	PersonID      string
	PreviousEmail string
}

// MoveMemberEmail moves a person's subscriber to their new address.
type MoveMemberEmail struct {
	sync memberEmailSync
}

// NewMoveMemberEmail refuses nil dependencies.
func NewMoveMemberEmail(d EmailSyncDeps) (MoveMemberEmail, error) {
	s, err := newMemberEmailSync(d, "move member email")
	return MoveMemberEmail{sync: s}, err
}

// Handle moves the subscriber and syncs the person.
func (h MoveMemberEmail) Handle(ctx context.Context, in MoveMemberEmailInput) error {
	if in.PersonID == "" {
		return malformed(ports.TopicPersonEmailChanged, "a person")
	}
	return h.sync.sync(ctx, syncRequest{personID: in.PersonID, previousEmail: in.PreviousEmail})
}
