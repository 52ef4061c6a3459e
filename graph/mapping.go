package graph

import (
	"math"
	"strings"

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

func mapDeadLetter(dl application.DeadLetter) *model.DeadLetter {
	out := &model.DeadLetter{
		ID:            dl.ID,
		MessageID:     dl.MessageID,
		Topic:         dl.Topic,
		Handler:       dl.Handler,
		Reason:        dl.Reason,
		Payload:       string(dl.Payload),
		Attempts:      int32(min(dl.Attempts, math.MaxInt32)), //nolint:gosec // clamped
		Status:        model.DeadLetterStatus(strings.ToUpper(string(dl.Status))),
		FirstFailedAt: dl.FirstFailedAt,
		LastFailedAt:  dl.LastFailedAt,
	}
	if !dl.ResolvedAt.IsZero() {
		at := dl.ResolvedAt
		out.ResolvedAt = &at
		out.ResolvedBy = &dl.ResolvedBy
		out.ResolutionNote = &dl.ResolutionNote
	}
	return out
}

func deadLetterStatus(s *model.DeadLetterStatus) application.DeadLetterStatus {
	if s == nil {
		return ""
	}
	return application.DeadLetterStatus(strings.ToLower(string(*s)))
}
