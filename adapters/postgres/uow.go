package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/ports"
)

// TxFactories build the transaction-bound parts that other adapters own
// (the outbox publisher, the scheduler, the dead-letter store). cmd/wdai
// supplies them, so this adapter does not import another adapter.
type TxFactories struct {
	Publisher   func(pgx.Tx) ports.Publisher
	Scheduler   func(pgx.Tx) ports.Scheduler
	DeadLetters func(pgx.Tx) ports.DeadLetters
}

// UnitOfWork implements ports.UnitOfWork on a pgx pool.
type UnitOfWork struct {
	pool *pgxpool.Pool
	f    TxFactories
}

var _ ports.UnitOfWork = (*UnitOfWork)(nil)

// NewUnitOfWork returns a unit of work over pool. Every factory is required:
// a missing one is a wiring mistake, reported at start-up.
func NewUnitOfWork(pool *pgxpool.Pool, f TxFactories) (*UnitOfWork, error) {
	if pool == nil || f.Publisher == nil || f.Scheduler == nil || f.DeadLetters == nil {
		return nil, errors.New("postgres: unit of work: nil pool or factory")
	}
	return &UnitOfWork{pool: pool, f: f}, nil
}

// Do runs fn in one transaction at READ COMMITTED. fn's error rolls back and
// is returned as is; otherwise the commit's error is returned, so a failed
// commit is never reported as success.
func (u *UnitOfWork) Do(ctx context.Context, fn func(ctx context.Context, tx ports.Tx) error) error {
	tx, err := u.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }() // no-op after commit
	if err := fn(ctx, &unitTx{tx: tx, f: u.f}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

// unitTx hands out transaction-bound stores, built lazily and once.
type unitTx struct {
	tx          pgx.Tx
	f           TxFactories
	publisher   ports.Publisher
	scheduler   ports.Scheduler
	deadLetters ports.DeadLetters
}

func (t *unitTx) Publisher() ports.Publisher {
	if t.publisher == nil {
		t.publisher = t.f.Publisher(t.tx)
	}
	return t.publisher
}

func (t *unitTx) Scheduler() ports.Scheduler {
	if t.scheduler == nil {
		t.scheduler = t.f.Scheduler(t.tx)
	}
	return t.scheduler
}

func (t *unitTx) DeadLetters() ports.DeadLetters {
	if t.deadLetters == nil {
		t.deadLetters = t.f.DeadLetters(t.tx)
	}
	return t.deadLetters
}

func (t *unitTx) Audit() ports.AuditLog { return NewAuditLog(t.tx) }

func (t *unitTx) JobRuns() ports.JobRuns { return NewJobRuns(t.tx) }

func (t *unitTx) People() ports.People { return NewPeopleStore(t.tx) }

func (t *unitTx) Memberships() ports.Memberships { return NewMembershipStore(t.tx) }

func (t *unitTx) Inbox() ports.WebhookInbox { return NewWebhookInbox(t.tx) }

func (t *unitTx) BillingInbox() ports.BillingInbox { return NewBillingInbox(t.tx) }
