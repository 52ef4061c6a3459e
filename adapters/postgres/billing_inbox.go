package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/womendefiningai/platform/ports"
)

// BillingInbox implements ports.BillingInbox on billing_inbox.
type BillingInbox struct{ q Querier }

var _ ports.BillingInbox = (*BillingInbox)(nil)

// NewBillingInbox returns an inbox on a pool or a transaction.
func NewBillingInbox(q Querier) *BillingInbox { return &BillingInbox{q: q} }

// Has reports which ids are stored, in one query.
func (b *BillingInbox) Has(ctx context.Context, ids []string) (map[string]bool, error) {
	rows, err := b.q.Query(ctx, `SELECT event_id FROM billing_inbox WHERE event_id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("postgres: look up billing events: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: look up billing events: %w", err)
	}
	out := make(map[string]bool, len(found))
	for _, id := range found {
		out[id] = true
	}
	return out, nil
}

const insertBillingEvent = `
	INSERT INTO billing_inbox (event_id, kind, type, created, payload, source, subscription_id, customer_id, invoice_id,
	                           client_reference_id, customer_email, customer_name, attempt_count)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
	ON CONFLICT (event_id) DO NOTHING`

// Insert stores ev once per event id, and reports false for an id already
// stored (leaving the stored event as it was).
func (b *BillingInbox) Insert(ctx context.Context, ev ports.BillingEvent, source string) (bool, error) {
	kind := ev.Kind
	if kind == "" {
		kind = ports.BillingEventOther
	}
	if _, err := ports.ParseBillingEventKind(string(kind)); err != nil {
		return false, fmt.Errorf("postgres: store billing event %s: %w", ev.ID, err)
	}
	tag, err := b.q.Exec(ctx, insertBillingEvent, ev.ID, string(kind), ev.Type, ev.Created, ev.Payload, source,
		ev.SubscriptionID, ev.CustomerID, ev.InvoiceID, ev.ClientReferenceID, ev.CustomerEmail, ev.CustomerName, ev.AttemptCount)
	if err != nil {
		return false, fmt.Errorf("postgres: store billing event %s: %w", ev.ID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Get returns a stored event, or ErrNotFound.
func (b *BillingInbox) Get(ctx context.Context, eventID string) (ports.InboxEvent, error) {
	var e ports.InboxEvent
	var kind string
	err := b.q.QueryRow(ctx, `
		SELECT event_id, kind, type, created, payload, subscription_id, customer_id, invoice_id, client_reference_id,
		       customer_email, customer_name, attempt_count, source, status, note
		FROM billing_inbox WHERE event_id = $1`, eventID).Scan(
		&e.ID, &kind, &e.Type, &e.Created, &e.Payload, &e.SubscriptionID, &e.CustomerID, &e.InvoiceID, &e.ClientReferenceID,
		&e.CustomerEmail, &e.CustomerName, &e.AttemptCount, &e.Source, &e.Status, &e.Note)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, ports.ErrNotFound
	}
	if err != nil {
		return e, fmt.Errorf("postgres: get billing event: %w", err)
	}
	if e.Kind, err = ports.ParseBillingEventKind(kind); err != nil {
		return e, fmt.Errorf("postgres: get billing event %s: %w", eventID, err)
	}
	return e, nil
}

// Deferred lists deferred event ids, oldest first.
func (b *BillingInbox) Deferred(ctx context.Context, limit int) ([]string, error) {
	rows, err := b.q.Query(ctx, `SELECT event_id FROM billing_inbox WHERE status = 'deferred' ORDER BY received_at LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: deferred billing events: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: deferred billing events: %w", err)
	}
	return ids, nil
}

// Mark records the processing outcome.
func (b *BillingInbox) Mark(ctx context.Context, eventID, status, note string) error {
	tag, err := b.q.Exec(ctx, `UPDATE billing_inbox SET status = $2, note = $3, processed_at = now() WHERE event_id = $1`, eventID, status, note)
	if err != nil {
		return fmt.Errorf("postgres: mark billing event: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ports.ErrNotFound
	}
	return nil
}

// NoteFailureNotice records one notification per (invoice, attempt).
func (b *BillingInbox) NoteFailureNotice(ctx context.Context, invoiceID string, attempt int, personID string) (bool, error) {
	tag, err := b.q.Exec(ctx, `INSERT INTO payment_failure_notices (invoice_id, attempt, person_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		invoiceID, attempt, personID)
	if err != nil {
		return false, fmt.Errorf("postgres: note payment failure: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}
