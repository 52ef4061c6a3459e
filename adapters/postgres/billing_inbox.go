package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/womendefiningai/platform/ports"
)

// BillingInbox implements ports.BillingInbox on billing_inbox.
type BillingInbox struct {
	q  Querier
	tx *Tx // set in a unit of work: Add queues its INSERT
}

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

// insertBillingEvent stores an event; Insert adds ON CONFLICT DO NOTHING.
const insertBillingEvent = `
	INSERT INTO billing_inbox (event_id, kind, type, created, payload, source, subscription_id, customer_id, invoice_id,
	                           client_reference_id, customer_email, customer_name, attempt_count, payload_raw)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`

// Insert stores ev once per event id, and reports false for an id already
// stored (leaving the stored event as it was).
func (b *BillingInbox) Insert(ctx context.Context, ev ports.BillingEvent, source string) (bool, error) {
	args, err := billingEventArgs(ev, source)
	if err != nil {
		return false, err
	}
	tag, err := b.q.Exec(ctx, insertBillingEvent+` ON CONFLICT (event_id) DO NOTHING`, args...)
	if err != nil {
		return false, fmt.Errorf("postgres: store billing event %s: %w", ev.ID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Add stores ev, failing with ports.ErrAlreadyStored for an id already
// stored. In a unit of work the INSERT is queued (Tx.enqueueMapped): it
// goes with the next round trip, the outbox INSERT and COMMIT usually, so
// storing and publishing a new event is one round trip. For an id already
// stored the primary key refuses the row, PostgreSQL skips the rest of the
// batch, COMMIT is never run, and the transaction rolls back whole.
func (b *BillingInbox) Add(ctx context.Context, ev ports.BillingEvent, source string) error {
	args, err := billingEventArgs(ev, source)
	if err != nil {
		return err
	}
	mapErr := func(err error) error {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "billing_inbox_pkey" {
			return fmt.Errorf("postgres: store billing event %s: %w", ev.ID, ports.ErrAlreadyStored)
		}
		return fmt.Errorf("postgres: store billing event %s: %w", ev.ID, err)
	}
	if b.tx != nil {
		return b.tx.enqueueMapped(insertBillingEvent, args, mapErr)
	}
	if _, err := b.q.Exec(ctx, insertBillingEvent, args...); err != nil {
		return mapErr(err)
	}
	return nil
}

// billingEventArgs are insertBillingEvent's arguments.
func billingEventArgs(ev ports.BillingEvent, source string) ([]any, error) {
	kind := ev.Kind
	if kind == "" {
		kind = ports.BillingEventOther
	}
	if _, err := ports.ParseBillingEventKind(string(kind)); err != nil {
		return nil, fmt.Errorf("postgres: store billing event %s: %w", ev.ID, err)
	}
	// What jsonb and text refuse (\u0000, bytes that are not UTF-8) must
	// not keep a signed event out: see storable.
	payload, raw := jsonbOrRaw(ev.Payload)
	return []any{storable(ev.ID), string(kind), storable(ev.Type), ev.Created, payload, source,
		storable(ev.SubscriptionID), storable(ev.CustomerID), storable(ev.InvoiceID), storable(ev.ClientReferenceID),
		storable(ev.CustomerEmail), storable(ev.CustomerName), ev.AttemptCount, raw}, nil
}

// Get returns a stored event, or ErrNotFound.
func (b *BillingInbox) Get(ctx context.Context, eventID string) (ports.InboxEvent, error) {
	var e ports.InboxEvent
	var kind string
	err := b.q.QueryRow(ctx, `
		SELECT event_id, kind, type, created, coalesce(convert_to(payload::text, 'UTF8'), payload_raw), subscription_id, customer_id,
		       invoice_id, client_reference_id, customer_email, customer_name, attempt_count, source, status, note
		FROM billing_inbox WHERE event_id = $1`, storable(eventID)).Scan(
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

// claimSet bumps the attempts of the chosen rows and pushes their next
// attempt back: Backoff × 2^attempts, at most MaxBackoff. $1 Backoff,
// $2 MaxBackoff (both in microseconds); the caller's WHERE picks the rows.
const claimSet = `
	UPDATE billing_inbox b SET
		attempts = b.attempts + 1,
		next_attempt_at = now() + least(make_interval(secs => $1::float8 / 1e6 * power(2, least(b.attempts, 30))),
		                                 make_interval(secs => $2::float8 / 1e6))
	FROM due WHERE b.event_id = due.event_id
	RETURNING b.event_id`

// ClaimDue claims the deferred events that are due and the 'received' ones
// stuck past p.StuckAfter, in one statement, earliest due first (a row that
// keeps failing moves back, so it cannot starve the others). Rows locked by
// another reconciliation are skipped, and so are events whose processing
// was dead-lettered while the dead letter is open or abandoned: re-queueing
// them would only dead-letter them again, with an alert, every run; an
// operator replays or abandons them (a replayed one is claimed again).
func (b *BillingInbox) ClaimDue(ctx context.Context, p ports.RequeuePolicy) ([]string, error) {
	if err := checkPolicy(p); err != nil {
		return nil, err
	}
	return b.claim(ctx, "claim due billing events", `
	WITH due AS (
		SELECT event_id FROM billing_inbox b
		WHERE ((status = 'deferred' AND coalesce(next_attempt_at, '-infinity') <= now())
		    OR (status = 'received' AND received_at <= now() - make_interval(secs => $3::float8 / 1e6)
		        AND coalesce(next_attempt_at, '-infinity') <= now()))
		  AND NOT EXISTS (`+deadLettered+`)
		ORDER BY coalesce(next_attempt_at, received_at), event_id
		LIMIT $4
		FOR UPDATE SKIP LOCKED
	)`+claimSet, p.Backoff.Microseconds(), p.MaxBackoff.Microseconds(), p.StuckAfter.Microseconds(), p.Limit)
}

// deadLettered finds an open or abandoned dead letter of the processing of
// billing_inbox row b: a billing.event message whose body names its id, as
// ports.BillingEventMessage encodes it. The body is matched as bytes, so a
// dead letter whose body is not JSON cannot fail the claim.
const deadLettered = `SELECT 1 FROM dead_letters d
		WHERE d.topic = '` + ports.TopicBillingEvent + `' AND d.status IN ('open', 'abandoned')
		  AND position(convert_to('"event_id":' || to_json(b.event_id)::text, 'UTF8') IN d.payload) > 0`

// ClaimCustomer claims every deferred event of the customer, due or not.
func (b *BillingInbox) ClaimCustomer(ctx context.Context, customerID string, p ports.RequeuePolicy) ([]string, error) {
	if err := checkPolicy(p); err != nil {
		return nil, err
	}
	if customerID == "" {
		return nil, nil
	}
	// Held until the link's transaction ends: a deferral of this customer
	// running meanwhile waits, then sees the link (Defer).
	if err := lockCustomer(ctx, b.q, customerID); err != nil {
		return nil, err
	}
	return b.claim(ctx, "claim a customer's deferred billing events", `
	WITH due AS (
		SELECT event_id FROM billing_inbox
		WHERE status = 'deferred' AND customer_id = $3
		ORDER BY received_at, event_id
		LIMIT $4
		FOR UPDATE
	)`+claimSet, p.Backoff.Microseconds(), p.MaxBackoff.Microseconds(), customerID, p.Limit)
}

func (b *BillingInbox) claim(ctx context.Context, what, sql string, args ...any) ([]string, error) {
	rows, err := b.q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", what, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", what, err)
	}
	return ids, nil
}

func checkPolicy(p ports.RequeuePolicy) error {
	if p.Backoff <= 0 || p.MaxBackoff < p.Backoff || p.StuckAfter < 0 || p.Limit < 1 {
		return fmt.Errorf("postgres: requeue policy %+v: backoff, max backoff and limit must be positive, max backoff at least backoff", p)
	}
	return nil
}

// Expire marks expired the events deferred for longer than maxAge, in one
// statement, and returns their ids.
func (b *BillingInbox) Expire(ctx context.Context, maxAge time.Duration, note string) ([]string, error) {
	if maxAge <= 0 {
		return nil, fmt.Errorf("postgres: expire billing events: max age %v is not positive", maxAge)
	}
	return b.claim(ctx, "expire billing events", `
		UPDATE billing_inbox SET status = 'expired', note = $2, processed_at = now()
		WHERE status = 'deferred' AND deferred_at <= now() - make_interval(secs => $1::float8 / 1e6)
		RETURNING event_id`, maxAge.Microseconds(), note)
}

// Mark records the processing outcome.
func (b *BillingInbox) Mark(ctx context.Context, eventID, status, note string) error {
	// A deferred event keeps when it was first deferred (for expiry) and is
	// due at the next reconciliation unless a re-queue set its next attempt.
	tag, err := b.q.Exec(ctx, `UPDATE billing_inbox SET status = $2, note = $3, processed_at = now(),
			deferred_at = CASE WHEN $2 = 'deferred' THEN coalesce(deferred_at, now()) END,
			next_attempt_at = CASE WHEN $2 = 'deferred' THEN coalesce(next_attempt_at, now()) END
		WHERE event_id = $1`, eventID, status, note)
	if err != nil {
		return fmt.Errorf("postgres: mark billing event: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ports.ErrNotFound
	}
	return nil
}

// Defer marks the event deferred unless a person is linked to customerID,
// in a transaction of its own (a savepoint inside one) that first takes the
// customer's lock: the link's ClaimCustomer takes it too, so either the
// deferral commits first and the link's claim sees it, or the link commits
// first and the check below sees the link (READ COMMITTED reads it in the
// statement after the lock).
func (b *BillingInbox) Defer(ctx context.Context, eventID, customerID, note string) (bool, error) {
	linked := false
	err := pgx.BeginFunc(ctx, b.q, func(tx pgx.Tx) error {
		if err := lockCustomer(ctx, tx, customerID); err != nil {
			return err
		}
		if customerID != "" {
			err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM people WHERE billing_customer_id = $1)`, customerID).Scan(&linked)
			if err != nil || linked {
				return err
			}
		}
		return NewBillingInbox(tx).Mark(ctx, eventID, ports.InboxDeferred, note)
	})
	if err != nil {
		return false, fmt.Errorf("postgres: defer billing event %s: %w", eventID, err)
	}
	return linked, nil
}

// lockCustomer takes a transaction-level advisory lock on a billing
// customer (nothing for an empty id).
func lockCustomer(ctx context.Context, q Querier, customerID string) error {
	if customerID == "" {
		return nil
	}
	if _, err := q.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('billing_customer'), hashtext($1))`, customerID); err != nil {
		return fmt.Errorf("postgres: lock billing customer: %w", err)
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
