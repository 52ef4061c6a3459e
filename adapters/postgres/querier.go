package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Querier is what a store runs its statements on: the pool (each statement
// on its own), a pgx.Tx, or a unit of work's transaction (Tx), so that the
// same store serves both ports.UnitOfWork and plain reads. Begin opens a
// transaction on a pool and a savepoint inside a transaction.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
}

var (
	_ Querier = (*pgxpool.Pool)(nil)
	_ Querier = (pgx.Tx)(nil)
	_ Querier = (*pgx.Conn)(nil)
	_ Querier = txQuerier{}
	_ Querier = deferredQuerier{}
)
