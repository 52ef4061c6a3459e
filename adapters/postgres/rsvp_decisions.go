package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/womendefiningai/platform/domain/approval"
	"github.com/womendefiningai/platform/ports"
)

// RSVPDecisions implements ports.RSVPDecisions on rsvp_decisions, whose
// primary key (event_id, guest_id) makes one decision per guest.
type RSVPDecisions struct {
	q Querier
}

var _ ports.RSVPDecisions = (*RSVPDecisions)(nil)

// NewRSVPDecisions returns the decisions on q.
func NewRSVPDecisions(q Querier) *RSVPDecisions { return &RSVPDecisions{q: q} }

// Claim inserts d, or replaces a decision that left the guest pending with
// one that does not, or takes over a claim older than stale that was never
// applied. A concurrent claim of the same guest waits for the first to
// commit and then finds it: one of them wins.
func (s *RSVPDecisions) Claim(ctx context.Context, d ports.RSVPDecision, stale time.Duration) (bool, error) {
	if d.EventID == "" || d.GuestID == "" || d.Reason == 0 {
		return false, errors.New("postgres: claim rsvp decision: event, guest and reason are required")
	}
	if _, err := approval.ParseOutcome(d.Outcome.String()); err != nil {
		return false, fmt.Errorf("postgres: claim rsvp decision: %w", err)
	}
	var person *string
	if d.PersonID != "" {
		person = &d.PersonID
	}
	state := "claimed"
	if d.Outcome == approval.LeavePending {
		state = "applied"
	}
	var one int
	err := s.q.QueryRow(ctx, `
		INSERT INTO rsvp_decisions AS r (event_id, guest_id, person_id, outcome, reason, state, run_id, decided_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $6 = 'applied' THEN now() END)
		ON CONFLICT (event_id, guest_id) DO UPDATE SET person_id = EXCLUDED.person_id, outcome = EXCLUDED.outcome,
			reason = EXCLUDED.reason, state = EXCLUDED.state, run_id = EXCLUDED.run_id,
			claimed_at = now(), decided_at = EXCLUDED.decided_at
		WHERE (r.state = 'applied' AND r.outcome = 'leave_pending' AND EXCLUDED.outcome <> 'leave_pending')
		   OR (r.state = 'claimed' AND r.claimed_at < now() - $8::bigint * interval '1 microsecond')
		RETURNING 1`,
		d.EventID, d.GuestID, person, d.Outcome.String(), d.Reason.String(), state, d.RunID, stale.Microseconds()).Scan(&one)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("postgres: claim rsvp decision: %w", err)
	}
	return true, nil
}

// Applied marks runID's claim applied.
func (s *RSVPDecisions) Applied(ctx context.Context, eventID, guestID, runID string) (bool, error) {
	tag, err := s.q.Exec(ctx, `UPDATE rsvp_decisions SET state = 'applied', decided_at = now()
		WHERE event_id = $1 AND guest_id = $2 AND run_id = $3 AND state = 'claimed'`, eventID, guestID, runID)
	if err != nil {
		return false, fmt.Errorf("postgres: apply rsvp decision: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// Release deletes runID's claim that was never applied.
func (s *RSVPDecisions) Release(ctx context.Context, eventID, guestID, runID string) error {
	if _, err := s.q.Exec(ctx, `DELETE FROM rsvp_decisions
		WHERE event_id = $1 AND guest_id = $2 AND run_id = $3 AND state = 'claimed'`, eventID, guestID, runID); err != nil {
		return fmt.Errorf("postgres: release rsvp decision: %w", err)
	}
	return nil
}
