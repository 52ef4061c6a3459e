package ports

import (
	"context"
	"time"
)

//go:generate go tool mockgen -destination=mocks/agent_reports.go -package=mocks . AgentReports

// MembershipCount is how many memberships have one status and tier.
type MembershipCount struct {
	Status string
	Tier   string
	Count  int
}

// PaymentFailureNotice is one failed payment attempt a member was told about.
type PaymentFailureNotice struct {
	At        time.Time
	InvoiceID string
	Attempt   int
	PersonID  string
}

// TimelineEntry is one event in a person's history.
type TimelineEntry struct {
	At      time.Time
	Kind    string
	Outcome string
	Details map[string]any
}

// RSVPDecisionRecord is one applied decision of the approval job.
type RSVPDecisionRecord struct {
	EventID   string
	EventName string
	Outcome   string
	Reason    string
	DecidedAt time.Time
}

// AgentReports are the reads of the agents' starter operations; each
// returns at most limit rows (1..1000), newest first where there is an order.
type AgentReports interface {
	MembershipCounts(ctx context.Context) ([]MembershipCount, error)
	PaymentFailures(ctx context.Context, limit int) ([]PaymentFailureNotice, error)
	// Timeline merges the person's audit entries and their RSVP decisions.
	Timeline(ctx context.Context, personID string, limit int) ([]TimelineEntry, error)
	RSVPDecisions(ctx context.Context, limit int) ([]RSVPDecisionRecord, error)
}
