package application

import (
	"context"
	"errors"
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

// AgentReports are the reads behind the agents' starter operations. Each
// authorizes the scopes its schema field declares, so a use outside GraphQL
// is held to the same rule.
type AgentReports struct {
	reports   ports.AgentReports
	people    ports.PersonReader
	finder    ports.PersonFinder
	directory ports.PeopleDirectory
}

// NewAgentReports refuses nil dependencies.
func NewAgentReports(reports ports.AgentReports, people ports.PersonReader, finder ports.PersonFinder, directory ports.PeopleDirectory) (AgentReports, error) {
	if anyNil(reports, people, finder, directory) {
		return AgentReports{}, nilDependency("agent reports")
	}
	return AgentReports{reports: reports, people: people, finder: finder, directory: directory}, nil
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

// MembershipSummary counts memberships (members:read, billing:read).
func (h AgentReports) MembershipSummary(ctx context.Context) (MembershipSummary, error) {
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

// PastDueMembers lists past_due members, hidden ones included (members:read,
// billing:read), redacted for the caller.
func (h AgentReports) PastDueMembers(ctx context.Context, first int) ([]Member, error) {
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

// RecentPaymentFailures lists the newest failure notices with their member
// (members:read, billing:read).
func (h AgentReports) RecentPaymentFailures(ctx context.Context, first int) ([]PaymentFailure, error) {
	p, limit, err := authorizedList(ctx, first, access.ScopeMembersRead, access.ScopeBillingRead)
	if err != nil {
		return nil, err
	}
	notices, err := h.reports.PaymentFailures(ctx, limit)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(notices))
	for _, n := range notices {
		ids = append(ids, n.PersonID)
	}
	people, err := h.people.GetMany(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]PaymentFailure, 0, len(notices))
	for _, n := range notices {
		f := PaymentFailure{At: n.At, InvoiceID: n.InvoiceID, Attempt: n.Attempt}
		if person, ok := people[n.PersonID]; ok {
			m := view(p, person)
			f.Person = &m
		}
		out = append(out, f)
	}
	return out, nil
}

// MemberByEmail finds the person with a verified address (members:read,
// members:read:pii). Nobody, or several people, is ErrNotFound.
func (h AgentReports) MemberByEmail(ctx context.Context, email string) (Member, error) {
	p := PrincipalFrom(ctx)
	if err := access.Authorize(p, access.ScopeMembersRead, access.ScopeMembersReadPII); err != nil {
		return Member{}, err
	}
	person, err := h.finder.GetByEmail(ctx, email)
	if errors.Is(err, ports.ErrAmbiguous) {
		return Member{}, fmt.Errorf("%w: several people hold that address", ErrNotFound)
	}
	if err != nil {
		return Member{}, err
	}
	return view(p, person), nil
}

// MemberTimeline is the person's history, newest first (members:read,
// audit:read).
func (h AgentReports) MemberTimeline(ctx context.Context, personID string, first int) ([]ports.TimelineEntry, error) {
	_, limit, err := authorizedList(ctx, first, access.ScopeMembersRead, access.ScopeAuditRead)
	if err != nil {
		return nil, err
	}
	return h.reports.Timeline(ctx, personID, limit)
}

// RecentRSVPDecisions lists the approval job's newest decisions (events:read).
func (h AgentReports) RecentRSVPDecisions(ctx context.Context, first int) ([]ports.RSVPDecisionRecord, error) {
	_, limit, err := authorizedList(ctx, first, access.ScopeEventsRead)
	if err != nil {
		return nil, err
	}
	return h.reports.RSVPDecisions(ctx, limit)
}
