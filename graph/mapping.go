package graph

import (
	"fmt"
	"math"
	"strings"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/membership"
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

func mapMember(m application.Member) *model.Person {
	out := &model.Person{ID: m.ID, FirstName: m.FirstName, LastName: m.LastName, Role: model.Role(strings.ToUpper(m.Role.String()))}
	if m.Email != "" {
		email := m.Email
		out.Email = &email
	}
	return out
}

func mapMembership(v application.MembershipView) *model.Membership {
	out := &model.Membership{
		Status:            model.MembershipStatus(strings.ToUpper(v.Status.String())),
		CancelAtPeriodEnd: v.CancelAtPeriodEnd,
		Visible:           v.Visible,
		VisibleByDefault:  membership.VisibleByDefault,
		DirectoryListing:  directoryListings[membership.ListingOf(v.HasAccess, v.Visible)],
		Alumni:            v.Alumni,
	}
	if v.Tier != "" {
		tier := v.Tier
		out.Tier = &tier
	}
	if !v.CurrentPeriodEnd.IsZero() {
		end := v.CurrentPeriodEnd
		out.CurrentPeriodEnd = &end
	}
	return out
}

func mapMemberPage(p application.MemberPage) *model.MemberConnection {
	out := &model.MemberConnection{Edges: make([]model.MemberEdge, 0, len(p.Members)), PageInfo: &model.PageInfo{HasNextPage: p.HasMore}}
	for i, m := range p.Members {
		out.Edges = append(out.Edges, model.MemberEdge{Cursor: p.Cursors[i], Node: mapMember(m)})
	}
	if n := len(p.Cursors); n > 0 {
		end := p.Cursors[n-1]
		out.PageInfo.EndCursor = &end
	}
	return out
}

func memberFilter(f *model.MemberFilter) (application.ListMembersInput, error) {
	var out application.ListMembersInput
	if f == nil {
		return out, nil
	}
	if f.IncludeHidden != nil {
		out.IncludeHidden = *f.IncludeHidden
	}
	for _, s := range f.Statuses {
		st, err := membership.ParseStatus(strings.ToLower(string(s)))
		if err != nil {
			return out, fmt.Errorf("%w: %w", application.ErrInvalidInput, err)
		}
		out.Statuses = append(out.Statuses, st)
	}
	return out, nil
}

func domainRole(r model.Role) (access.Role, error) {
	role, err := access.ParseRole(strings.ToLower(string(r)))
	if err != nil {
		return role, fmt.Errorf("%w: %w", application.ErrInvalidInput, err)
	}
	return role, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
