package application

import (
	"context"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/ports"
)

// GetMember returns one person of the directory (members:read): hidden
// members, and those without access now, only to admins and to
// themselves.
type GetMember struct {
	people  ports.PersonReader
	members memberAccess
}

// NewGetMember refuses nil dependencies.
func NewGetMember(people ports.PersonReader, memberships ports.MembershipReader, grants ports.AccessReader, clock ports.Clock) (GetMember, error) {
	members := memberAccess{memberships: memberships, grants: grants, clock: clock}
	if anyNil(people) || members.missing() {
		return GetMember{}, nilDependency("get member")
	}
	return GetMember{people: people, members: members}, nil
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
		m, acc, err := h.members.one(ctx, person.ID)
		if err != nil {
			return Member{}, err
		}
		if m == nil || !m.Visible() || !acc.Active {
			return Member{}, ports.ErrNotFound
		}
	}
	return view(p, person), nil
}
