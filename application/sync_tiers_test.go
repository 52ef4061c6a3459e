package application_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

func monthly(id, tier string, amount int64) ports.CatalogPrice {
	return ports.CatalogPrice{ID: id, LookupKey: "wdai_tier_" + tier, UnitAmount: amount, Currency: "usd", Interval: "month", IntervalCount: 1,
		ProductID: "prod_" + tier, ProductName: "Tier " + tier, ProductDescription: "About " + tier, ProductActive: true}
}

func newSyncTiers(t *testing.T, prices []ports.CatalogPrice, stored []ports.TierRecord) (application.SyncTiers, *mocks.MockTierSyncStore) {
	t.Helper()
	ctrl := gomock.NewController(t)
	catalog := mocks.NewMockPriceCatalog(ctrl)
	catalog.EXPECT().Configured().Return(true).AnyTimes()
	catalog.EXPECT().ListActivePrices(gomock.Any()).Return(prices, nil)
	store := mocks.NewMockTierSyncStore(ctrl)
	store.EXPECT().ListAllTiers(gomock.Any()).Return(stored, nil)
	h, err := application.NewSyncTiers(catalog, store)
	if err != nil {
		t.Fatal(err)
	}
	return h, store
}

// TestSyncTiersCreatesUpdatesAndRetires: a price for a seeded tier without
// one updates it (order kept), a price for a new tier creates it after the
// last, an archived price retires its tier, and a tier already in step is
// left alone.
func TestSyncTiersCreatesUpdatesAndRetires(t *testing.T) {
	t.Parallel()
	inStep := ports.TierRecord{ID: "leader", Name: "Tier leader", Description: "About leader", PriceDisplay: "$75 / month", PriceID: "price_l",
		UnitAmount: 7500, Currency: "usd", Interval: "month", IntervalCount: 1, SortOrder: 30, Active: true}
	stored := []ports.TierRecord{
		{ID: "community", Name: "Community", Description: "Seeded.", PriceDisplay: "$15 / month", SortOrder: 10, Active: true},
		inStep,
		{ID: "professional", Name: "Professional", PriceDisplay: "$35 / month", PriceID: "price_old", SortOrder: 20, Active: true},
	}
	prices := []ports.CatalogPrice{monthly("price_c", "community", 1500), monthly("price_l", "leader", 7500), monthly("price_s", "student", 550)}
	h, store := newSyncTiers(t, prices, stored)
	wantUpserts := []ports.TierRecord{
		{ID: "community", Name: "Tier community", Description: "About community", PriceDisplay: "$15 / month", PriceID: "price_c",
			UnitAmount: 1500, Currency: "usd", Interval: "month", IntervalCount: 1, SortOrder: 10, Active: true},
		{ID: "student", Name: "Tier student", Description: "About student", PriceDisplay: "$5.50 / month", PriceID: "price_s",
			UnitAmount: 550, Currency: "usd", Interval: "month", IntervalCount: 1, SortOrder: 40, Active: true},
	}
	store.EXPECT().ApplyTierChanges(gomock.Any(), wantUpserts, []string{"professional"}, gomock.Cond(func(e ports.AuditEntry) bool {
		return e.Action == "tiers.sync" && e.ActorKind == "system" && e.ActorID == "tiers-sync" &&
			reflect.DeepEqual(e.Details["created"], []string{"student"}) && reflect.DeepEqual(e.Details["retired"], []string{"professional"})
	})).Return(nil)
	res, err := h.Handle(context.Background())
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	want := application.TierSyncResult{Prices: 3, Created: []string{"student"}, Updated: []string{"community"}, Retired: []string{"professional"}, Unchanged: []string{"leader"}}
	if !reflect.DeepEqual(res, want) {
		t.Fatalf("result = %+v, want %+v", res, want)
	}
}

// TestSyncTiersSecondRunChangesNothing: a catalogue the tiers already
// follow writes nothing.
func TestSyncTiersSecondRunChangesNothing(t *testing.T) {
	t.Parallel()
	stored := []ports.TierRecord{{ID: "community", Name: "Tier community", Description: "About community", PriceDisplay: "$15 / month",
		PriceID: "price_c", UnitAmount: 1500, Currency: "usd", Interval: "month", IntervalCount: 1, SortOrder: 10, Active: true}}
	h, _ := newSyncTiers(t, []ports.CatalogPrice{monthly("price_c", "community", 1500)}, stored) // no ApplyTierChanges expected
	res, err := h.Handle(context.Background())
	if err != nil || len(res.Unchanged) != 1 || len(res.Created)+len(res.Updated)+len(res.Retired) != 0 {
		t.Fatalf("second run = %+v, %v; want only unchanged", res, err)
	}
}

