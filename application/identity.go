package application

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/ports"
)

// ErrAccountErased is returned when a valid session belongs to a person
// whose data was erased.
var ErrAccountErased = errors.New("account erased")

// AuthenticateHandler turns a verified session into a principal, creating
// the person from the identity provider the first time they are seen.
type AuthenticateHandler struct {
	people    ports.People
	directory ports.IdentityDirectory
}

// NewAuthenticateHandler refuses nil dependencies.
func NewAuthenticateHandler(people ports.People, directory ports.IdentityDirectory) (AuthenticateHandler, error) {
	if people == nil || directory == nil {
		return AuthenticateHandler{}, errors.New("application: authenticate: nil dependency")
	}
	return AuthenticateHandler{people: people, directory: directory}, nil
}

// Handle returns the user principal of the session's person. Racing first
// requests for one user create exactly one person (the store guarantees it).
func (h AuthenticateHandler) Handle(ctx context.Context, s ports.Session) (access.Principal, error) {
	p, err := h.people.GetByIdentityID(ctx, s.UserID)
	if errors.Is(err, ports.ErrNotFound) {
		u, derr := h.directory.GetUser(ctx, s.UserID)
		if derr != nil {
			return access.Principal{}, fmt.Errorf("look up identity user: %w", derr)
		}
		res, uerr := h.people.UpsertFromIdentity(ctx, u)
		if uerr != nil {
			return access.Principal{}, uerr
		}
		p, err = res.Person, nil
	}
	if err != nil {
		return access.Principal{}, err
	}
	if p.Erased {
		return access.Principal{}, ErrAccountErased
	}
	return access.NewUser(p.ID, p.Role)
}

// PersonEmailChanged is the body of a person.email_changed message.
type PersonEmailChanged struct {
	PersonID      string `json:"person_id"`
	PreviousEmail string `json:"previous_email"`
}

// PersonDeleted is the body of a person.deleted message. Email is the
// address the person had, so that lists can archive it; it is the last copy.
type PersonDeleted struct {
	PersonID string `json:"person_id"`
	Email    string `json:"email"`
}

// SyncIdentityHandler applies identity-provider webhooks, once per delivery.
type SyncIdentityHandler struct {
	uow       ports.UnitOfWork
	directory ports.IdentityDirectory
}

// NewSyncIdentityHandler refuses nil dependencies.
func NewSyncIdentityHandler(uow ports.UnitOfWork, directory ports.IdentityDirectory) (SyncIdentityHandler, error) {
	if uow == nil || directory == nil {
		return SyncIdentityHandler{}, errors.New("application: sync identity: nil dependency")
	}
	return SyncIdentityHandler{uow: uow, directory: directory}, nil
}

// Handle applies ev. A delivery already applied changes nothing. The
// webhook is only a notification: for a created or updated user the current
// user is fetched from the provider, so a late retry of an old update
// cannot overwrite a newer one. The person's change, the follow-up message
// and the audit entry commit together with the delivery's claim.
func (h SyncIdentityHandler) Handle(ctx context.Context, ev ports.IdentityEvent) error {
	if ev.ID == "" {
		return fmt.Errorf("%w: delivery without an id", ErrInvalidInput)
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
	return h.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		first, err := tx.Inbox().Claim(ctx, "clerk", ev.ID)
		if err != nil || !first || gone {
			return err
		}
		system, _ := access.NewSystem("identity-webhook")
		switch ev.Type {
		case ports.IdentityUserCreated, ports.IdentityUserUpdated:
			res, err := tx.People().UpsertFromIdentity(ctx, ev.User)
			if err != nil {
				return err
			}
			if res.PreviousPrimaryEmail != "" {
				body, _ := json.Marshal(PersonEmailChanged{PersonID: res.Person.ID, PreviousEmail: res.PreviousPrimaryEmail})
				if err := tx.Publisher().Publish(ctx, ports.Message{Topic: ports.TopicPersonEmailChanged, Payload: body}); err != nil {
					return err
				}
			}
			return tx.Audit().Record(ctx, actor(system, ports.AuditEntry{
				Action: "person.sync", SubjectKind: "person", SubjectID: res.Person.ID, Outcome: ports.OutcomeSuccess,
				Details: map[string]any{"event": string(ev.Type), "created": res.Created, "email_changed": res.PreviousPrimaryEmail != ""},
			}))
		case ports.IdentityUserDeleted:
			before, err := tx.People().Erase(ctx, ev.User.ID)
			if errors.Is(err, ports.ErrNotFound) {
				return nil // never seen: the store keeps an erased placeholder
			}
			if err != nil {
				return err
			}
			body, _ := json.Marshal(PersonDeleted{PersonID: before.ID, Email: before.PrimaryEmail})
			if err := tx.Publisher().Publish(ctx, ports.Message{Topic: ports.TopicPersonDeleted, Payload: body}); err != nil {
				return err
			}
			return tx.Audit().Record(ctx, actor(system, ports.AuditEntry{
				Action: "person.erase", SubjectKind: "person", SubjectID: before.ID, Outcome: ports.OutcomeSuccess,
			}))
		default:
			return nil // recorded as seen; nothing to do
		}
	})
}
