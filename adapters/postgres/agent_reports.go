package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/womendefiningai/platform/ports"
)

// AgentReports implements ports.AgentReports: aggregate and recent reads
// for the agents' starter operations, each one statement.
type AgentReports struct{ q Querier }

var _ ports.AgentReports = (*AgentReports)(nil)

// NewAgentReports returns the reports on q.
func NewAgentReports(q Querier) *AgentReports { return &AgentReports{q: q} }

// MembershipCounts counts memberships by status and tier.
func (r *AgentReports) MembershipCounts(ctx context.Context) ([]ports.MembershipCount, error) {
	rows, err := r.q.Query(ctx, `SELECT status, tier, count(*) FROM memberships GROUP BY status, tier ORDER BY status, tier`)
	if err != nil {
		return nil, fmt.Errorf("postgres: membership counts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ports.MembershipCount, error) {
		var c ports.MembershipCount
		err := row.Scan(&c.Status, &c.Tier, &c.Count)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: membership counts: %w", err)
	}
	return out, nil
}

// PaymentFailures returns the newest payment failure notices.
func (r *AgentReports) PaymentFailures(ctx context.Context, limit int) ([]ports.PaymentFailureNotice, error) {
	rows, err := r.q.Query(ctx, `SELECT created_at, invoice_id, attempt, person_id::text FROM payment_failure_notices
		ORDER BY created_at DESC, invoice_id, attempt LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: payment failures: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ports.PaymentFailureNotice, error) {
		var n ports.PaymentFailureNotice
		err := row.Scan(&n.At, &n.InvoiceID, &n.Attempt, &n.PersonID)
		return n, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: payment failures: %w", err)
	}
	return out, nil
}

// Timeline merges the audit entries about the person (membership changes,
// syncs, role and profile changes) with their applied RSVP decisions.
func (r *AgentReports) Timeline(ctx context.Context, personID string, limit int) ([]ports.TimelineEntry, error) {
	if !isUUID(personID) {
		return nil, nil
	}
	rows, err := r.q.Query(ctx, `(SELECT at, action, outcome, details FROM audit_log
			WHERE subject_kind = 'person' AND subject_id = $1 ORDER BY at DESC, id DESC LIMIT $2)
		UNION ALL
		(SELECT d.decided_at, 'rsvp.' || d.outcome, 'success',
			jsonb_build_object('event_id', d.event_id, 'event_name', e.name, 'reason', d.reason)
		FROM rsvp_decisions d JOIN events e ON e.id = d.event_id
		WHERE d.person_id = $1::uuid AND d.state = 'applied' ORDER BY d.decided_at DESC LIMIT $2)
		ORDER BY 1 DESC LIMIT $2`, personID, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: timeline: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ports.TimelineEntry, error) {
		var e ports.TimelineEntry
		var details []byte
		if err := row.Scan(&e.At, &e.Kind, &e.Outcome, &details); err != nil {
			return e, err
		}
		return e, json.Unmarshal(details, &e.Details)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: timeline: %w", err)
	}
	return out, nil
}

// RSVPDecisions returns the newest applied decisions with their event's name.
func (r *AgentReports) RSVPDecisions(ctx context.Context, limit int) ([]ports.RSVPDecisionRecord, error) {
	rows, err := r.q.Query(ctx, `SELECT d.event_id::text, e.name, d.outcome, d.reason, d.decided_at
		FROM rsvp_decisions d JOIN events e ON e.id = d.event_id
		WHERE d.state = 'applied' ORDER BY d.decided_at DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: rsvp decisions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ports.RSVPDecisionRecord, error) {
		var d ports.RSVPDecisionRecord
		err := row.Scan(&d.EventID, &d.EventName, &d.Outcome, &d.Reason, &d.DecidedAt)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: rsvp decisions: %w", err)
	}
	return out, nil
}
