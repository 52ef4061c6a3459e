package messaging

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// finishTimeout bounds the ack query and the commit of a subscriber's
// transaction, which run even when the router is shutting down.
const finishTimeout = 10 * time.Second

// subscriberDB gives Watermill's subscriber its transactions on the pool.
// Each transaction is a subscriberTx.
type subscriberDB struct{ pool *pgxpool.Pool }

func (d subscriberDB) BeginTx(ctx context.Context, opts *sql.TxOptions) (wsql.Tx, error) {
	iso := pgx.ReadCommitted
	if opts != nil {
		switch opts.Isolation {
		case sql.LevelRepeatableRead:
			iso = pgx.RepeatableRead
		case sql.LevelSerializable:
			iso = pgx.Serializable
		default:
			// Every other level (and the default) runs at read committed.
		}
	}
	tx, err := d.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: iso})
	if err != nil {
		return nil, fmt.Errorf("messaging: begin subscriber transaction: %w", err)
	}
	return &subscriberTx{tx: tx}, nil
}

func (d subscriberDB) ExecContext(ctx context.Context, query string, args ...any) (wsql.Result, error) {
	tag, err := d.pool.Exec(ctx, query, args...)
	return result{tag}, err
}

func (d subscriberDB) QueryContext(ctx context.Context, query string, args ...any) (wsql.Rows, error) {
	rows, err := d.pool.Query(ctx, query, args...)
	return pgxRows{rows}, err
}

// subscriberTx is the transaction in which a subscriber claims a batch of
// rows, delivers them one by one and deletes the acked ones.
//
// Handlers never see it (see handlerContext). The router's own steps that
// must commit with an ack (recording a dead letter, moving a scheduled
// message to its topic) use it through within, which serialises them with
// the subscriber's ack and commit: a pgx connection must not be used by two
// goroutines, and the subscriber may finish the transaction (ack deadline,
// shutdown) while such a step is still running.
type subscriberTx struct {
	mu       sync.Mutex
	tx       pgx.Tx
	done     bool
	onCommit []func()
}

var errSubscriberTxDone = errors.New("messaging: the subscriber's transaction has already ended")

func (t *subscriberTx) QueryContext(ctx context.Context, query string, args ...any) (wsql.Rows, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return nil, errSubscriberTxDone
	}
	rows, err := t.tx.Query(ctx, query, args...)
	return pgxRows{rows}, err
}

// ExecContext runs the ack query. It is not cancelled with ctx, so that a
// router shutting down still records the acks of the messages it handled
// (instead of delivering them all again), within finishTimeout.
func (t *subscriberTx) ExecContext(ctx context.Context, query string, args ...any) (wsql.Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return nil, errSubscriberTxDone
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	tag, err := t.tx.Exec(ctx, query, args...)
	return result{tag}, err
}

// Commit commits, then runs the functions registered with afterCommit.
func (t *subscriberTx) Commit() error {
	t.mu.Lock()
	t.done = true
	hooks := t.onCommit
	t.onCommit = nil
	ctx, cancel := context.WithTimeout(context.Background(), finishTimeout)
	defer cancel()
	err := t.tx.Commit(ctx)
	t.mu.Unlock()
	if err != nil {
		return err
	}
	for _, h := range hooks {
		h()
	}
	return nil
}

// afterCommit registers fn to run once the transaction has committed (never,
// if it rolls back).
func (t *subscriberTx) afterCommit(fn func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.onCommit = append(t.onCommit, fn)
}

func (t *subscriberTx) Rollback() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.done = true
	t.onCommit = nil
	ctx, cancel := context.WithTimeout(context.Background(), finishTimeout)
	defer cancel()
	return t.tx.Rollback(ctx)
}

// within runs fn in a savepoint of the transaction: fn's writes commit with
// the ack of the message being handled, and an error from fn undoes them
// without aborting the transaction (so the other rows of the batch are not
// lost with it). It fails once the subscriber has ended the transaction.
func (t *subscriberTx) within(ctx context.Context, fn func(pgx.Tx) error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return errSubscriberTxDone
	}
	sp, err := t.tx.Begin(ctx)
	if err != nil {
		return fmt.Errorf("messaging: savepoint: %w", err)
	}
	if err := fn(sp); err != nil {
		if rbErr := sp.Rollback(context.WithoutCancel(ctx)); rbErr != nil {
			return errors.Join(err, fmt.Errorf("messaging: roll back to savepoint: %w", rbErr))
		}
		return err
	}
	if err := sp.Commit(ctx); err != nil {
		return fmt.Errorf("messaging: release savepoint: %w", err)
	}
	return nil
}

// subscriberTxFrom returns the transaction of the subscriber that delivered
// the message whose context ctx is.
func subscriberTxFrom(ctx context.Context) (*subscriberTx, error) {
	tx, ok := wsql.TxFromContext(ctx)
	if !ok {
		return nil, errors.New("messaging: no subscriber transaction in the message context")
	}
	st, ok := tx.(*subscriberTx)
	if !ok {
		return nil, fmt.Errorf("messaging: subscriber transaction is a %T", tx)
	}
	return st, nil
}

// handlerContext is the context a handler receives: the message's context
// (deadline, cancellation, correlation id) without the subscriber's
// transaction. This is the guard against Defect 2 (docs/messaging.md): a nack
// does not roll the subscriber's transaction back, so writes a failed attempt
// made in it would be committed with a later ack. Handlers therefore cannot
// reach it; they do their writes in their own transactions, idempotently.
type handlerContext struct{ context.Context }

func (c handlerContext) Value(key any) any {
	v := c.Context.Value(key)
	if _, isTx := v.(wsql.Tx); isTx {
		return nil
	}
	return v
}

type result struct{ pgconn.CommandTag }

func (r result) RowsAffected() (int64, error) { return r.CommandTag.RowsAffected(), nil }

type pgxRows struct{ pgx.Rows }

func (r pgxRows) Close() error {
	r.Rows.Close()
	return r.Err()
}
