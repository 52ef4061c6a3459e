package application

import (
	"context"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

// GetMemberships returns, for each person id, the membership the principal
// may see (billing data: their own, or with billing:read), in one query for
// all, for a dataloader.
type GetMemberships struct {
	memberships ports.MembershipReader
}

// NewGetMemberships refuses a nil store.
func NewGetMemberships(memberships ports.MembershipReader) (GetMemberships, error) {
	if anyNil(memberships) {
		return GetMemberships{}, nilDependency("get memberships")
	}
	return GetMemberships{memberships: memberships}, nil
}

// Handle returns the visible memberships by person id; people without one,
// or whose billing data is hidden, are absent.
func (h GetMemberships) Handle(ctx context.Context, personIDs []string) (map[string]MembershipView, error) {
	p := PrincipalFrom(ctx)
	if len(personIDs) == 1 {
		// The caller's own, read with them at sign-in in this request.
		if m, ok := signedInMembership(ctx, personIDs[0]); ok {
			ms := map[string]*membership.Membership{}
			if m != nil {
				ms[personIDs[0]] = m
			}
			return visibleMemberships(p, ms), nil
		}
	}
	ms, err := h.memberships.GetMany(ctx, personIDs)
	if err != nil {
		return nil, err
	}
	return visibleMemberships(p, ms), nil
}

// visibleMemberships keeps the memberships p may see, as views.
func visibleMemberships(p access.Principal, ms map[string]*membership.Membership) map[string]MembershipView {
	out := make(map[string]MembershipView, len(ms))
	for id, m := range ms {
		if access.RedactionFor(p, id).Hides(access.FieldBilling) {
			continue
		}
		out[id] = membershipView(m)
	}
	return out
}
