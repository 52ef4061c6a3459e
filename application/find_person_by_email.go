package application

import (
	"context"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/ports"
)

// FindPersonByEmail finds a person for operators (members:read:pii).
type FindPersonByEmail struct {
	people ports.PersonFinder
}

// NewFindPersonByEmail refuses a nil store.
func NewFindPersonByEmail(people ports.PersonFinder) (FindPersonByEmail, error) {
	if anyNil(people) {
		return FindPersonByEmail{}, nilDependency("find person by email")
	}
	return FindPersonByEmail{people: people}, nil
}

// Handle returns the person with that verified address, or ErrNotFound.
func (h FindPersonByEmail) Handle(ctx context.Context, email string) (Person, error) {
	if err := access.Authorize(PrincipalFrom(ctx), access.ScopeMembersReadPII); err != nil {
		return Person{}, err
	}
	return h.people.GetByEmail(ctx, email)
}
