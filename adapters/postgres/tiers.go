package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/ports"
)

// TierStore reads membership tiers from the membership_tiers table.
type TierStore struct {
	pool *pgxpool.Pool
}

var _ ports.TierCatalog = (*TierStore)(nil)

// NewTierStore returns a store over the pool.
func NewTierStore(pool *pgxpool.Pool) *TierStore { return &TierStore{pool: pool} }

// purchasable is the condition of a tier that can be bought: not retired
// and with a real price (never a seeded placeholder).
const purchasable = `active AND stripe_price_id IS NOT NULL AND stripe_price_id NOT LIKE 'price_placeholder%'`

// ListTiers returns the purchasable tiers ordered by sort order, then id.
func (s *TierStore) ListTiers(ctx context.Context) ([]ports.MembershipTier, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT `+tierColumns+`
		FROM membership_tiers
		WHERE `+purchasable+`
		ORDER BY sort_order, id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list tiers: %w", err)
	}
	tiers, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ports.MembershipTier, error) {
		var t ports.MembershipTier
		err := r.Scan(&t.ID, &t.Name, &t.Description, &t.PriceDisplay, &t.PriceID, &t.SortOrder)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list tiers: %w", err)
	}
	return tiers, nil
}

// tierColumns read a placeholder price id (seeded before prices were
// synced) as no price.
const tierColumns = `id, name, description, price_display,
	CASE WHEN stripe_price_id LIKE 'price_placeholder%' THEN '' ELSE coalesce(stripe_price_id, '') END, sort_order`

func (s *TierStore) oneTier(ctx context.Context, what, where string, arg string) (ports.MembershipTier, error) {
	var t ports.MembershipTier
	err := s.pool.QueryRow(ctx, `SELECT `+tierColumns+` FROM membership_tiers WHERE `+where, arg).
		Scan(&t.ID, &t.Name, &t.Description, &t.PriceDisplay, &t.PriceID, &t.SortOrder)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, ports.ErrNotFound
	}
	if err != nil {
		return t, fmt.Errorf("postgres: %s: %w", what, err)
	}
	return t, nil
}

// GetTier returns a tier on offer by id (a retired one is not found); its
// PriceID is "" while it has no price, and checkout refuses it.
func (s *TierStore) GetTier(ctx context.Context, id string) (ports.MembershipTier, error) {
	return s.oneTier(ctx, "get tier", "active AND id = $1", id)
}

// TierForPrice returns the tier sold at a billing price id, retired tiers
// included: members keep the tier of an archived price.
func (s *TierStore) TierForPrice(ctx context.Context, priceID string) (ports.MembershipTier, error) {
	if priceID == "" {
		return ports.MembershipTier{}, ports.ErrNotFound
	}
	return s.oneTier(ctx, "tier for price", "stripe_price_id = $1", priceID)
}
