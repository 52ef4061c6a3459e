package application

import (
	"context"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/ports"
)

// SetPersonRoleInput names the person and the role to give them.
type SetPersonRoleInput struct {
	PersonID string
	Role     access.Role
}

// SetPersonRole gives a person a role (members:write), audited with the
// role before and after.
type SetPersonRole struct {
	uow ports.UnitOfWork[ports.PeopleTx]
}

// NewSetPersonRole refuses a nil unit of work.
func NewSetPersonRole(uow ports.UnitOfWork[ports.PeopleTx]) (SetPersonRole, error) {
	if anyNil(uow) {
		return SetPersonRole{}, nilDependency("set person role")
	}
	return SetPersonRole{uow: uow}, nil
}

// Handle sets the role and returns the person as the principal sees them.
func (h SetPersonRole) Handle(ctx context.Context, in SetPersonRoleInput) (Member, error) {
	p := PrincipalFrom(ctx)
	if err := access.Authorize(p, access.ScopeMembersWrite); err != nil {
		return Member{}, err
	}
	var out ports.Person
	err := h.uow.Do(ctx, func(ctx context.Context, tx ports.PeopleTx) error {
		before, err := tx.People().Get(ctx, in.PersonID)
		if err != nil {
			return err
		}
		if out, err = tx.People().SetRole(ctx, in.PersonID, in.Role); err != nil {
			return err
		}
		return tx.Audit().Record(ctx, actor(p, ports.AuditEntry{Action: "person.set_role", SubjectKind: "person", SubjectID: in.PersonID,
			Outcome: ports.OutcomeSuccess, Details: map[string]any{"from": before.Role.String(), "to": in.Role.String()}}))
	})
	if err != nil {
		return Member{}, err
	}
	return view(p, out), nil
}
