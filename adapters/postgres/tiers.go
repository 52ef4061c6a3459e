package postgres

import (
	"context"
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

// ListTiers returns active tiers ordered by sort order, then id.
func (s *TierStore) ListTiers(ctx context.Context) ([]ports.MembershipTier, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, name, description, price_display, coalesce(stripe_price_id, ''), sort_order
		FROM membership_tiers
		WHERE active
		ORDER BY sort_order, id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list tiers: %w", err)
	}
	tiers, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ports.MembershipTier, error) {
		var t ports.MembershipTier
		err := r.Scan(&t.ID, &t.Name, &t.Description, &t.PriceDisplay, &t.StripePriceID, &t.SortOrder)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list tiers: %w", err)
	}
	return tiers, nil
}
