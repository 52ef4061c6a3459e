package application

import (
	"context"
	"errors"

	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

// memberAccess reads memberships together with the access each person has
// now, which the access ledger decides: what the email list, the directory
// and the approval of RSVPs act on.
type memberAccess struct {
	memberships ports.MembershipReader
	grants      ports.AccessReader
	clock       ports.Clock
}

func (r memberAccess) missing() bool { return anyNil(r.memberships, r.grants, r.clock) }

// many returns the memberships of ids (those without one are absent) and
// the access of each of them now.
func (r memberAccess) many(ctx context.Context, ids []string) (map[string]*membership.Membership, map[string]ledger.Access, error) {
	ms, err := r.memberships.GetMany(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	grants, err := r.grants.GrantsOf(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	now := r.clock.Now()
	out := make(map[string]ledger.Access, len(ids))
	for _, id := range ids {
		out[id] = ledger.Explain(grants[id], now)
	}
	return ms, out, nil
}

// one returns the membership of id (nil: none) and their access now.
func (r memberAccess) one(ctx context.Context, id string) (*membership.Membership, ledger.Access, error) {
	m, err := r.memberships.Get(ctx, id)
	if err != nil && !errors.Is(err, ports.ErrNotFound) {
		return nil, ledger.Access{}, err
	}
	grants, err := r.grants.GrantsOf(ctx, []string{id})
	if err != nil {
		return nil, ledger.Access{}, err
	}
	return m, ledger.Explain(grants[id], r.clock.Now()), nil
}
