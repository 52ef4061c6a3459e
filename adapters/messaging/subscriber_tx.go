package messaging

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
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

// BeginTx takes a connection for the transaction; BEGIN itself is sent
// with the claim query (see subscriberTx).
func (d subscriberDB) BeginTx(ctx context.Context, opts *sql.TxOptions) (wsql.Tx, error) {
	begin := "BEGIN ISOLATION LEVEL READ COMMITTED"
	if opts != nil {
		switch opts.Isolation {
		case sql.LevelRepeatableRead:
			begin = "BEGIN ISOLATION LEVEL REPEATABLE READ"
		case sql.LevelSerializable:
			begin = "BEGIN ISOLATION LEVEL SERIALIZABLE"
		default:
			// Every other level (and the default) runs at read committed.
		}
	}
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("messaging: begin subscriber transaction: %w", err)
	}
	return &subscriberTx{conn: conn, begin: begin}, nil
}

func (d subscriberDB) ExecContext(ctx context.Context, query string, args ...any) (wsql.Result, error) {
	tag, err := d.pool.Exec(ctx, query, args...)
	return result{tag}, err
}

func (d subscriberDB) QueryContext(ctx context.Context, query string, args ...any) (wsql.Rows, error) {
	rows, err := d.pool.Query(ctx, query, args...)
	return pgxRows{rows}, err
}

// subscriberTx is the transaction in which a subscriber claims rows (one by
// default), delivers them one by one and deletes the acked ones.
//
// A claim costs two round trips to PostgreSQL instead of four: BEGIN is
// sent in one pipeline with the claim query, and the ack query in one with
// COMMIT. (The ack's result is only logged by Watermill; an ack that fails
// fails the commit, and the rows are delivered again.) This is what keeps
// one-row claims fast enough.
//
// Handlers never see it (see handlerContext). The router's own steps that
// must commit with an ack (recording a dead letter, deferring a retry,
// moving a scheduled message to its topic) use it through within, which
// serialises them with the subscriber's ack and commit: a pgx connection
// must not be used by two goroutines, and the subscriber may finish the
// transaction (ack deadline, shutdown) while such a step is still running.
type subscriberTx struct {
	mu       sync.Mutex
	conn     *pgxpool.Conn
	begin    string      // the BEGIN statement, sent with the first query
	begun    bool        // BEGIN was sent
	ack      *wsql.Query // the ack query, sent with COMMIT
	done     bool
	onCommit []func()
}

var errSubscriberTxDone = errors.New("messaging: the subscriber's transaction has already ended")

// QueryContext runs the claim query, in one pipeline with BEGIN.
func (t *subscriberTx) QueryContext(ctx context.Context, query string, args ...any) (wsql.Rows, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return nil, errSubscriberTxDone
	}
	if t.begun {
		rows, err := t.conn.Query(ctx, query, args...)
		return pgxRows{rows}, err
	}
	t.begun = true
	b := &pgx.Batch{}
	b.Queue(t.begin)
	b.Queue(query, args...)
	br := t.conn.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		return nil, fmt.Errorf("messaging: begin subscriber transaction: %w", err)
	}
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return nil, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

// ExecContext keeps the ack query (ackedRowsOnly's, marked with
// ackQueryMarker) to send with COMMIT; any other statement runs at once.
// Neither is cancelled with the router's context, so that a router shutting
// down still records the acks of the messages it handled (instead of
// delivering them all again), within finishTimeout.
func (t *subscriberTx) ExecContext(ctx context.Context, query string, args ...any) (wsql.Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return nil, errSubscriberTxDone
	}
	if !strings.HasPrefix(query, ackQueryMarker) || !t.begun {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
		defer cancel()
		if !t.begun {
			if _, err := t.conn.Exec(ctx, t.begin); err != nil {
				return nil, fmt.Errorf("messaging: begin subscriber transaction: %w", err)
			}
			t.begun = true
		}
		tag, err := t.conn.Exec(ctx, query, args...)
		return result{tag}, err
	}
	if t.ack != nil {
		return nil, errors.New("messaging: a subscriber transaction acks once")
	}
	t.ack = &wsql.Query{Query: query, Args: args}
	return result{}, nil
}

// ackQueryMarker starts the ack query of ackedRowsOnly, which
// subscriberTx sends together with COMMIT.
const ackQueryMarker = "/* messaging: ack */ "

