package membership_test

import (
	"testing"

	"github.com/womendefiningai/platform/domain/membership"
)

func TestMatchTier(t *testing.T) {
	t.Parallel()
	tier := func(id string) map[string]string { return map[string]string{membership.TierMetadataKey: id} }
	for name, c := range map[string]struct {
		lookup         string
		price, product map[string]string
		wantID         string
		wantInvalid    bool
	}{
		"lookup key":                         {lookup: "wdai_tier_community", wantID: "community"},
		"lookup key wins over metadata":      {lookup: "wdai_tier_leader", price: tier("community"), product: tier("student"), wantID: "leader"},
		"price metadata wins over product's": {price: tier("professional"), product: tier("community"), wantID: "professional"},
		"product metadata":                   {product: tier(" community "), wantID: "community"},
		"another lookup key, then metadata":  {lookup: "gold_monthly", product: tier("leader"), wantID: "leader"},
		"nothing names a tier":               {lookup: "gold_monthly", price: map[string]string{"other": "x"}},
		"blank metadata":                     {product: tier("  ")},
		"invalid id":                         {lookup: "wdai_tier_Gold Plan", wantID: "Gold Plan", wantInvalid: true},
		"empty id after the prefix":          {lookup: "wdai_tier_", wantID: "", wantInvalid: true},
	} {
		got := membership.MatchTier(c.lookup, c.price, c.product)
		if got.TierID != c.wantID || got.Invalid != c.wantInvalid {
			t.Errorf("%s: MatchTier = %+v, want id %q invalid %v", name, got, c.wantID, c.wantInvalid)
		}
	}
}

func TestTierOrder(t *testing.T) {
	t.Parallel()
	order := func(v string) map[string]string { return map[string]string{membership.TierOrderMetadataKey: v} }
	for _, c := range []struct {
		price, product map[string]string
		want           int
		ok             bool
	}{
		{price: order("20"), product: order("5"), want: 20, ok: true},
		{product: order(" 5 "), want: 5, ok: true},
		{price: order("first"), product: order("7"), want: 7, ok: true},
		{price: order("-1")},
		{},
	} {
		got, ok := membership.TierOrder(c.price, c.product)
		if got != c.want || ok != c.ok {
			t.Errorf("TierOrder(%v, %v) = %d, %v; want %d, %v", c.price, c.product, got, ok, c.want, c.ok)
		}
	}
}

func TestPriceDisplay(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		amount   int64
		currency string
		interval string
		count    int
		want     string
	}{
		{1500, "usd", "month", 1, "$15 / month"},
		{1550, "USD", "month", 1, "$15.50 / month"},
		{15000, "eur", "year", 1, "€150 / year"},
		{4000, "usd", "month", 3, "$40 / 3 months"},
		{1000, "jpy", "month", 1, "¥1000 / month"},
		{1205, "chf", "week", 0, "CHF 12.05 / week"},
		{500, "gbp", "", 0, "£5"},
	} {
		if got := membership.PriceDisplay(c.amount, c.currency, c.interval, c.count); got != c.want {
			t.Errorf("PriceDisplay(%d, %s, %s, %d) = %q, want %q", c.amount, c.currency, c.interval, c.count, got, c.want)
		}
	}
}
