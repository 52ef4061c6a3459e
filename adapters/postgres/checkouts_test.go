package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

func TestOpenCheckoutStoreReturnsOnlyTheUnexpiredLatestCheckout(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	p, err := postgres.NewPeopleStore(pool).Create(ctx, "c@example.test", "C", "O")
	if err != nil {
		t.Fatal(err)
	}
	s := postgres.NewOpenCheckoutStore(pool)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	if _, err := s.OpenCheckout(ctx, p.ID, "community", now); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("no checkout yet: %v, want ErrNotFound", err)
	}
	first := ports.OpenCheckout{PersonID: p.ID, TierID: "community", URL: "https://pay.test/1", ExpiresAt: now.Add(time.Hour)}
	if err := s.SaveOpenCheckout(ctx, first); err != nil {
		t.Fatal(err)
	}
	got, err := s.OpenCheckout(ctx, p.ID, "community", now)
	if err != nil || got.URL != first.URL || !got.ExpiresAt.Equal(first.ExpiresAt) {
		t.Fatalf("open checkout = %+v, %v; want %+v", got, err, first)
	}
	if _, err := s.OpenCheckout(ctx, p.ID, "leader", now); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("another tier: %v, want ErrNotFound", err)
	}
	if _, err := s.OpenCheckout(ctx, p.ID, "community", now.Add(time.Hour)); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("at its expiry: %v, want ErrNotFound", err)
	}
	second := ports.OpenCheckout{PersonID: p.ID, TierID: "community", CustomerID: "cus_1", URL: "https://pay.test/2", ExpiresAt: now.Add(2 * time.Hour)}
	if err := s.SaveOpenCheckout(ctx, second); err != nil {
		t.Fatal(err)
	}
	if got, err := s.OpenCheckout(ctx, p.ID, "community", now); err != nil || got.URL != second.URL || got.CustomerID != "cus_1" || !got.ExpiresAt.Equal(second.ExpiresAt) {
		t.Fatalf("after a replacement = %+v, %v; want %s", got, err, second.URL)
	}
	var rows int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM open_checkouts`).Scan(&rows); err != nil || rows != 1 {
		t.Fatalf("rows = %d, %v; want 1 per person and tier", rows, err)
	}
}
