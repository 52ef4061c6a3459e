package application

import (
	"context"
	"fmt"

	"github.com/womendefiningai/platform/ports"
)

// MembershipTier is the read model of a tier on offer.
type MembershipTier = ports.MembershipTier

// ListMembershipTiers answers the public pricing-page question "which tiers
// can I join?".
type ListMembershipTiers struct {
	catalog ports.TierCatalog
}

// NewListMembershipTiers refuses a nil catalog at start-up.
func NewListMembershipTiers(catalog ports.TierCatalog) (ListMembershipTiers, error) {
	if anyNil(catalog) {
		return ListMembershipTiers{}, nilDependency("list membership tiers")
	}
	return ListMembershipTiers{catalog: catalog}, nil
}

// Handle returns the active tiers in display order.
func (h ListMembershipTiers) Handle(ctx context.Context) ([]MembershipTier, error) {
	tiers, err := h.catalog.ListTiers(ctx)
	if err != nil {
		return nil, fmt.Errorf("list membership tiers: %w", err)
	}
	return tiers, nil
}
