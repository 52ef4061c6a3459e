package application

import (
	"context"

	"github.com/womendefiningai/platform/domain/access"
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
	ms, err := h.memberships.GetMany(ctx, personIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[string]MembershipView, len(ms))
	for id, m := range ms {
		if access.RedactionFor(p, id).Hides(access.FieldBilling) {
			continue
		}
		out[id] = membershipView(m)
	}
	return out, nil
}
