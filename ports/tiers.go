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

//go:generate go tool mockgen -destination=mocks/tier_sync.go -package=mocks . PriceCatalog,TierSyncStore

// CatalogPrice is an active recurring price in the billing provider's
// catalogue, with its product.
type CatalogPrice struct {
	ID        string
	LookupKey string
	Metadata  map[string]string
	// UnitAmount is in the currency's minor unit (cents).
	UnitAmount    int64
	Currency      string
	Interval      string // day, week, month or year
	IntervalCount int

	ProductID          string
	ProductName        string
	ProductDescription string
	ProductActive      bool
	ProductMetadata    map[string]string
}

// PriceCatalog reads the billing provider's catalogue.
type PriceCatalog interface {
	// Configured reports whether the provider is set up.
	Configured() bool
	// ListActivePrices returns every active recurring price with its
	// product. It fails rather than return a partial catalogue.
	ListActivePrices(ctx context.Context) ([]CatalogPrice, error)
}

// TierRecord is a stored tier with its billing details, retired ones
// included.
type TierRecord struct {
	ID            string
	Name          string
	Description   string
	PriceDisplay  string
	PriceID       string // "" when none is configured
	UnitAmount    int64
	Currency      string
	Interval      string
	IntervalCount int
	SortOrder     int
	// Active is false for a retired tier: it is kept (members on its price
	// still map to it) but cannot be bought.
	Active bool
}

// TierSyncStore reads and writes the stored tiers for the catalogue sync.
type TierSyncStore interface {
	// ListAllTiers returns every tier, retired ones and those without a
	// price included, ordered by id.
	ListAllTiers(ctx context.Context) ([]TierRecord, error)
	// ApplyTierChanges writes the upserts (by id, Active as given),
	// retires the tiers with the ids in retire and records the audit entry,
	// in one transaction.
	ApplyTierChanges(ctx context.Context, upserts []TierRecord, retire []string, audit AuditEntry) error
}
