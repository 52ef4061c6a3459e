package application

import (
	"context"
	"errors"
	"fmt"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/ports"
)

// ListPaymentFailures lists the newest payment failure notices with their
// member for the finance agent (members:read, billing:read).
type ListPaymentFailures struct {
	reports ports.AgentReports
	people  ports.PersonReader
}

// NewListPaymentFailures refuses nil dependencies.
func NewListPaymentFailures(reports ports.AgentReports, people ports.PersonReader) (ListPaymentFailures, error) {
	if anyNil(reports, people) {
		return ListPaymentFailures{}, nilDependency("list payment failures")
	}
	return ListPaymentFailures{reports: reports, people: people}, nil
}

// Handle returns up to first failures, newest first, in two statements.
func (h ListPaymentFailures) Handle(ctx context.Context, first int) ([]PaymentFailure, error) {
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

// FindMemberByEmail finds the person holding a verified address for the
// support agent (members:read, members:read:pii).
type FindMemberByEmail struct{ finder ports.PersonFinder }

// NewFindMemberByEmail refuses a nil finder.
func NewFindMemberByEmail(finder ports.PersonFinder) (FindMemberByEmail, error) {
	if anyNil(finder) {
		return FindMemberByEmail{}, nilDependency("find member by email")
	}
	return FindMemberByEmail{finder: finder}, nil
}

// Handle returns the person; nobody, or several people, is ErrNotFound.
func (h FindMemberByEmail) Handle(ctx context.Context, email string) (Member, error) {
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

// GetMemberTimeline is a person's history, newest first, for the support
// agent (members:read, audit:read).
type GetMemberTimeline struct{ reports ports.AgentReports }

// NewGetMemberTimeline refuses a nil store.
func NewGetMemberTimeline(reports ports.AgentReports) (GetMemberTimeline, error) {
	if anyNil(reports) {
		return GetMemberTimeline{}, nilDependency("get member timeline")
	}
	return GetMemberTimeline{reports: reports}, nil
}

// Handle returns up to first entries.
func (h GetMemberTimeline) Handle(ctx context.Context, personID string, first int) ([]ports.TimelineEntry, error) {
	_, limit, err := authorizedList(ctx, first, access.ScopeMembersRead, access.ScopeAuditRead)
	if err != nil {
		return nil, err
	}
	return h.reports.Timeline(ctx, personID, limit)
}

// ListRSVPDecisions lists the approval job's newest decisions for the
// engagement agent (events:read).
type ListRSVPDecisions struct{ reports ports.AgentReports }

// NewListRSVPDecisions refuses a nil store.
func NewListRSVPDecisions(reports ports.AgentReports) (ListRSVPDecisions, error) {
	if anyNil(reports) {
		return ListRSVPDecisions{}, nilDependency("list rsvp decisions")
	}
	return ListRSVPDecisions{reports: reports}, nil
}

// Handle returns up to first decisions.
func (h ListRSVPDecisions) Handle(ctx context.Context, first int) ([]ports.RSVPDecisionRecord, error) {
	_, limit, err := authorizedList(ctx, first, access.ScopeEventsRead)
	if err != nil {
		return nil, err
	}
	return h.reports.RSVPDecisions(ctx, limit)
}
