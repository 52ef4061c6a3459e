package stripe

import (
	"context"
	"fmt"

	stripego "github.com/stripe/stripe-go/v76"

	"github.com/womendefiningai/platform/ports"
)

// MaxCatalogPrices bounds ListActivePrices: ten pages of 100. A catalogue
// larger than that is refused rather than read in part (a partial read
// would retire the tiers on the unread pages).
const MaxCatalogPrices = 1000

var _ ports.PriceCatalog = (*Billing)(nil)

// ListActivePrices lists the active recurring prices with their products
// (expanded in the same call), 100 a page.
func (b *Billing) ListActivePrices(ctx context.Context) ([]ports.CatalogPrice, error) {
	if !b.Configured() {
		return nil, ports.ErrNotConfigured
	}
	params := &stripego.PriceListParams{Active: stripego.Bool(true), Type: stripego.String(string(stripego.PriceTypeRecurring))}
	params.Context = ctx
	params.Limit = stripego.Int64(100)
	params.AddExpand("data.product")
	var out []ports.CatalogPrice
	it := b.api.Prices.List(params)
	for it.Next() {
		if len(out) == MaxCatalogPrices {
			return nil, fmt.Errorf("stripe: list prices: more than %d active recurring prices; archive unused ones", MaxCatalogPrices)
		}
		out = append(out, catalogPrice(it.Price()))
	}
	if err := it.Err(); err != nil {
		return nil, b.fail("list prices", err)
	}
	return out, nil
}

func catalogPrice(p *stripego.Price) ports.CatalogPrice {
	c := ports.CatalogPrice{ID: p.ID, LookupKey: p.LookupKey, Metadata: p.Metadata, UnitAmount: p.UnitAmount, Currency: string(p.Currency)}
	if p.Recurring != nil {
		c.Interval, c.IntervalCount = string(p.Recurring.Interval), int(p.Recurring.IntervalCount)
	}
	if p.Product != nil {
		c.ProductID, c.ProductName, c.ProductDescription = p.Product.ID, p.Product.Name, p.Product.Description
		c.ProductActive, c.ProductMetadata = p.Product.Active, p.Product.Metadata
	}
	return c
}
