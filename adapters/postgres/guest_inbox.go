package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/womendefiningai/platform/ports"
)

// GuestInbox implements ports.GuestInbox on guest_inbox (migration 00039).
type GuestInbox struct{ q Querier }

var (
	_ ports.GuestInbox  = (*GuestInbox)(nil)
	_ ports.EventFinder = (*EventStore)(nil)
)

// NewGuestInbox returns the inbox on a pool or a transaction.
func NewGuestInbox(q Querier) *GuestInbox { return &GuestInbox{q: q} }

// GuestInbox is the guest inbox in the transaction.
func (t *Tx) GuestInbox() ports.GuestInbox { return NewGuestInbox(txQuerier{t}) }

// Insert stores r once per delivery id; false for an id already stored.
func (g *GuestInbox) Insert(ctx context.Context, r ports.GuestRegistration) (bool, error) {
	tag, err := g.q.Exec(ctx, `
		INSERT INTO guest_inbox (delivery_id, type, platform_event_id, guest_id, email, approval_status)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (delivery_id) DO NOTHING`,
		r.DeliveryID, r.Type, r.EventID, r.Guest.ID, r.Guest.Email, string(r.Guest.Status))
	if err != nil {
		return false, fmt.Errorf("postgres: store guest registration: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// Get returns a stored registration, or ports.ErrNotFound.
func (g *GuestInbox) Get(ctx context.Context, deliveryID string) (ports.StoredGuestRegistration, error) {
	var r ports.StoredGuestRegistration
	var status string
	err := g.q.QueryRow(ctx, `
		SELECT delivery_id, type, platform_event_id, guest_id, email, approval_status, status, note
		FROM guest_inbox WHERE delivery_id = $1`, deliveryID).Scan(
		&r.DeliveryID, &r.Type, &r.EventID, &r.Guest.ID, &r.Guest.Email, &status, &r.Status, &r.Note)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ports.ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("postgres: get guest registration: %w", err)
	}
	r.Guest.Status = ports.GuestStatus(status)
	return r, nil
}

// Mark records the outcome with its note and clears the email; a row
// already marked keeps its first outcome.
func (g *GuestInbox) Mark(ctx context.Context, deliveryID, status, note string) error {
	if status != ports.GuestInboxProcessed && status != ports.GuestInboxIgnored {
		return fmt.Errorf("postgres: mark guest registration: unknown status %q", status)
	}
	if _, err := g.q.Exec(ctx, `UPDATE guest_inbox SET status = $2, note = left($3, 500), email = '', processed_at = now()
		WHERE delivery_id = $1 AND status = 'received'`, deliveryID, status, note); err != nil {
		return fmt.Errorf("postgres: mark guest registration: %w", err)
	}
	return nil
}

// GetByPlatformID returns the created event with the platform's id, with
// its RSVP counts, or ports.ErrNotFound.
func (s *EventStore) GetByPlatformID(ctx context.Context, platformID string) (ports.Event, error) {
	if platformID == "" {
		return ports.Event{}, ports.ErrNotFound
	}
	e, err := s.get(ctx, `e.platform_id = $1 AND e.status = 'created'`, platformID)
	if err != nil {
		return ports.Event{}, fmt.Errorf("postgres: get event by platform id: %w", err)
	}
	return e, nil
}
