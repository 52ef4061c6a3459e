package application

import (
	"context"
	"errors"
	"fmt"

	"github.com/womendefiningai/platform/ports"
)

// MembershipTiersHandler answers the public pricing-page question
// "which tiers can I join?".
type MembershipTiersHandler struct {
	catalog ports.TierCatalog
}

// NewMembershipTiersHandler refuses a nil catalog at start-up.
func NewMembershipTiersHandler(catalog ports.TierCatalog) (MembershipTiersHandler, error) {
	if catalog == nil {
		return MembershipTiersHandler{}, errors.New("application: membership tiers: nil tier catalog")
	}
	return MembershipTiersHandler{catalog: catalog}, nil
}

// Handle returns the active tiers in display order.
func (h MembershipTiersHandler) Handle(ctx context.Context) ([]MembershipTier, error) {
	tiers, err := h.catalog.ListTiers(ctx)
	if err != nil {
		return nil, fmt.Errorf("list membership tiers: %w", err)
	}
	return tiers, nil
}

// MembershipTier is the read model the query returns.
type MembershipTier = ports.MembershipTier
