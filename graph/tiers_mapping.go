package graph

import (
	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/graph/model"
)

func mapTierSync(r application.TierSyncResult) *model.TierSyncResult {
	orEmpty := func(ids []string) []string {
		if ids == nil {
			return []string{}
		}
		return ids
	}
	out := &model.TierSyncResult{Prices: int32(min(r.Prices, 1<<31-1)), Created: orEmpty(r.Created), Updated: orEmpty(r.Updated), //nolint:gosec // bounded above
		Retired: orEmpty(r.Retired), Unchanged: orEmpty(r.Unchanged), Skipped: make([]model.TierSyncSkip, 0, len(r.Skipped))}
	for _, s := range r.Skipped {
		skip := model.TierSyncSkip{Reason: s.Reason}
		if s.PriceID != "" {
			skip.PriceID = &s.PriceID
		}
		if s.TierID != "" {
			skip.TierID = &s.TierID
		}
		out.Skipped = append(out.Skipped, skip)
	}
	return out
}

var directoryListings = map[membership.DirectoryListing]model.DirectoryListing{
	membership.ListingListed:         model.DirectoryListingListed,
	membership.ListingOptInAvailable: model.DirectoryListingOptInAvailable,
	membership.ListingNotEligible:    model.DirectoryListingNotEligible,
}