// TestSyncTiersSkipsWhatItCannotUse: prices that name no tier are ignored;
// an invalid id, a one-time price, an archived product and a tier named by
// two prices are reported and change nothing (the tier of the archived
// price_c is still retired).
func TestSyncTiersSkipsWhatItCannotUse(t *testing.T) {
	t.Parallel()
	oneTime := monthly("price_once", "community", 5000)
	oneTime.Interval = ""
	archivedProduct := monthly("price_arch", "professional", 3500)
	archivedProduct.ProductActive = false
	other := monthly("price_tshirt", "x", 2000)
	other.LookupKey = "tshirt"
	bad := monthly("price_bad", "Gold", 100)
	prices := []ports.CatalogPrice{other, bad, oneTime, archivedProduct, monthly("price_l1", "leader", 7500), monthly("price_l2", "leader", 8000)}
	stored := []ports.TierRecord{{ID: "community", PriceID: "price_c", Active: true}, {ID: "leader", PriceID: "price_l1", Active: true}}
	h, store := newSyncTiers(t, prices, stored)
	store.EXPECT().ApplyTierChanges(gomock.Any(), nil, []string{"community"}, gomock.Any()).Return(nil)
	res, err := h.Handle(context.Background())
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if len(res.Skipped) != 4 || len(res.Created)+len(res.Updated)+len(res.Unchanged) != 0 || !reflect.DeepEqual(res.Retired, []string{"community"}) || res.Prices != 6 {
		t.Fatalf("result = %+v; want 4 skipped and community retired", res)
	}
	var reasons []string
	for _, s := range res.Skipped {
		reasons = append(reasons, s.TierID+": "+s.Reason)
	}
	want := []string{"Gold: the tier id is not valid (a-z, 0-9, _ and -, starting with a letter)", "community: not a recurring price with an amount",
		"professional: its product is archived", "leader: 2 active prices name this tier; archive all but one"}
	if !reflect.DeepEqual(reasons, want) {
		t.Fatalf("skips = %q, want %q", reasons, want)
	}
}

// TestSyncTiersNeverEmptiesThePricingPage: a catalogue in which no price
// names a tier (a wrong key, an empty test account) retires nothing.
func TestSyncTiersNeverEmptiesThePricingPage(t *testing.T) {
	t.Parallel()
	other := monthly("price_tshirt", "x", 2000)
	other.LookupKey = "tshirt"
	stored := []ports.TierRecord{{ID: "community", PriceID: "price_c", Active: true}}
	h, _ := newSyncTiers(t, []ports.CatalogPrice{other}, stored) // no ApplyTierChanges expected
	res, err := h.Handle(context.Background())
	if err != nil || len(res.Retired) != 0 || res.Prices != 1 {
		t.Fatalf("result = %+v, %v; want nothing retired", res, err)
	}
}

// TestSyncTiersUnconfiguredAndFailures: without billing the job's page is
// skipped and Handle says not configured; a failed catalogue read writes
// nothing.
func TestSyncTiersUnconfiguredAndFailures(t *testing.T) {
	t.Parallel()
	ctrl := gomock.NewController(t)
	catalog := mocks.NewMockPriceCatalog(ctrl)
	store := mocks.NewMockTierSyncStore(ctrl)
	h, err := application.NewSyncTiers(catalog, store)
	if err != nil {
		t.Fatal(err)
	}
	catalog.EXPECT().Configured().Return(false).Times(2)
	begun := 0
	counts, err := h.Page(context.Background(), "", func(next string, last bool) error {
		begun++
		if next != "" || !last {
			t.Errorf("begin(%q, %v), want the only page", next, last)
		}
		return nil
	})
	if err != nil || counts["outcome"] != "skipped" || begun != 1 {
		t.Fatalf("unconfigured page = %v, %v (begun %d); want skipped", counts, err, begun)
	}
	if _, err := h.Handle(context.Background()); !errors.Is(err, ports.ErrNotConfigured) {
		t.Fatalf("unconfigured Handle = %v, want ErrNotConfigured", err)
	}
	boom := errors.New("billing: HTTP 500")
	catalog.EXPECT().Configured().Return(true)
	catalog.EXPECT().ListActivePrices(gomock.Any()).Return(nil, boom)
	if _, err := h.Handle(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("failed read = %v, want %v", err, boom)
	}
	if _, err := h.HandleAsAdmin(context.Background()); !errors.Is(err, access.ErrForbidden) {
		t.Fatalf("anonymous HandleAsAdmin = %v, want forbidden (ops:write)", err)
	}
	if _, err := application.NewSyncTiers(nil, store); err == nil {
		t.Fatal("NewSyncTiers(nil, ...) succeeded")
	}
}
