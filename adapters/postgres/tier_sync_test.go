package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

// priceSeededTiers gives the seeded tiers (which carry no price) a price
// each, as `wdai tiers sync` would.
func priceSeededTiers(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), `UPDATE membership_tiers SET stripe_price_id = 'price_' || id`); err != nil {
		t.Fatal(err)
	}
}

// TestTierStoreOffersOnlyPurchasableTiers: a fresh database's seeded tiers
// have no price, so none is listed and checkout finds no price for them; a
// placeholder price id reads as no price.
func TestTierStoreOffersOnlyPurchasableTiers(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	store := postgres.NewTierStore(pool)
	tiers, err := store.ListTiers(ctx)
	if err != nil || len(tiers) != 0 {
		t.Fatalf("fresh ListTiers = %v, %v; want none (no tier has a price)", tiers, err)
	}
	if got, err := store.GetTier(ctx, "community"); err != nil || got.PriceID != "" {
		t.Fatalf("GetTier(community) without a price = %+v, %v; want it with no price (checkout refuses it)", got, err)
	}
	if _, err := pool.Exec(ctx, `UPDATE membership_tiers SET stripe_price_id = 'price_placeholder_' || id`); err != nil {
		t.Fatal(err)
	}
	if tiers, err := store.ListTiers(ctx); err != nil || len(tiers) != 0 {
		t.Fatalf("ListTiers with placeholder prices = %v, %v; want none", tiers, err)
	}
	if got, err := store.GetTier(ctx, "leader"); err != nil || got.PriceID != "" {
		t.Fatalf("GetTier(leader) with a placeholder = %+v, %v; want it with no price", got, err)
	}
}

// TestTierStoreAppliesSyncChanges: an upsert creates and updates tiers with
// their billing details, a retired tier keeps its row and price (its
// members still map to it) but is no longer offered, and a price that moves
// to another tier leaves the one that had it.
func TestTierStoreAppliesSyncChanges(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	store := postgres.NewTierStore(pool)
	student := ports.TierRecord{ID: "student", Name: "Student", Description: "For students.", PriceDisplay: "$5 / month",
		PriceID: "price_student", UnitAmount: 500, Currency: "usd", Interval: "month", IntervalCount: 1, SortOrder: 5, Active: true}
	community := ports.TierRecord{ID: "community", Name: "Community", Description: "Members.", PriceDisplay: "$15 / month",
		PriceID: "price_comm", UnitAmount: 1500, Currency: "usd", Interval: "month", IntervalCount: 1, SortOrder: 10, Active: true}
	if err := store.ApplyTierChanges(ctx, []ports.TierRecord{student, community}, nil, syncAudit); err != nil {
		t.Fatalf("ApplyTierChanges: %v", err)
	}
	all, err := store.ListAllTiers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]ports.TierRecord{}
	for _, r := range all {
		byID[r.ID] = r
	}
	if byID["student"] != student || byID["community"] != community {
		t.Fatalf("stored student %+v community %+v; want %+v and %+v", byID["student"], byID["community"], student, community)
	}
	if byID["leader"].PriceID != "" || !byID["leader"].Active {
		t.Fatalf("untouched seeded leader = %+v", byID["leader"])
	}
	offered, err := store.ListTiers(ctx)
	if err != nil || len(offered) != 2 || offered[0].ID != "student" || offered[1].ID != "community" {
		t.Fatalf("offered = %+v, %v; want student then community", offered, err)
	}

	// Retire student; move community's price to leader.
	leader := community
	leader.ID, leader.Name, leader.SortOrder = "leader", "Leader", 30
	if err := store.ApplyTierChanges(ctx, []ports.TierRecord{leader}, []string{"student"}, syncAudit); err != nil {
		t.Fatalf("ApplyTierChanges: %v", err)
	}
	offered, err = store.ListTiers(ctx)
	if err != nil || len(offered) != 1 || offered[0].ID != "leader" {
		t.Fatalf("offered after retiring = %+v, %v; want leader only", offered, err)
	}
	if _, err := store.GetTier(ctx, "student"); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("GetTier(retired student) = %v, want ErrNotFound", err)
	}
	got, err := store.TierForPrice(ctx, "price_student")
	if err != nil || got.ID != "student" {
		t.Fatalf("TierForPrice(archived price) = %+v, %v; want the retired student tier", got, err)
	}
	var retiredAt, active bool
	if err := pool.QueryRow(ctx, `SELECT retired_at IS NOT NULL, active FROM membership_tiers WHERE id = 'student'`).Scan(&retiredAt, &active); err != nil {
		t.Fatal(err)
	}
	if !retiredAt || active {
		t.Fatalf("student retired_at set %v, active %v; want retired", retiredAt, active)
	}
	var audited int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'tiers.sync'`).Scan(&audited); err != nil || audited != 2 {
		t.Fatalf("audit entries = %d, %v; want one per sync", audited, err)
	}
}

var syncAudit = ports.AuditEntry{ActorKind: "system", ActorID: "tiers-sync", Action: "tiers.sync", SubjectKind: "membership_tiers", Outcome: ports.OutcomeSuccess}
