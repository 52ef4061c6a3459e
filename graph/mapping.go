package graph

import (
	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/graph/model"
)

func mapTiers(in []application.MembershipTier) []model.MembershipTier {
	out := make([]model.MembershipTier, 0, len(in))
	for _, t := range in {
		out = append(out, model.MembershipTier{
			ID:           t.ID,
			Name:         t.Name,
			Description:  t.Description,
			PriceDisplay: t.PriceDisplay,
			SortOrder:    int32(t.SortOrder), //nolint:gosec // sort orders are small by the table's design
		})
	}
	return out
}
