package application

import (
	"context"
	"errors"
	"fmt"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

// MaxDirectoryPage bounds one page of members.
const MaxDirectoryPage = 100

// ListMembersInput asks for one page of the directory. Only principals with
// members:write (admins) may include hidden members or filter by status.
type ListMembersInput struct {
	First         int
	After         string
	IncludeHidden bool
	Statuses      []membership.Status
}

// MemberPage is one page of the directory.
type MemberPage struct {
	Members []Member
	Cursors []string
	HasMore bool
}

// ListMembers returns one page of the directory (members:read): visible
// members with access now (the access ledger's call), or for admins
// everyone, optionally filtered by status.
type ListMembers struct {
	directory ports.PeopleDirectory
	clock     ports.Clock
}

// NewListMembers refuses nil dependencies.
func NewListMembers(directory ports.PeopleDirectory, clock ports.Clock) (ListMembers, error) {
	if anyNil(directory, clock) {
		return ListMembers{}, nilDependency("list members")
	}
	return ListMembers{directory: directory, clock: clock}, nil
}

// Handle returns the page, each member redacted for the principal.
func (h ListMembers) Handle(ctx context.Context, in ListMembersInput) (MemberPage, error) {
	p := PrincipalFrom(ctx)
	if err := access.Authorize(p, access.ScopeMembersRead); err != nil {
		return MemberPage{}, err
	}
	if in.First < 1 || in.First > MaxDirectoryPage {
		return MemberPage{}, invalid("first must be between 1 and %d", MaxDirectoryPage)
	}
	if (in.IncludeHidden || len(in.Statuses) > 0) && !access.Allows(p, access.ScopeMembersWrite) {
		return MemberPage{}, fmt.Errorf("%w: only admins can list hidden members or filter by status", access.ErrForbidden)
	}
	page, err := h.directory.Directory(ctx, ports.DirectoryFilter{IncludeHidden: in.IncludeHidden, At: h.clock.Now(), Statuses: in.Statuses, After: in.After, Limit: in.First})
	if errors.Is(err, ports.ErrInvalidCursor) {
		return MemberPage{}, fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	if err != nil {
		return MemberPage{}, err
	}
	out := MemberPage{Cursors: page.Cursors, HasMore: page.HasMore, Members: make([]Member, 0, len(page.People))}
	for _, person := range page.People {
		out.Members = append(out.Members, view(p, person))
	}
	return out, nil
}
