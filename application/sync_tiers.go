package application

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

// TierSkip is a price, or a tier, the sync left alone, and why.
type TierSkip struct {
	PriceID string
	TierID  string
	Reason  string
}

// TierSyncResult says what a tier sync did; a second run over the same
// catalogue reports only Unchanged.
type TierSyncResult struct {
	// Prices is how many active recurring prices the catalogue holds.
	Prices    int
	Created   []string
	Updated   []string
	Retired   []string
	Unchanged []string
	Skipped   []TierSkip
}

// Counts is the result as a job run's summary.
func (r TierSyncResult) Counts() map[string]any {
	return map[string]any{"prices": r.Prices, "created": len(r.Created), "updated": len(r.Updated),
		"retired": len(r.Retired), "unchanged": len(r.Unchanged), "skipped": len(r.Skipped)}
}

// SyncTiers keeps the tiers in step with the billing provider's catalogue:
// every active recurring price that names a tier (membership.MatchTier)
// creates or updates that tier (name and description from the product,
// price id, amount, currency, interval, display price, order), and a tier
// whose price is no longer active is retired (kept, not buyable). A tier
// named by two active prices is left as it is and reported. When no price
// names a tier at all, nothing is retired: a catalogue read with the wrong
// key (or an empty test account) does not empty the pricing page.
type SyncTiers struct {
	prices ports.PriceCatalog
	tiers  ports.TierSyncStore
}

// NewSyncTiers refuses nil dependencies.
func NewSyncTiers(prices ports.PriceCatalog, tiers ports.TierSyncStore) (SyncTiers, error) {
	if anyNil(prices, tiers) {
		return SyncTiers{}, nilDependency("sync tiers")
	}
	return SyncTiers{prices: prices, tiers: tiers}, nil
}

// Page runs the sync as the single page of a job: it reads the catalogue
// and writes idempotently, so it may run twice.
func (h SyncTiers) Page(ctx context.Context, _ string, begin BeginPage) (map[string]any, error) {
	if begin == nil {
		return nil, invalid("sync tiers: no BeginPage")
	}
	if err := begin("", true); err != nil {
		return nil, err
	}
	if !h.prices.Configured() {
		return skipped("not configured"), nil
	}
	res, err := h.Handle(ctx)
	if err != nil {
		return nil, err
	}
	return res.Counts(), nil
}

var tiersSystem = systemPrincipal("tiers-sync")

// HandleAsAdmin is the admin mutation's entry: it needs ops:write.
func (h SyncTiers) HandleAsAdmin(ctx context.Context) (TierSyncResult, error) {
	if err := requireScope(ctx, access.ScopeOpsWrite, "sync tiers"); err != nil {
		return TierSyncResult{}, err
	}
	return h.Handle(ctx)
}

// Handle syncs the tiers once. A sync that changes tiers is audited in the
// same transaction, as the signed-in caller or else as the system.
func (h SyncTiers) Handle(ctx context.Context) (TierSyncResult, error) {
	if !h.prices.Configured() {
		return TierSyncResult{}, notConfigured(h.prices)
	}
	prices, err := h.prices.ListActivePrices(ctx)
	if err != nil {
		return TierSyncResult{}, fmt.Errorf("sync tiers: %w", err)
	}
	stored, err := h.tiers.ListAllTiers(ctx)
	if err != nil {
		return TierSyncResult{}, fmt.Errorf("sync tiers: %w", err)
	}
	res, upserts, retire := planTierSync(prices, stored)
	if len(upserts)+len(retire) == 0 {
		return res, nil
	}
	who := PrincipalFrom(ctx)
	if who.IsAnonymous() {
		who = tiersSystem
	}
	audit := actor(who, ports.AuditEntry{Action: "tiers.sync", SubjectKind: "membership_tiers", Outcome: ports.OutcomeSuccess,
		Details: map[string]any{"created": res.Created, "updated": res.Updated, "retired": res.Retired, "prices": res.Prices}})
	if err := h.tiers.ApplyTierChanges(ctx, upserts, retire, audit); err != nil {
		return TierSyncResult{}, fmt.Errorf("sync tiers: %w", err)
	}
	return res, nil
}

