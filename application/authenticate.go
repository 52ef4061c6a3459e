package application

import (
	"context"
	"errors"
	"fmt"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/ports"
)

// ErrAccountErased is returned when a valid session belongs to a person
// whose data was erased.
var ErrAccountErased = errors.New("account erased")

// Authenticate turns a verified session into a principal, creating the
// person from the identity provider the first time they are seen.
type Authenticate struct {
	people    ports.IdentityPeople
	directory ports.IdentityDirectory
	clock     ports.Clock
}

// NewAuthenticate refuses nil dependencies.
func NewAuthenticate(people ports.IdentityPeople, directory ports.IdentityDirectory, clock ports.Clock) (Authenticate, error) {
	if anyNil(people, directory, clock) {
		return Authenticate{}, nilDependency("authenticate")
	}
	return Authenticate{people: people, directory: directory, clock: clock}, nil
}

// Handle returns the user principal of the session's person, whose scopes
// follow their role and what the access ledger says of them now
// (access.NewUser). Racing
// first requests for one user create exactly one person (the store
// guarantees it).
func (h Authenticate) Handle(ctx context.Context, s ports.Session) (access.Principal, error) {
	now := h.clock.Now()
	p, err := h.people.GetByIdentityID(ctx, s.UserID, now)
	if errors.Is(err, ports.ErrNotFound) {
		u, derr := h.directory.GetUser(ctx, s.UserID)
		if derr != nil {
			return access.Principal{}, fmt.Errorf("look up identity user: %w", derr)
		}
		if _, uerr := h.people.UpsertFromIdentity(ctx, u); uerr != nil {
			return access.Principal{}, uerr
		}
		// Read again: a person linked from an earlier checkout already
		// has a membership.
		p, err = h.people.GetByIdentityID(ctx, s.UserID, now)
	}
	if err != nil {
		return access.Principal{}, err
	}
	if p.Erased {
		return access.Principal{}, ErrAccountErased
	}
	rememberSignedIn(ctx, p)
	return access.NewUser(p.ID, p.Role, p.HasAccess)
}
