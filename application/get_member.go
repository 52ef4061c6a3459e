package application

import (
	"context"
	"errors"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/ports"
)

// GetMember returns one person of the directory (members:read): hidden
// members only to admins and to themselves.
type GetMember struct {
	people      ports.PersonReader
	memberships ports.MembershipReader
}

// NewGetMember refuses nil stores.
func NewGetMember(people ports.PersonReader, memberships ports.MembershipReader) (GetMember, error) {
	if anyNil(people, memberships) {
		return GetMember{}, nilDependency("get member")
	}
	return GetMember{people: people, memberships: memberships}, nil
}

// Handle returns the person with that id, or ErrNotFound when the principal
// may not see them.
func (h GetMember) Handle(ctx context.Context, id string) (Member, error) {
	p := PrincipalFrom(ctx)
	if err := access.Authorize(p, access.ScopeMembersRead); err != nil {
		return Member{}, err
	}
	person, err := h.people.Get(ctx, id)
	if err != nil {
		return Member{}, err
	}
	if person.Erased {
		return Member{}, ports.ErrNotFound
	}
	if person.ID != p.ID() && !access.Allows(p, access.ScopeMembersWrite) {
		m, err := h.memberships.Get(ctx, person.ID)
		if errors.Is(err, ports.ErrNotFound) || (err == nil && !m.Visible()) {
			return Member{}, ports.ErrNotFound
		}
		if err != nil {
			return Member{}, err
		}
	}
	return view(p, person), nil
}
