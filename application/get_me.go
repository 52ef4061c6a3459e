package application

import (
	"context"

	"github.com/womendefiningai/platform/ports"
)

// GetMe returns the signed-in person.
type GetMe struct {
	people ports.PersonReader
}

// NewGetMe refuses a nil store.
func NewGetMe(people ports.PersonReader) (GetMe, error) {
	if anyNil(people) {
		return GetMe{}, nilDependency("get me")
	}
	return GetMe{people: people}, nil
}

// Handle returns the signed-in person as they see themselves: as this
// request's authentication read them when it did (WithSignInMemo),
// otherwise from the store.
func (h GetMe) Handle(ctx context.Context) (Member, error) {
	p, err := SignedInUser(ctx)
	if err != nil {
		return Member{}, err
	}
	if person, ok := signedInPerson(ctx, p.ID()); ok {
		return view(p, person), nil
	}
	person, err := h.people.Get(ctx, p.ID())
	if err != nil {
		return Member{}, err
	}
	return view(p, person), nil
}
