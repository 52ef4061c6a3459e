package application

import (
	"context"
	"errors"
	"fmt"

	"github.com/womendefiningai/platform/ports"
)

// identityInbox names identity-provider deliveries in the webhook inbox.
const identityInbox = "identity"

// SyncIdentity applies identity-provider webhooks, once per delivery.
type SyncIdentity struct {
	uow       ports.UnitOfWork[ports.PeopleTx]
	directory ports.IdentityDirectory
}

// NewSyncIdentity refuses nil dependencies.
func NewSyncIdentity(uow ports.UnitOfWork[ports.PeopleTx], directory ports.IdentityDirectory) (SyncIdentity, error) {
	if anyNil(uow, directory) {
		return SyncIdentity{}, nilDependency("sync identity")
	}
	return SyncIdentity{uow: uow, directory: directory}, nil
}

// Handle applies ev. A delivery already applied changes nothing. The
// webhook is only a notification: for a created or updated user the current
// user is fetched from the provider, so a late retry of an old update
// cannot overwrite a newer one. The person's change, the follow-up message
// and the audit entry commit together with the delivery's claim.
func (h SyncIdentity) Handle(ctx context.Context, ev ports.IdentityEvent) error {
	if ev.ID == "" {
		return invalid("delivery without an id")
	}
	gone := false
	if ev.Type == ports.IdentityUserCreated || ev.Type == ports.IdentityUserUpdated {
		u, err := h.directory.GetUser(ctx, ev.User.ID)
		switch {
		case errors.Is(err, ports.ErrNotFound):
			gone = true // deleted since: its user.deleted erases the person
		case err != nil:
			return fmt.Errorf("look up identity user: %w", err)
		default:
			ev.User = u
		}
	}
	return h.uow.Do(ctx, func(ctx context.Context, tx ports.PeopleTx) error {
		first, err := tx.WebhookInbox().Claim(ctx, identityInbox, ev.ID)
		if err != nil || !first || gone {
			return err
		}
		switch ev.Type {
		case ports.IdentityUserCreated, ports.IdentityUserUpdated:
			return applyIdentityUser(ctx, tx, ev)
		case ports.IdentityUserDeleted:
			return eraseIdentityUser(ctx, tx, ev.User.ID)
		default:
			return nil // recorded as seen; nothing to do
		}
	})
}

// applyIdentityUser creates or updates the person, and queues the move of
// their address when it changed.
func applyIdentityUser(ctx context.Context, tx ports.PeopleTx, ev ports.IdentityEvent) error {
	res, err := tx.People().UpsertFromIdentity(ctx, ev.User)
	if err != nil {
		return err
	}
	if res.PreviousPrimaryEmail != "" {
		msg, err := ports.NewMessage(ports.TopicPersonEmailChanged, ports.PersonEmailChangedMessage{PersonID: res.Person.ID, PreviousEmail: res.PreviousPrimaryEmail})
		if err != nil {
			return err
		}
		if err := tx.Publisher().Publish(ctx, msg); err != nil {
			return err
		}
	}
	return tx.Audit().Record(ctx, actor(identitySystem, ports.AuditEntry{
		Action: "person.sync", SubjectKind: "person", SubjectID: res.Person.ID, Outcome: ports.OutcomeSuccess,
		Details: map[string]any{"event": string(ev.Type), "created": res.Created, "email_changed": res.PreviousPrimaryEmail != ""},
	}))
}

// eraseIdentityUser erases the person here and queues their erasure at the
// providers (ErasePerson); a user never seen leaves an erased placeholder
// (the store's).
func eraseIdentityUser(ctx context.Context, tx ports.PeopleTx, identityUserID string) error {
	before, err := tx.People().Erase(ctx, identityUserID)
	if errors.Is(err, ports.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	msg, err := ports.NewMessage(ports.TopicPersonDeleted, ports.PersonDeletedMessage{PersonID: before.ID, Email: before.PrimaryEmail, CustomerID: before.BillingCustomerID})
	if err != nil {
		return err
	}
	if err := tx.Publisher().Publish(ctx, msg); err != nil {
		return err
	}
	return tx.Audit().Record(ctx, actor(identitySystem, ports.AuditEntry{
		Action: "person.erase", SubjectKind: "person", SubjectID: before.ID, Outcome: ports.OutcomeSuccess,
	}))
}