// planTierSync compares the catalogue with the stored tiers.
func planTierSync(prices []ports.CatalogPrice, stored []ports.TierRecord) (TierSyncResult, []ports.TierRecord, []string) {
	res := TierSyncResult{Prices: len(prices)}
	byTier := map[string][]ports.CatalogPrice{}
	for _, p := range prices {
		m := membership.MatchTier(p.LookupKey, p.Metadata, p.ProductMetadata)
		switch {
		case m.TierID == "":
			continue // not a membership price
		case m.Invalid:
			res.Skipped = append(res.Skipped, TierSkip{PriceID: p.ID, TierID: m.TierID, Reason: "the tier id is not valid (a-z, 0-9, _ and -, starting with a letter)"})
		case p.Interval == "" || p.UnitAmount <= 0 || p.Currency == "":
			res.Skipped = append(res.Skipped, TierSkip{PriceID: p.ID, TierID: m.TierID, Reason: "not a recurring price with an amount"})
		case !p.ProductActive:
			res.Skipped = append(res.Skipped, TierSkip{PriceID: p.ID, TierID: m.TierID, Reason: "its product is archived"})
		default:
			byTier[m.TierID] = append(byTier[m.TierID], p)
		}
	}
	old := map[string]ports.TierRecord{}
	nextOrder := 0
	for _, t := range stored {
		old[t.ID] = t
		nextOrder = max(nextOrder, t.SortOrder)
	}
	var upserts []ports.TierRecord
	for _, id := range slices.Sorted(maps.Keys(byTier)) {
		ps := byTier[id]
		if len(ps) > 1 {
			res.Skipped = append(res.Skipped, TierSkip{TierID: id, Reason: fmt.Sprintf("%d active prices name this tier; archive all but one", len(ps))})
			continue
		}
		prev, exists := old[id]
		want := tierFromPrice(ps[0], prev, exists, &nextOrder)
		switch {
		case !exists:
			res.Created = append(res.Created, id)
		case want == prev:
			res.Unchanged = append(res.Unchanged, id)
			continue
		default:
			res.Updated = append(res.Updated, id)
		}
		upserts = append(upserts, want)
	}
	var retire []string
	for _, t := range stored {
		_, named := byTier[t.ID]
		if t.Active && t.PriceID != "" && !named && len(byTier) > 0 {
			retire = append(retire, t.ID)
		}
	}
	res.Retired = retire
	return res, upserts, retire
}

// tierFromPrice is the tier a price describes; the order and, when the
// product has none, the description are kept from the stored tier.
func tierFromPrice(p ports.CatalogPrice, prev ports.TierRecord, exists bool, nextOrder *int) ports.TierRecord {
	t := ports.TierRecord{
		ID: prev.ID, Name: cmp.Or(p.ProductName, prev.Name, p.ID), Description: cmp.Or(p.ProductDescription, prev.Description),
		PriceDisplay: membership.PriceDisplay(p.UnitAmount, p.Currency, p.Interval, p.IntervalCount),
		PriceID:      p.ID, UnitAmount: p.UnitAmount, Currency: p.Currency, Interval: p.Interval, IntervalCount: max(p.IntervalCount, 1),
		SortOrder: prev.SortOrder, Active: true,
	}
	if !exists {
		t.ID = membership.MatchTier(p.LookupKey, p.Metadata, p.ProductMetadata).TierID
		*nextOrder += 10
		t.SortOrder = *nextOrder
	}
	if n, ok := membership.TierOrder(p.Metadata, p.ProductMetadata); ok {
		t.SortOrder = n
	}
	return t
}
