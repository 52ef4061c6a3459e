package postgres

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/ports"
)

// TxFactories build the transaction-bound parts that other adapters own
// (the outbox publisher, the scheduler, the dead-letter store). cmd/wdai
// supplies them, so this adapter does not import another adapter. The
// querier handed to Publisher and Scheduler queues its Exec statements (see
// Tx): they must not read Exec's command tag, which is empty.
type TxFactories struct {
	Publisher   func(Querier) ports.Publisher
	Scheduler   func(Querier) ports.Scheduler
	DeadLetters func(Querier) ports.DeadLetters
}

// UnitOfWork runs transactions on a pgx pool; Scope gives a use case the
// ports.UnitOfWork of the transaction scope it needs.
type UnitOfWork struct {
	pool *pgxpool.Pool
	f    TxFactories
}

// NewUnitOfWork returns a unit of work over pool. Every factory is required:
// a missing one is a wiring mistake, reported at start-up.
func NewUnitOfWork(pool *pgxpool.Pool, f TxFactories) (*UnitOfWork, error) {
	if pool == nil || f.Publisher == nil || f.Scheduler == nil || f.DeadLetters == nil {
		return nil, errors.New("postgres: unit of work: nil pool or factory")
	}
	return &UnitOfWork{pool: pool, f: f}, nil
}

// Do runs fn in one transaction at READ COMMITTED, pipelining its statements
// (see Tx). fn's error rolls back and is returned as is; otherwise the
// commit's error is returned, so a failed commit is never reported as
// success. The connection goes back to the pool outside any transaction,
// whatever happened (a failed ROLLBACK closes it).
func (u *UnitOfWork) Do(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	t := &Tx{pool: u.pool, f: &u.f}
	defer t.end(ctx)
	if err := fn(ctx, t); err != nil {
		return err
	}
	if err := t.commit(ctx); err != nil {
		return err
	}
	for _, f := range t.afterCommit {
		f()
	}
	return nil
}

// Scope returns u as the ports.UnitOfWork of scope S (ports.MembershipTx,
// ports.BillingInboxTx, ...). It fails when *Tx does not provide S, so a
// wiring mistake shows at start-up rather than on the first transaction.
func Scope[S any](u *UnitOfWork) (ports.UnitOfWork[S], error) {
	if u == nil {
		return nil, errors.New("postgres: scope: nil unit of work")
	}
	tx, s := reflect.TypeFor[*Tx](), reflect.TypeFor[S]()
	if s != tx && (s.Kind() != reflect.Interface || !tx.Implements(s)) {
		return nil, fmt.Errorf("postgres: scope: *postgres.Tx does not provide %s", s)
	}
	return scoped[S]{u}, nil
}

type scoped[S any] struct{ u *UnitOfWork }

var (
	_ ports.UnitOfWork[ports.MembershipTx]   = scoped[ports.MembershipTx]{}
	_ ports.UnitOfWork[ports.PeopleTx]       = scoped[ports.PeopleTx]{}
	_ ports.UnitOfWork[ports.CustomerLinkTx] = scoped[ports.CustomerLinkTx]{}
	_ ports.UnitOfWork[ports.EmailSyncTx]    = scoped[ports.EmailSyncTx]{}
	_ ports.UnitOfWork[ports.BillingInboxTx] = scoped[ports.BillingInboxTx]{}
	_ ports.UnitOfWork[ports.JobTx]          = scoped[ports.JobTx]{}
	_ ports.UnitOfWork[ports.DeadLetterTx]   = scoped[ports.DeadLetterTx]{}
)

func (s scoped[S]) Do(ctx context.Context, fn func(ctx context.Context, s S) error) error {
	return s.u.Do(ctx, func(ctx context.Context, tx *Tx) error {
		return fn(ctx, any(tx).(S))
	})
}
