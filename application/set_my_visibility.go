package application

import (
	"context"
	"errors"

	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

// SetMyVisibility shows or hides the signed-in member in the directory;
// only an active member can be shown.
type SetMyVisibility struct {
	uow ports.UnitOfWork[ports.MembershipTx]
}

// NewSetMyVisibility refuses a nil unit of work.
func NewSetMyVisibility(uow ports.UnitOfWork[ports.MembershipTx]) (SetMyVisibility, error) {
	if anyNil(uow) {
		return SetMyVisibility{}, nilDependency("set my visibility")
	}
	return SetMyVisibility{uow: uow}, nil
}

// Handle changes the visibility, audited in the same transaction.
func (h SetMyVisibility) Handle(ctx context.Context, visible bool) (MembershipView, error) {
	p, err := SignedInUser(ctx)
	if err != nil {
		return MembershipView{}, err
	}
	var out MembershipView
	err = h.uow.Do(ctx, func(ctx context.Context, tx ports.MembershipTx) error {
		err := tx.Memberships().Update(ctx, p.ID(), func(m *membership.Membership) error {
			if err := m.SetVisible(visible); err != nil {
				return err
			}
			out = membershipView(m)
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Audit().Record(ctx, actor(p, ports.AuditEntry{Action: "membership.set_visibility", SubjectKind: "person", SubjectID: p.ID(),
			Outcome: ports.OutcomeSuccess, Details: map[string]any{"visible": visible}}))
	})
	if errors.Is(err, membership.ErrNotActive) {
		return MembershipView{}, invalid("only an active member can be listed in the directory")
	}
	return out, err
}
