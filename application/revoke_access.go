package application

import (
	"context"
	"errors"
	"fmt"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/ports"
)

// RevokeAccessInput names the grant to end now, and why.
type RevokeAccessInput struct {
	GrantID string
	Reason  string
}

// RevokeAccess ends a complimentary or manual grant now (members:write),
// audited, and evaluates the person's access at once. Ending one grant
// never ends another: a scholarship holder who also pays keeps access by
// the subscription. Subscription and grace grants follow billing and
// cannot be revoked by hand. It never calls the billing provider.
type RevokeAccess struct {
	uow    ports.UnitOfWork[ports.AccessTx]
	clock  ports.Clock
	policy AccessPolicy
}

// NewRevokeAccess refuses nil dependencies.
func NewRevokeAccess(uow ports.UnitOfWork[ports.AccessTx], clock ports.Clock, policy AccessPolicy) (RevokeAccess, error) {
	if anyNil(uow, clock) {
		return RevokeAccess{}, nilDependency("revoke access")
	}
	return RevokeAccess{uow: uow, clock: clock, policy: policy}, nil
}

// Handle revokes the grant and returns it as it now stands. An unknown
// grant is ErrNotFound; one that already ended, a billing grant or a
// missing reason is ErrInvalidInput.
func (h RevokeAccess) Handle(ctx context.Context, in RevokeAccessInput) (ledger.Grant, error) {
	p := PrincipalFrom(ctx)
	if err := access.Authorize(p, access.ScopeMembersWrite); err != nil {
		return ledger.Grant{}, err
	}
	var out ledger.Grant
	err := h.uow.Do(ctx, func(ctx context.Context, tx ports.AccessTx) error {
		g, err := tx.AccessGrants().Get(ctx, in.GrantID)
		if err != nil {
			return fmt.Errorf("grant %q: %w", in.GrantID, err)
		}
		if g.Source != ledger.SourceComplimentary && g.Source != ledger.SourceManual {
			return invalid("a %s grant follows billing and cannot be revoked by hand", g.Source)
		}
		m, err := lockMembership(ctx, tx, g.PersonID)
		if err != nil {
			return err
		}
		if g, err = tx.AccessGrants().Get(ctx, in.GrantID); err != nil { // read again under the lock
			return err
		}
		now := h.clock.Now()
		revoked, err := g.Revoke(now, p.ID(), in.Reason)
		switch {
		case errors.Is(err, ledger.ErrEnded):
			return invalid("the grant has already ended")
		case err != nil:
			return fmt.Errorf("%w: %w", ErrInvalidInput, err)
		}
		if err := tx.AccessGrants().Save(ctx, revoked); err != nil {
			return err
		}
		if err := tx.Audit().Record(ctx, actor(p, grantAudit("access.revoke", revoked))); err != nil {
			return err
		}
		out = revoked
		return evaluateAccess(ctx, tx, h.policy, g.PersonID, m, now)
	})
	return out, err
}
