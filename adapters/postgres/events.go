package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/womendefiningai/platform/ports"
)

// EventStore implements the event ports on the events table (and the RSVP
// counts of rsvp_decisions). Reserve and RecordPlatformID run outside
// transactions, on the pool; Complete runs in a unit of work (Tx.Events).
type EventStore struct {
	q Querier
}

var (
	_ ports.EventReservations = (*EventStore)(nil)
	_ ports.EventStore        = (*EventStore)(nil)
	_ ports.EventReader       = (*EventStore)(nil)
	_ ports.EventTx           = (*Tx)(nil)
)

// NewEventStore returns the event store on q.
func NewEventStore(q Querier) *EventStore { return &EventStore{q: q} }

// Events returns the events in the transaction.
func (t *Tx) Events() ports.EventStore { return NewEventStore(txQuerier{t}) }

// RSVPDecisions returns the RSVP decisions in the transaction.
func (t *Tx) RSVPDecisions() ports.RSVPDecisions { return NewRSVPDecisions(txQuerier{t}) }

// eventColumns are read by scanEvent, from events e.
const eventColumns = `e.id, coalesce(e.platform_id, ''), e.url, e.name, e.description, e.starts_at, e.ends_at,
	e.timezone, e.capacity, e.creator_kind, e.creator_id, e.created_at, e.status = 'created',
	coalesce(c.approved, 0), coalesce(c.declined, 0), coalesce(c.left_pending, 0), c.decided_at`

// eventCounts joins the RSVP counts of each event as c.
const eventCounts = ` LEFT JOIN LATERAL (
		SELECT count(*) FILTER (WHERE outcome = 'approve') AS approved,
		       count(*) FILTER (WHERE outcome = 'decline') AS declined,
		       count(*) FILTER (WHERE outcome = 'leave_pending') AS left_pending,
		       max(decided_at) AS decided_at
		FROM rsvp_decisions d WHERE d.event_id = e.id AND d.state = 'applied') c ON true`

func scanEvent(row pgx.Row) (ports.Event, error) {
	var e ports.Event
	var decidedAt *time.Time
	err := row.Scan(&e.ID, &e.PlatformID, &e.URL, &e.Name, &e.Description, &e.StartAt, &e.EndAt,
		&e.TimeZone, &e.Capacity, &e.CreatorKind, &e.CreatorID, &e.CreatedAt, &e.Created,
		&e.RSVPs.Approved, &e.RSVPs.Declined, &e.RSVPs.LeftPending, &decidedAt)
	if decidedAt != nil {
		e.RSVPs.DecidedAt = *decidedAt
	}
	return e, err
}

// Reserve inserts the creation of d, or takes over one whose holder's lease
// ran out before the platform answered, or returns it as it stands.
func (s *EventStore) Reserve(ctx context.Context, d ports.EventDraft, lease time.Duration) (ports.Reservation, error) {
	if lease <= 0 {
		return ports.Reservation{}, errors.New("postgres: reserve event: lease must be positive")
	}
	ev := d.Event
	var id string
	err := s.q.QueryRow(ctx, `
		INSERT INTO events (creator_kind, creator_id, idempotency_key, name, description, starts_at, ends_at, timezone, capacity, held_until)
		VALUES ($10, $1, $2, $3, $4, $5, $6, $7, $8, now() + $9::bigint * interval '1 microsecond')
		ON CONFLICT (creator_kind, creator_id, idempotency_key) DO UPDATE SET held_until = EXCLUDED.held_until, updated_at = now()
		WHERE events.status = 'creating' AND events.platform_id IS NULL AND events.held_until < now()
		RETURNING id`,
		d.CreatorID, d.IdempotencyKey, ev.Name, ev.Description, ev.StartAt, ev.EndAt, ev.TimeZone, ev.Capacity, lease.Microseconds(), d.CreatorKind).Scan(&id)
	switch {
	case err == nil:
		e, err := s.get(ctx, `e.id = $1`, id)
		return ports.Reservation{Event: e, Held: true}, err
	case !errors.Is(err, pgx.ErrNoRows):
		return ports.Reservation{}, fmt.Errorf("postgres: reserve event: %w", err)
	}
	e, err := s.get(ctx, `e.creator_kind = $1 AND e.creator_id = $2 AND e.idempotency_key = $3`, d.CreatorKind, d.CreatorID, d.IdempotencyKey)
	if err != nil {
		return ports.Reservation{}, fmt.Errorf("postgres: reserve event: %w", err)
	}
	if !e.Created && e.PlatformID == "" {
		var blocked bool
		if err := s.q.QueryRow(ctx, `SELECT held_until = 'infinity' FROM events WHERE id = $1`, e.ID).Scan(&blocked); err != nil {
			return ports.Reservation{}, fmt.Errorf("postgres: reserve event: %w", err)
		}
		if blocked {
			return ports.Reservation{Event: e}, ports.ErrEventUncertain
		}
		return ports.Reservation{}, ports.ErrEventBusy
	}
	return ports.Reservation{Event: e}, nil
}

