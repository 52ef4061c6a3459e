package application

import (
	"context"
	"errors"

	"github.com/womendefiningai/platform/ports"
)

// ArchiveMemberEmailInput is a decoded person.deleted message: the address
// the erased person had (its last copy).
type ArchiveMemberEmailInput struct {
	PersonID string
	Email    string
}

// ArchiveMemberEmail archives the subscriber of an erased person.
type ArchiveMemberEmail struct {
	list   ports.EmailList
	states emailStates
}

// NewArchiveMemberEmail refuses nil dependencies.
func NewArchiveMemberEmail(list ports.EmailList, integrations ports.Integrations) (ArchiveMemberEmail, error) {
	if anyNil(list, integrations) {
		return ArchiveMemberEmail{}, nilDependency("archive member email")
	}
	return ArchiveMemberEmail{list: list, states: emailStates{store: integrations}}, nil
}

// Handle archives the address and records it; a person without one needs
// nothing.
func (h ArchiveMemberEmail) Handle(ctx context.Context, in ArchiveMemberEmailInput) error {
	if in.PersonID == "" {
		return malformed(ports.TopicPersonDeleted, "a person")
	}
	if in.Email == "" {
		return nil
	}
	err := h.list.Archive(ctx, in.Email)
	if errors.Is(err, ports.ErrNotConfigured) {
		return h.states.skipped(ctx, in.PersonID)
	}
	if err != nil {
		return err
	}
	return h.states.record(ctx, ports.IntegrationState{PersonID: in.PersonID, Status: string(ports.SubscriberArchived), State: []byte("{}")})
}
