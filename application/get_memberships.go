package application

import (
	"context"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

// GetMemberships returns, for each person id, the membership the principal
// may see (billing data: their own, or with billing:read), in one query for
// all, for a dataloader.
type GetMemberships struct {
	memberships ports.MembershipReader
	grants      ports.AccessReader
	clock       ports.Clock
}

// NewGetMemberships refuses nil dependencies.
func NewGetMemberships(memberships ports.MembershipReader, grants ports.AccessReader, clock ports.Clock) (GetMemberships, error) {
	if anyNil(memberships, grants, clock) {
		return GetMemberships{}, nilDependency("get memberships")
	}
	return GetMemberships{memberships: memberships, grants: grants, clock: clock}, nil
}

// Handle returns the visible memberships by person id; people without one,
// or whose billing data is hidden, are absent.
func (h GetMemberships) Handle(ctx context.Context, personIDs []string) (map[string]MembershipView, error) {
	p := PrincipalFrom(ctx)
	if len(personIDs) == 1 {
		// The caller's own, read with them at sign-in in this request.
		if m, hasAccess, ok := signedInMembership(ctx, personIDs[0]); ok {
			out := map[string]MembershipView{}
			if m != nil && !access.RedactionFor(p, personIDs[0]).Hides(access.FieldBilling) {
				out[personIDs[0]] = membershipView(*m, hasAccess)
			}
			return out, nil
		}
	}
	ms, err := h.memberships.GetMany(ctx, personIDs)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(ms))
	for id := range ms {
		if !access.RedactionFor(p, id).Hides(access.FieldBilling) {
			ids = append(ids, id)
		}
	}
	grants, err := h.grants.GrantsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	return h.visible(p, ms, grants), nil
}

// visible keeps the memberships p may see, as views with the access each
// person has now.
func (h GetMemberships) visible(p access.Principal, ms map[string]*membership.Membership, grants map[string][]ledger.Grant) map[string]MembershipView {
	now := h.clock.Now()
	out := make(map[string]MembershipView, len(ms))
	for id, m := range ms {
		if access.RedactionFor(p, id).Hides(access.FieldBilling) {
			continue
		}
		out[id] = membershipView(m.Summary(), ledger.Explain(grants[id], now).Active)
	}
	return out
}