// Release deletes a creation still held without a platform id: nothing
// refers to it yet (decisions need a created event).
func (s *EventStore) Release(ctx context.Context, eventID string) error {
	if _, err := s.q.Exec(ctx, `DELETE FROM events WHERE id = $1 AND status = 'creating' AND platform_id IS NULL`, eventID); err != nil {
		return fmt.Errorf("postgres: release event %s: %w", eventID, err)
	}
	return nil
}

// Block holds a creation without a platform id for good (held_until is
// infinity): Reserve answers ErrEventUncertain until an operator records
// the platform's id or sets held_until back (see docs/events.md).
func (s *EventStore) Block(ctx context.Context, eventID string) error {
	tag, err := s.q.Exec(ctx, `UPDATE events SET held_until = 'infinity', updated_at = now()
		WHERE id = $1 AND status = 'creating' AND platform_id IS NULL`, eventID)
	if err != nil {
		return fmt.Errorf("postgres: block event %s: %w", eventID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: block event %s: %w", eventID, ports.ErrNotFound)
	}
	return nil
}

// FirstUnavailable takes a transaction lock on the event's unavailability
// and reports whether no "event.unavailable" audit entry names it yet.
func (s *EventStore) FirstUnavailable(ctx context.Context, eventID string) (bool, error) {
	var first bool
	err := s.q.QueryRow(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('event.unavailable:' || $1, 0)),
		NOT EXISTS (SELECT 1 FROM audit_log WHERE subject_kind = 'event' AND subject_id = $1 AND action = 'event.unavailable')`,
		eventID).Scan(nil, &first)
	if err != nil {
		return false, fmt.Errorf("postgres: event %s unavailable: %w", eventID, err)
	}
	return first, nil
}

// RecordPlatformID records the platform's id on a creation not yet created.
func (s *EventStore) RecordPlatformID(ctx context.Context, eventID, platformID string) error {
	tag, err := s.q.Exec(ctx, `UPDATE events SET platform_id = $2, updated_at = now()
		WHERE id = $1 AND status = 'creating'`, eventID, platformID)
	if err != nil {
		return fmt.Errorf("postgres: record platform id of event %s: %w", eventID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: record platform id of event %s: %w", eventID, ports.ErrNotFound)
	}
	return nil
}

// Complete stores the platform's answer and marks the event created.
func (s *EventStore) Complete(ctx context.Context, eventID string, p ports.PlatformEvent) (bool, error) {
	tag, err := s.q.Exec(ctx, `UPDATE events SET status = 'created', platform_id = $2, url = $3, updated_at = now()
		WHERE id = $1 AND status = 'creating'`, eventID, p.ID, p.URL)
	if err != nil {
		return false, fmt.Errorf("postgres: complete event %s: %w", eventID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Get returns a created event with its RSVP counts.
func (s *EventStore) Get(ctx context.Context, id string) (ports.Event, error) {
	if !isUUID(id) {
		return ports.Event{}, ports.ErrNotFound
	}
	e, err := s.get(ctx, `e.id = $1 AND e.status = 'created'`, id)
	if err != nil {
		return ports.Event{}, fmt.Errorf("postgres: get event: %w", err)
	}
	return e, nil
}

func (s *EventStore) get(ctx context.Context, where string, args ...any) (ports.Event, error) {
	e, err := scanEvent(s.q.QueryRow(ctx, `SELECT `+eventColumns+` FROM events e`+eventCounts+` WHERE `+where, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return ports.Event{}, ports.ErrNotFound
	}
	return e, err
}

// List returns a page of created events: upcoming (not ended by f.Now)
// soonest first, or past latest first, with their RSVP counts.
func (s *EventStore) List(ctx context.Context, f ports.EventFilter) (ports.EventPage, error) {
	if f.Limit < 1 {
		return ports.EventPage{}, errors.New("postgres: list events: limit must be positive")
	}
	after, afterID, err := decodeCursor(f.After)
	if err != nil {
		return ports.EventPage{}, err
	}
	var where, order string
	switch f.When {
	case ports.EventsUpcoming:
		where, order = `e.ends_at > $1 AND ($2::timestamptz IS NULL OR (e.starts_at, e.id) > ($2, $3::uuid))`, `e.starts_at, e.id`
	case ports.EventsPast:
		where, order = `e.ends_at <= $1 AND ($2::timestamptz IS NULL OR (e.starts_at, e.id) < ($2, $3::uuid))`, `e.starts_at DESC, e.id DESC`
	default:
		return ports.EventPage{}, fmt.Errorf("postgres: list events: unknown selection %d", f.When)
	}
	rows, err := s.q.Query(ctx, `SELECT `+eventColumns+` FROM events e`+eventCounts+`
		WHERE e.status = 'created' AND `+where+` ORDER BY `+order+` LIMIT $4`, f.Now, after, afterID, f.Limit+1)
	if err != nil {
		return ports.EventPage{}, fmt.Errorf("postgres: list events: %w", err)
	}
	defer rows.Close()
	var page ports.EventPage
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return ports.EventPage{}, fmt.Errorf("postgres: list events: %w", err)
		}
		if len(page.Events) == f.Limit {
			page.HasMore = true
			break
		}
		page.Events = append(page.Events, e)
		page.Cursors = append(page.Cursors, encodeCursor(e.StartAt, e.ID))
	}
	return page, rows.Err()
}
