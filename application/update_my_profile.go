package application

import (
	"context"

	"github.com/womendefiningai/platform/domain/usertext"
	"github.com/womendefiningai/platform/ports"
)

// PersonProfile is what a person may change about themselves.
type PersonProfile = ports.PersonProfile

// UpdateMyProfile changes the signed-in person's name, audited in the same
// transaction.
type UpdateMyProfile struct {
	uow ports.UnitOfWork[ports.PeopleTx]
}

// NewUpdateMyProfile refuses a nil unit of work.
func NewUpdateMyProfile(uow ports.UnitOfWork[ports.PeopleTx]) (UpdateMyProfile, error) {
	if anyNil(uow) {
		return UpdateMyProfile{}, nilDependency("update my profile")
	}
	return UpdateMyProfile{uow: uow}, nil
}

// Handle trims spaces and invisible characters around the names; the first
// name is required (one that shows nothing is missing), and each is at most
// usertext.MaxNameLength characters without control or invisible characters.
func (h UpdateMyProfile) Handle(ctx context.Context, in PersonProfile) (Member, error) {
	p, err := SignedInUser(ctx)
	if err != nil {
		return Member{}, err
	}
	in.FirstName, in.LastName = usertext.Trim(in.FirstName), usertext.Trim(in.LastName)
	if usertext.Blank(in.FirstName) {
		return Member{}, invalid("firstName: required")
	}
	if err := usertext.Check(in.FirstName, usertext.MaxNameLength); err != nil {
		return Member{}, invalid("firstName: %v", err)
	}
	if err := usertext.Check(in.LastName, usertext.MaxNameLength); err != nil {
		return Member{}, invalid("lastName: %v", err)
	}
	var out ports.Person
	err = h.uow.Do(ctx, func(ctx context.Context, tx ports.PeopleTx) error {
		var err error
		if out, err = tx.People().UpdateProfile(ctx, p.ID(), in); err != nil {
			return err
		}
		return tx.Audit().Record(ctx, actor(p, ports.AuditEntry{Action: "person.update_profile", SubjectKind: "person", SubjectID: p.ID(), Outcome: ports.OutcomeSuccess}))
	})
	if err != nil {
		return Member{}, err
	}
	return view(p, out), nil
}
