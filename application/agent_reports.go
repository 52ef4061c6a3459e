package application

import (
	"context"
	"fmt"
	"time"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

// MaxReportRows bounds every list of the agent reports.
const MaxReportRows = 200

// MembershipSummary counts memberships by status, by tier, and by both.
type MembershipSummary struct {
	Total           int
	ByStatus        map[membership.Status]int
	ByTier          map[string]int
	ByStatusAndTier []MembershipCount
}

// MembershipCount is the count of one status and tier.
type MembershipCount struct {
	Status membership.Status
	Tier   string
	Count  int
}

// PaymentFailure is a failed payment attempt with the member, redacted for
// the caller.
type PaymentFailure struct {
	At        time.Time
	InvoiceID string
	Attempt   int
	Person    *Member // nil when the person is gone
}

// authorizedList checks the caller's scopes, then the list's size.
func authorizedList(ctx context.Context, first int, scopes ...access.Scope) (access.Principal, int, error) {
	p := PrincipalFrom(ctx)
	if err := access.Authorize(p, scopes...); err != nil {
		return p, 0, err
	}
	if first < 1 || first > MaxReportRows {
		return p, 0, invalid("first must be between 1 and %d", MaxReportRows)
	}
	return p, first, nil
}

// GetMembershipSummary counts memberships by status and tier for the
// finance agent (members:read, billing:read).
type GetMembershipSummary struct{ reports ports.AgentReports }

// NewGetMembershipSummary refuses a nil store.
func NewGetMembershipSummary(reports ports.AgentReports) (GetMembershipSummary, error) {
	if anyNil(reports) {
		return GetMembershipSummary{}, nilDependency("get membership summary")
	}
	return GetMembershipSummary{reports: reports}, nil
}

// Handle counts, in one statement.
func (h GetMembershipSummary) Handle(ctx context.Context) (MembershipSummary, error) {
	if err := access.Authorize(PrincipalFrom(ctx), access.ScopeMembersRead, access.ScopeBillingRead); err != nil {
		return MembershipSummary{}, err
	}
	counts, err := h.reports.MembershipCounts(ctx)
	if err != nil {
		return MembershipSummary{}, err
	}
	out := MembershipSummary{ByStatus: map[membership.Status]int{}, ByTier: map[string]int{}}
	for _, c := range counts {
		st, err := membership.ParseStatus(c.Status)
		if err != nil {
			return MembershipSummary{}, fmt.Errorf("membership summary: %w", err)
		}
		out.Total += c.Count
		out.ByStatus[st] += c.Count
		out.ByTier[c.Tier] += c.Count
		out.ByStatusAndTier = append(out.ByStatusAndTier, MembershipCount{Status: st, Tier: c.Tier, Count: c.Count})
	}
	return out, nil
}

// ListPastDueMembers lists past_due members, hidden ones included, for the
// finance agent (members:read, billing:read), redacted for the caller.
type ListPastDueMembers struct{ directory ports.PeopleDirectory }

// NewListPastDueMembers refuses a nil directory.
func NewListPastDueMembers(directory ports.PeopleDirectory) (ListPastDueMembers, error) {
	if anyNil(directory) {
		return ListPastDueMembers{}, nilDependency("list past due members")
	}
	return ListPastDueMembers{directory: directory}, nil
}

// Handle returns up to first members.
func (h ListPastDueMembers) Handle(ctx context.Context, first int) ([]Member, error) {
	p, limit, err := authorizedList(ctx, first, access.ScopeMembersRead, access.ScopeBillingRead)
	if err != nil {
		return nil, err
	}
	page, err := h.directory.Directory(ctx, ports.DirectoryFilter{IncludeHidden: true, Statuses: []membership.Status{membership.StatusPastDue}, Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]Member, 0, len(page.People))
	for _, person := range page.People {
		out = append(out, view(p, person))
	}
	return out, nil
}
