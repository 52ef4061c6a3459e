package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/approval"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

// RSVPDecisions implements ports.RSVPDecisions on rsvp_decisions, whose
// primary key (event_id, guest_id) makes one decision per guest.
type RSVPDecisions struct {
	q Querier
}

var (
	_ ports.RSVPDecisions = (*RSVPDecisions)(nil)
	_ ports.RSVPRuns      = (*RSVPDecisions)(nil)
	_ ports.RSVPPeople    = (*RSVPDecisions)(nil)
)

// NewRSVPDecisions returns the decisions on q.
func NewRSVPDecisions(q Querier) *RSVPDecisions { return &RSVPDecisions{q: q} }

// Claim inserts d, or replaces a decision that left the guest pending with
// one that does not, a deferred or failed one, or a claim older than stale
// that was never applied. A concurrent claim of the same guest waits for the first to
// commit and then finds it: one of them wins.
func (s *RSVPDecisions) Claim(ctx context.Context, d ports.RSVPDecision, stale time.Duration) (bool, error) {
	if d.EventID == "" || d.GuestID == "" || d.RunID == "" || d.Reason == 0 {
		return false, errors.New("postgres: claim rsvp decision: event, guest, run and reason are required")
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
			reason = EXCLUDED.reason, state = EXCLUDED.state, run_id = EXCLUDED.run_id, error = '',
			claimed_at = now(), decided_at = EXCLUDED.decided_at
		WHERE (r.state = 'applied' AND r.outcome = 'leave_pending' AND EXCLUDED.outcome <> 'leave_pending')
		   OR r.state IN ('deferred', 'failed')
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

// Defer marks runID's claim as put off and counts the deferral for the run.
func (s *RSVPDecisions) Defer(ctx context.Context, eventID, guestID, runID string) error {
	if _, err := s.q.Exec(ctx, `
		WITH d AS (
			UPDATE rsvp_decisions SET state = 'deferred'
			WHERE event_id = $1 AND guest_id = $2 AND run_id = $3 AND state = 'claimed' RETURNING event_id, run_id
		)
		INSERT INTO rsvp_run_deferrals AS r (run_id, event_id, deferrals) SELECT run_id, event_id, 1 FROM d
		ON CONFLICT (run_id, event_id) DO UPDATE SET deferrals = r.deferrals + 1`, eventID, guestID, runID); err != nil {
		return fmt.Errorf("postgres: defer rsvp decision: %w", err)
	}
	return nil
}

// Fail marks runID's claim as refused by the platform, with why.
func (s *RSVPDecisions) Fail(ctx context.Context, eventID, guestID, runID, why string) error {
	if _, err := s.q.Exec(ctx, `UPDATE rsvp_decisions SET state = 'failed', error = left($4, 500)
		WHERE event_id = $1 AND guest_id = $2 AND run_id = $3 AND state = 'claimed'`, eventID, guestID, runID, why); err != nil {
		return fmt.Errorf("postgres: fail rsvp decision: %w", err)
	}
	return nil
}

// RunTally counts the decisions of runID by event: applied ones by
// outcome, failed ones as errors, deferred ones still waiting, and every
// deferral the run made (even of a guest it or a racing run then decided).
func (s *RSVPDecisions) RunTally(ctx context.Context, runID string) (map[string]ports.RSVPTally, error) {
	rows, err := s.q.Query(ctx, `
		WITH d AS (
			SELECT event_id,
			       count(*) FILTER (WHERE state = 'applied' AND outcome = 'approve') AS approved,
			       count(*) FILTER (WHERE state = 'applied' AND outcome = 'decline') AS declined,
			       count(*) FILTER (WHERE state = 'applied' AND outcome = 'leave_pending') AS left_pending,
			       count(*) FILTER (WHERE state = 'failed') AS errors,
			       count(*) FILTER (WHERE state = 'deferred') AS deferred
			FROM rsvp_decisions WHERE run_id = $1 GROUP BY event_id
		)
		SELECT coalesce(d.event_id, f.event_id)::text, coalesce(d.approved, 0), coalesce(d.declined, 0),
		       coalesce(d.left_pending, 0), coalesce(d.errors, 0), coalesce(d.deferred, 0), coalesce(f.deferrals, 0)
		FROM d FULL JOIN (SELECT event_id, deferrals FROM rsvp_run_deferrals WHERE run_id = $1) f ON f.event_id = d.event_id`, runID)
	if err != nil {
		return nil, fmt.Errorf("postgres: rsvp run tally: %w", err)
	}
	defer rows.Close()
	out := map[string]ports.RSVPTally{}
	for rows.Next() {
		var id string
		var t ports.RSVPTally
		if err := rows.Scan(&id, &t.Approved, &t.Declined, &t.LeftPending, &t.Errors, &t.Deferred, &t.Deferrals); err != nil {
			return nil, fmt.Errorf("postgres: rsvp run tally: %w", err)
		}
		out[id] = t
	}
	return out, rows.Err()
}

// FindByEmails returns the one person with each verified address, with
// their role, membership status and grants of access (two queries);
// addresses shared by several people are left out.
func (s *RSVPDecisions) FindByEmails(ctx context.Context, emails []string) (map[string]ports.RSVPPerson, error) {
	norm := make([]string, 0, len(emails))
	for _, e := range emails {
		if n := approval.NormalizeEmail(e); n != "" && !slices.Contains(norm, n) {
			norm = append(norm, n)
		}
	}
	out := make(map[string]ports.RSVPPerson, len(norm))
	if len(norm) == 0 {
		return out, nil
	}
	rows, err := s.q.Query(ctx, `
		SELECT e, p.id::text, p.emails, p.role, coalesce(m.status, '')
		FROM unnest($1::text[]) AS e
		JOIN people p ON p.emails @> ARRAY[e] AND p.erased_at IS NULL
		LEFT JOIN memberships m ON m.person_id = p.id`, norm)
	if err != nil {
		return nil, fmt.Errorf("postgres: find people by email: %w", err)
	}
	defer rows.Close()
	shared := map[string]bool{}
	for rows.Next() {
		var email, id, role, status string
		var emails []string
		if err := rows.Scan(&email, &id, &emails, &role, &status); err != nil {
			return nil, fmt.Errorf("postgres: find people by email: %w", err)
		}
		if _, seen := out[email]; seen || shared[email] {
			shared[email] = true
			delete(out, email)
			continue
		}
		p := ports.RSVPPerson{PersonID: id, Person: approval.Person{VerifiedEmails: emails}}
		if p.Person.Role, err = access.ParseRole(role); err != nil {
			return nil, fmt.Errorf("postgres: find people by email: %w", err)
		}
		if status != "" {
			if p.Person.Status, err = membership.ParseStatus(status); err != nil {
				return nil, fmt.Errorf("postgres: find people by email: %w", err)
			}
		}
		out[email] = p
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: find people by email: %w", err)
	}
	return out, s.withGrants(ctx, out)
}

// withGrants reads the grants of access of the people found.
func (s *RSVPDecisions) withGrants(ctx context.Context, found map[string]ports.RSVPPerson) error {
	ids := make([]string, 0, len(found))
	for _, p := range found {
		ids = append(ids, p.PersonID)
	}
	grants, err := NewAccessStore(s.q).GrantsOf(ctx, ids)
	if err != nil {
		return err
	}
	for email, p := range found {
		p.Person.Grants = grants[p.PersonID]
		found[email] = p
	}
	return nil
}
