package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/womendefiningai/platform/ports"
)

// DuplicateSubscriptions implements ports.DuplicateSubscriptions on the
// duplicate_subscriptions table.
type DuplicateSubscriptions struct{ q Querier }

var _ ports.DuplicateSubscriptions = (*DuplicateSubscriptions)(nil)

// NewDuplicateSubscriptions returns the store on a pool or a transaction.
func NewDuplicateSubscriptions(q Querier) *DuplicateSubscriptions {
	return &DuplicateSubscriptions{q: q}
}

// Record inserts the set unless it is already recorded.
func (d *DuplicateSubscriptions) Record(ctx context.Context, personID string, subscriptionIDs []string) error {
	ids := slices.Sorted(slices.Values(subscriptionIDs))
	if _, err := d.q.Exec(ctx, `INSERT INTO duplicate_subscriptions (person_id, subscription_ids) VALUES ($1, $2)
		ON CONFLICT (person_id, subscription_ids) DO NOTHING`, personID, ids); err != nil {
		return fmt.Errorf("postgres: record duplicate subscriptions: %w", err)
	}
	return nil
}

// ClaimUnalerted marks the person's unalerted sets; the row locks of the
// UPDATE give each set to one caller.
func (d *DuplicateSubscriptions) ClaimUnalerted(ctx context.Context, personID string) ([]ports.DuplicateSubscription, error) {
	rows, err := d.q.Query(ctx, `UPDATE duplicate_subscriptions SET alerted_at = now()
		WHERE person_id = $1 AND alerted_at IS NULL
		RETURNING person_id::text, subscription_ids, detected_at, alerted_at`, personID)
	if err != nil {
		return nil, fmt.Errorf("postgres: claim duplicate subscriptions: %w", err)
	}
	return collectDuplicates(rows)
}

// Unclaim clears the alert mark of the set.
func (d *DuplicateSubscriptions) Unclaim(ctx context.Context, personID string, subscriptionIDs []string) error {
	ids := slices.Sorted(slices.Values(subscriptionIDs))
	if _, err := d.q.Exec(ctx, `UPDATE duplicate_subscriptions SET alerted_at = NULL WHERE person_id = $1 AND subscription_ids = $2`, personID, ids); err != nil {
		return fmt.Errorf("postgres: unclaim duplicate subscriptions: %w", err)
	}
	return nil
}

// List returns the newest sets first.
func (d *DuplicateSubscriptions) List(ctx context.Context, limit int) ([]ports.DuplicateSubscription, error) {
	rows, err := d.q.Query(ctx, `SELECT person_id::text, subscription_ids, detected_at, alerted_at
		FROM duplicate_subscriptions ORDER BY detected_at DESC, person_id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: list duplicate subscriptions: %w", err)
	}
	return collectDuplicates(rows)
}

func collectDuplicates(rows pgx.Rows) ([]ports.DuplicateSubscription, error) {
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ports.DuplicateSubscription, error) {
		var v ports.DuplicateSubscription
		var alerted *time.Time
		err := r.Scan(&v.PersonID, &v.SubscriptionIDs, &v.DetectedAt, &alerted)
		if alerted != nil {
			v.AlertedAt = *alerted
		}
		return v, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: read duplicate subscriptions: %w", err)
	}
	return out, nil
}
