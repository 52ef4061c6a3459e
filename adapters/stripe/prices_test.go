package stripe_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/womendefiningai/platform/adapters/stripe"
	"github.com/womendefiningai/platform/adapters/stripe/stripefake"
)

// TestListActivePricesAgainstStripeMock: the price list request (active,
// recurring, product expanded) is one Stripe's spec accepts, and the
// answer maps to a catalogue price with its product.
func TestListActivePricesAgainstStripeMock(t *testing.T) {
	t.Parallel()
	root := stripefake.StartStripeMockCatalog(t)
	b, err := stripe.NewBilling(stripe.Config{SecretKey: stripefake.StripeMockKey, APIURL: root})
	if err != nil {
		t.Fatal(err)
	}
	prices, err := b.ListActivePrices(context.Background())
	if err != nil {
		t.Fatalf("ListActivePrices: %v", err)
	}
	if len(prices) != 1 {
		t.Fatalf("prices = %+v, want stripe-mock's one", prices)
	}
	p := prices[0]
	if p.ID != stripefake.StripeMockCatalogPriceID || p.LookupKey != "wdai_tier_community" || p.UnitAmount != 2000 || p.Currency != "usd" ||
		p.Interval != "month" || p.IntervalCount != 1 || p.ProductName != "Community" || !p.ProductActive || p.ProductID == "" {
		t.Fatalf("price = %+v", p)
	}
}

// TestListActivePricesReadsEveryPage: 150 prices come in two pages of 100
// with their products; a catalogue over MaxCatalogPrices is refused, not
// read in part (worst cost: 11 list calls).
func TestListActivePricesReadsEveryPage(t *testing.T) {
	t.Parallel()
	fake, b := newFake(t)
	catalogue := func(n int) []stripefake.Price {
		out := make([]stripefake.Price, n)
		for i := range out {
			out[i] = stripefake.Price{ID: fmt.Sprintf("price_%04d", i), Active: true, UnitAmount: 1500, Currency: "usd", Interval: "month",
				ProductID: "prod_1", ProductName: "Community", ProductActive: true, ProductMetadata: map[string]string{"wdai_tier": "community"}}
		}
		return out
	}
	fake.SetPrices(append(catalogue(150), stripefake.Price{ID: "price_archived", ProductID: "prod_1", Currency: "usd", Interval: "month"})...)
	prices, err := b.ListActivePrices(context.Background())
	if err != nil {
		t.Fatalf("ListActivePrices: %v", err)
	}
	if len(prices) != 150 || prices[149].ID != "price_0149" || prices[0].ProductMetadata["wdai_tier"] != "community" {
		t.Fatalf("got %d prices, last %+v", len(prices), prices[len(prices)-1])
	}
	lists := 0
	for _, r := range fake.Requests() {
		if r.Path == "/v1/prices" {
			lists++
		}
	}
	if lists != 2 {
		t.Fatalf("%d list calls, want 2 pages", lists)
	}

	fake.SetPrices(catalogue(stripe.MaxCatalogPrices + 1)...)
	if _, err := b.ListActivePrices(context.Background()); err == nil || !strings.Contains(err.Error(), "more than 1000") {
		t.Fatalf("oversized catalogue: %v, want refused", err)
	}
}
