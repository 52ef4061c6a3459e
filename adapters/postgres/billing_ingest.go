package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/ports"
)

// Statement is one SQL statement with its arguments.
type Statement struct {
	SQL  string
	Args []any
}

// OutboxStatements returns the statements that queue msgs in the outbox
// (supplied by the messaging adapter through cmd/wdai).
type OutboxStatements func(ctx context.Context, msgs ...ports.Message) ([]Statement, error)

// BillingIngest implements ports.BillingIngest in two round trips: BEGIN
// and the inbox insert pipelined in one batch, then the outbox inserts and
// COMMIT in another (or ROLLBACK for a duplicate). Statements are prepared
// once per connection by pgx's statement cache.
type BillingIngest struct {
	pool   *pgxpool.Pool
	outbox OutboxStatements
}

var _ ports.BillingIngest = (*BillingIngest)(nil)

// NewBillingIngest refuses nil dependencies.
func NewBillingIngest(pool *pgxpool.Pool, outbox OutboxStatements) (*BillingIngest, error) {
	if pool == nil || outbox == nil {
		return nil, errors.New("postgres: billing ingest: nil dependency")
	}
	return &BillingIngest{pool: pool, outbox: outbox}, nil
}

const insertBillingEvent = `
	INSERT INTO billing_inbox (event_id, type, created, payload, source, subscription_id, customer_id, invoice_id,
	                           client_reference_id, customer_email, customer_name, attempt_count)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
	ON CONFLICT (event_id) DO NOTHING`

// Ingest stores ev and, when it is new, msgs, atomically.
func (b *BillingIngest) Ingest(ctx context.Context, ev ports.BillingEvent, source string, msgs ...ports.Message) (bool, error) {
	stmts, err := b.outbox(ctx, msgs...)
	if err != nil {
		return false, fmt.Errorf("postgres: ingest billing event: %w", err)
	}
	conn, err := b.pool.Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("postgres: ingest billing event: %w", err)
	}
	defer conn.Release()
	finished := false
	defer func() {
		if finished {
			return
		}
		// Never hand a connection back inside a transaction: roll back, and
		// if even that fails, close it so the pool replaces it.
		if _, err := conn.Exec(context.WithoutCancel(ctx), "ROLLBACK"); err != nil {
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()

	first := &pgx.Batch{}
	first.Queue("BEGIN")
	first.Queue(insertBillingEvent, ev.ID, ev.Type, ev.Created, ev.Payload, source, ev.SubscriptionID, ev.CustomerID, ev.InvoiceID,
		ev.ClientReferenceID, ev.CustomerEmail, ev.CustomerName, ev.AttemptCount)
	results := conn.SendBatch(ctx, first)
	_, err = results.Exec()
	var inserted pgconn.CommandTag
	if err == nil {
		inserted, err = results.Exec()
	}
	if cerr := results.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("postgres: ingest billing event: %w", err)
	}
	if inserted.RowsAffected() == 0 {
		return false, nil // a duplicate: the deferred ROLLBACK ends the transaction
	}

	second := &pgx.Batch{}
	for _, s := range stmts {
		second.Queue(s.SQL, s.Args...)
	}
	second.Queue("COMMIT")
	results = conn.SendBatch(ctx, second)
	for range stmts {
		if _, err = results.Exec(); err != nil {
			break
		}
	}
	var commit pgconn.CommandTag
	if err == nil {
		commit, err = results.Exec()
	}
	if cerr := results.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("postgres: ingest billing event: %w", err)
	}
	if commit.String() != "COMMIT" { // an aborted transaction answers COMMIT with ROLLBACK
		return false, fmt.Errorf("postgres: ingest billing event: commit answered %q", commit.String())
	}
	finished = true
	return true, nil
}
