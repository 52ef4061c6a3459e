package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/internal/testdb"
)

func TestTierStoreListsSeededTiersInDisplayOrder(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	priceSeededTiers(t, pool)

	tiers, err := postgres.NewTierStore(pool).ListTiers(ctx)
	if err != nil {
		t.Fatalf("ListTiers: %v", err)
	}
	var ids []string
	for _, tr := range tiers {
		ids = append(ids, tr.ID)
		if tr.Name == "" || tr.PriceDisplay == "" {
			t.Errorf("tier %q has empty fields: %+v", tr.ID, tr)
		}
	}
	want := []string{"community", "professional", "leader"}
	if len(ids) != len(want) {
		t.Fatalf("tiers = %v, want %v", ids, want)
	}
	for i := range want {
		if ids[i] != want[i] {
			t.Fatalf("tiers = %v, want %v", ids, want)
		}
	}
}

func TestTierStoreHidesInactiveAndHonoursSortOrder(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	priceSeededTiers(t, pool)
	if _, err := pool.Exec(ctx, `UPDATE membership_tiers SET active = false WHERE id = 'professional'`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO membership_tiers (id, name, price_display, sort_order, stripe_price_id) VALUES ('student', 'Student', '$5 / month', 1, 'price_student')`); err != nil {
		t.Fatal(err)
	}
	tiers, err := postgres.NewTierStore(pool).ListTiers(ctx)
	if err != nil {
		t.Fatalf("ListTiers: %v", err)
	}
	got := make([]string, 0, len(tiers))
	for _, tr := range tiers {
		got = append(got, tr.ID)
	}
	want := "student,community,leader"
	if j := strings.Join(got, ","); j != want {
		t.Fatalf("tiers = %s, want %s", j, want)
	}
	if tiers[0].PriceID != "price_student" {
		t.Errorf("student's price id reads as %q, want price_student", tiers[0].PriceID)
	}
}
