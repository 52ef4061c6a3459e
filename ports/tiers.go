package ports

import "context"

//go:generate go tool mockgen -destination=mocks/tiers.go -package=mocks . TierCatalog

// MembershipTier is a tier people can join, as listed on the pricing page.
type MembershipTier struct {
	ID           string
	Name         string
	Description  string
	PriceDisplay string
	// PriceID is the billing provider's price for the tier, "" when none is
	// configured yet (the tier cannot be bought).
	PriceID   string
	SortOrder int
}

// TierCatalog lists the membership tiers on offer.
type TierCatalog interface {
	// ListTiers returns the active tiers, ordered for display.
	ListTiers(ctx context.Context) ([]MembershipTier, error)
	// GetTier returns an active tier by id, or ErrNotFound.
	GetTier(ctx context.Context, id string) (MembershipTier, error)
	// TierForPrice returns the tier sold at a billing price id, or ErrNotFound.
	TierForPrice(ctx context.Context, priceID string) (MembershipTier, error)
}
