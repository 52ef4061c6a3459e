package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/ports"
)

// OpenCheckoutStore keeps each person's latest checkout per tier in the
// open_checkouts table.
type OpenCheckoutStore struct {
	pool *pgxpool.Pool
}

var _ ports.OpenCheckouts = (*OpenCheckoutStore)(nil)

// NewOpenCheckoutStore returns a store over the pool.
func NewOpenCheckoutStore(pool *pgxpool.Pool) *OpenCheckoutStore {
	return &OpenCheckoutStore{pool: pool}
}

// OpenCheckout returns the checkout still open at the given time.
func (s *OpenCheckoutStore) OpenCheckout(ctx context.Context, personID, tierID string, at time.Time) (ports.OpenCheckout, error) {
	c := ports.OpenCheckout{PersonID: personID, TierID: tierID}
	err := s.pool.QueryRow(ctx, `SELECT customer_id, url, expires_at FROM open_checkouts WHERE person_id = $1 AND tier_id = $2 AND expires_at > $3`,
		personID, tierID, at).Scan(&c.CustomerID, &c.URL, &c.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return ports.OpenCheckout{}, ports.ErrNotFound
	}
	if err != nil {
		return ports.OpenCheckout{}, fmt.Errorf("postgres: open checkout: %w", err)
	}
	return c, nil
}

// SaveOpenCheckout records the checkout, replacing the previous one.
func (s *OpenCheckoutStore) SaveOpenCheckout(ctx context.Context, c ports.OpenCheckout) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO open_checkouts (person_id, tier_id, customer_id, url, expires_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (person_id, tier_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, url = EXCLUDED.url,
			expires_at = EXCLUDED.expires_at, created_at = now()`,
		c.PersonID, c.TierID, c.CustomerID, c.URL, c.ExpiresAt)
	if err != nil {
		return fmt.Errorf("postgres: save open checkout: %w", err)
	}
	return nil
}
