package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/womendefiningai/platform/ports"
)

var _ ports.TierSyncStore = (*TierStore)(nil)

// ListAllTiers returns every tier, retired ones and those without a price
// included, ordered by id.
func (s *TierStore) ListAllTiers(ctx context.Context) ([]ports.TierRecord, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, name, description, price_display, coalesce(stripe_price_id, ''), coalesce(unit_amount, 0),
		       coalesce(currency, ''), coalesce(billing_interval, ''), coalesce(interval_count, 0), sort_order, active
		FROM membership_tiers
		ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list all tiers: %w", err)
	}
	tiers, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ports.TierRecord, error) {
		var t ports.TierRecord
		err := r.Scan(&t.ID, &t.Name, &t.Description, &t.PriceDisplay, &t.PriceID, &t.UnitAmount,
			&t.Currency, &t.Interval, &t.IntervalCount, &t.SortOrder, &t.Active)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list all tiers: %w", err)
	}
	return tiers, nil
}

// ApplyTierChanges retires and upserts tiers, and records the audit entry,
// in one transaction. A retired
// tier keeps its row and price id (members on that price keep their tier);
// a price id that moves to another tier is taken from the one that had it.
func (s *TierStore) ApplyTierChanges(ctx context.Context, upserts []ports.TierRecord, retire []string, audit ports.AuditEntry) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if len(retire) > 0 {
			if _, err := tx.Exec(ctx, `
				UPDATE membership_tiers SET active = false, retired_at = now(), updated_at = now()
				WHERE id = ANY($1) AND active`, retire); err != nil {
				return err
			}
		}
		for _, t := range upserts {
			if _, err := tx.Exec(ctx, `
				UPDATE membership_tiers SET stripe_price_id = NULL, updated_at = now()
				WHERE stripe_price_id = $1 AND id <> $2`, t.PriceID, t.ID); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `
				INSERT INTO membership_tiers (id, name, description, price_display, stripe_price_id, unit_amount, currency,
				                              billing_interval, interval_count, sort_order, active, retired_at)
				VALUES ($1, $2, $3, $4, NULLIF($5, ''), NULLIF($6::bigint, 0), NULLIF($7, ''), NULLIF($8, ''), NULLIF($9::integer, 0),
				        $10, $11, CASE WHEN $11::boolean THEN NULL ELSE now() END)
				ON CONFLICT (id) DO UPDATE SET
					name = EXCLUDED.name, description = EXCLUDED.description, price_display = EXCLUDED.price_display,
					stripe_price_id = EXCLUDED.stripe_price_id, unit_amount = EXCLUDED.unit_amount, currency = EXCLUDED.currency,
					billing_interval = EXCLUDED.billing_interval, interval_count = EXCLUDED.interval_count,
					sort_order = EXCLUDED.sort_order, active = EXCLUDED.active, retired_at = EXCLUDED.retired_at, updated_at = now()`,
				t.ID, t.Name, t.Description, t.PriceDisplay, t.PriceID, t.UnitAmount, t.Currency,
				t.Interval, t.IntervalCount, t.SortOrder, t.Active); err != nil {
				return fmt.Errorf("tier %s: %w", t.ID, err)
			}
		}
		return NewAuditLog(tx).Record(ctx, audit)
	})
	if err != nil {
		return fmt.Errorf("postgres: apply tier changes: %w", err)
	}
	return nil
}
