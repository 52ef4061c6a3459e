package main_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// pricedTiersURL returns a fresh database whose seeded tiers each have a
// price, as after `wdai tiers sync`: a fresh database offers no tier, since
// the seeded ones have none.
func pricedTiersURL(t *testing.T, dbURL string) string {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(context.Background(), `UPDATE membership_tiers SET stripe_price_id = 'price_' || id || '_test' WHERE stripe_price_id IS NULL`); err != nil {
		t.Fatal(err)
	}
	return dbURL
}
