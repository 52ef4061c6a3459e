package application

import (
	"context"
	"errors"

	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

// SetMyVisibility shows or hides the signed-in member in the directory;
// only someone with access (the access ledger's call) can be shown.
type SetMyVisibility struct {
	uow   ports.UnitOfWork[ports.MembershipTx]
	clock ports.Clock
}

// NewSetMyVisibility refuses nil dependencies.
func NewSetMyVisibility(uow ports.UnitOfWork[ports.MembershipTx], clock ports.Clock) (SetMyVisibility, error) {
	if anyNil(uow, clock) {
		return SetMyVisibility{}, nilDependency("set my visibility")
	}
	return SetMyVisibility{uow: uow, clock: clock}, nil
}

// Handle changes the visibility, audited in the same transaction.
func (h SetMyVisibility) Handle(ctx context.Context, visible bool) (MembershipView, error) {
	p, err := SignedInUser(ctx)
	if err != nil {
		return MembershipView{}, err
	}
	var out MembershipView
	err = h.uow.Do(ctx, func(ctx context.Context, tx ports.MembershipTx) error {
		grants, err := tx.AccessGrants().ForPerson(ctx, p.ID())
		if err != nil {
			return err
		}
		hasAccess := ledger.Explain(grants, h.clock.Now()).Active
		err = tx.Memberships().Update(ctx, p.ID(), func(m *membership.Membership) error {
			if err := m.SetVisible(visible, hasAccess); err != nil {
				return err
			}
			out = membershipView(m.Summary(), hasAccess)
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Audit().Record(ctx, actor(p, ports.AuditEntry{Action: "membership.set_visibility", SubjectKind: "person", SubjectID: p.ID(),
			Outcome: ports.OutcomeSuccess, Details: map[string]any{"visible": visible}}))
	})
	if errors.Is(err, membership.ErrNotActive) {
		return MembershipView{}, invalid("only a member with access can be listed in the directory")
	}
	return out, err
}