// Commit sends the ack query and COMMIT together, then runs the functions
// registered with afterCommit.
func (t *subscriberTx) Commit() error {
	t.mu.Lock()
	if t.done {
		t.mu.Unlock()
		return sql.ErrTxDone
	}
	t.done = true
	hooks := t.onCommit
	t.onCommit = nil
	err := t.finishLocked(true)
	t.mu.Unlock()
	if err != nil {
		return err
	}
	for _, h := range hooks {
		h()
	}
	return nil
}

// finishLocked ends the transaction (COMMIT, with the ack, or ROLLBACK) and
// releases the connection. A connection left inside a transaction by an
// error is closed by the pool on release, never reused.
func (t *subscriberTx) finishLocked(commit bool) error {
	defer t.conn.Release()
	if !t.begun {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), finishTimeout)
	defer cancel()
	if !commit {
		_, err := t.conn.Exec(ctx, "ROLLBACK")
		return err
	}
	b := &pgx.Batch{}
	if t.ack != nil {
		b.Queue(t.ack.Query, t.ack.Args...)
	}
	b.Queue("COMMIT")
	br := t.conn.SendBatch(ctx, b)
	var err error
	if t.ack != nil {
		if _, err = br.Exec(); err != nil {
			err = fmt.Errorf("messaging: ack: %w", err)
		}
	}
	if err == nil {
		var tag pgconn.CommandTag
		tag, err = br.Exec()
		if err == nil && tag.String() == "ROLLBACK" {
			err = pgx.ErrTxCommitRollback // the transaction had failed
		}
	}
	return errors.Join(err, br.Close())
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
	if t.done {
		return sql.ErrTxDone
	}
	t.done = true
	t.onCommit = nil
	return t.finishLocked(false)
}

// within runs fn in a savepoint of the transaction: fn's writes commit with
// the ack of the message being handled, and an error from fn undoes them
// without aborting the transaction (so the other rows of the claim are not
// lost with it). It fails once the subscriber has ended the transaction.
func (t *subscriberTx) within(ctx context.Context, fn func(pgx.Tx) error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return errSubscriberTxDone
	}
	if !t.begun {
		return errors.New("messaging: the subscriber's transaction has not begun")
	}
	conn := t.conn.Conn()
	if _, err := conn.Exec(ctx, "SAVEPOINT messaging_step"); err != nil {
		return fmt.Errorf("messaging: savepoint: %w", err)
	}
	if err := fn(savepointTx{conn: conn}); err != nil {
		if _, rbErr := conn.Exec(context.WithoutCancel(ctx), "ROLLBACK TO SAVEPOINT messaging_step"); rbErr != nil {
			return errors.Join(err, fmt.Errorf("messaging: roll back to savepoint: %w", rbErr))
		}
		return err
	}
	if _, err := conn.Exec(ctx, "RELEASE SAVEPOINT messaging_step"); err != nil {
		return fmt.Errorf("messaging: release savepoint: %w", err)
	}
	return nil
}

// savepointTx is the pgx.Tx that within hands its step: statements run on
// the subscriber's connection, inside the savepoint within manages. The step
// must not end it (within does), nor nest another.
type savepointTx struct{ conn *pgx.Conn }

var errStepTx = errors.New("messaging: a router step's savepoint is ended by within, not by the step")

func (s savepointTx) Begin(context.Context) (pgx.Tx, error) { return nil, errStepTx }
func (s savepointTx) Commit(context.Context) error          { return errStepTx }
func (s savepointTx) Rollback(context.Context) error        { return errStepTx }
func (s savepointTx) CopyFrom(ctx context.Context, t pgx.Identifier, c []string, src pgx.CopyFromSource) (int64, error) {
	return s.conn.CopyFrom(ctx, t, c, src)
}
func (s savepointTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return s.conn.SendBatch(ctx, b)
}
func (s savepointTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }
func (s savepointTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return s.conn.Prepare(ctx, name, sql)
}
func (s savepointTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return s.conn.Exec(ctx, sql, args...)
}
func (s savepointTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return s.conn.Query(ctx, sql, args...)
}
func (s savepointTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return s.conn.QueryRow(ctx, sql, args...)
}
func (s savepointTx) Conn() *pgx.Conn { return s.conn }

// batchRows are the claim's rows, read from the pipeline that began the
// transaction. The pipeline is closed as soon as the rows are read, so that
// the connection is free for the router's steps and the ack.
type batchRows struct {
	pgx.Rows
	br     pgx.BatchResults
	closed bool
}

func (r *batchRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	_ = r.closeBatch()
	return false
}

func (r *batchRows) closeBatch() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.Rows.Close()
	return errors.Join(r.Rows.Err(), r.br.Close())
}

func (r *batchRows) Close() error { return r.closeBatch() }

func (r *batchRows) Err() error { return r.Rows.Err() }

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
